package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * On a GPU (skipped without one, failing under {@code -Dbackprop.cuda.requireGpu=true}): the SPI's fused ops, which
 * run {@link CudaFused}'s kernels, give the bits of the SPI's defaults on the same backend's primitives (the
 * specification), for a dense layer's shapes at batch 128 and 600 (one and several chunks of the bias sums) and for
 * SGD and Adam over several tensors.
 */
class CudaFusedGpuTest {
    private static Backend backend;
    /** The same backend with the fused ops as the SPI's defaults: every other call goes to {@link #backend}. */
    private static Backend defaults;

    @BeforeAll
    static void create() {
        backend = CudaTestSupport.createOrSkip();
        defaults = defaultsOf(backend);
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    private static final Set<String> FUSED = Set.of("biasActivation", "biasActivationBackward", "sgdUpdateAll",
            "adamUpdateAll");

    /** {@code on} with its fused ops replaced by the interface's default methods, composed of its primitives. */
    static Backend defaultsOf(Backend on) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    try {
                        return FUSED.contains(method.getName()) ? InvocationHandler.invokeDefault(proxy, method, args)
                                : method.invoke(on, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static Buffer upload(float[] v) {
        return CudaTestSupport.upload(backend, v);
    }

    private static float[] download(Buffer b) {
        return CudaTestSupport.download(backend, b);
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() * 6 - 3;
        }
        return v;
    }

    @Test
    void biasActivationForwardAndBackwardAreBitIdenticalToTheDefaults() {
        Random r = new Random(1);
        for (int rows : new int[] {128, 600}) {
            for (UnaryOp act : Backend.FUSED_ACTIVATIONS) {
                int cols = 70;
                long n = (long) rows * cols;
                Buffer z = upload(random(r, rows * cols)), b = upload(random(r, cols)),
                        g = upload(random(r, rows * cols));
                Buffer y1 = backend.allocate(DType.FLOAT32, n), y2 = backend.allocate(DType.FLOAT32, n);
                defaults.biasActivation(act, rows, cols, z, 0, b, 0, y1, 0);
                backend.biasActivation(act, rows, cols, z, 0, b, 0, y2, 0);
                assertArrayEquals(download(y1), download(y2), act + " forward, " + rows + " rows");

                Buffer dz1 = backend.allocate(DType.FLOAT32, n), dz2 = backend.allocate(DType.FLOAT32, n);
                Buffer db1 = backend.allocate(DType.FLOAT32, cols), db2 = backend.allocate(DType.FLOAT32, cols);
                defaults.biasActivationBackward(act, rows, cols, y1, 0, g, 0, dz1, 0, db1, 0);
                backend.biasActivationBackward(act, rows, cols, y2, 0, g, 0, dz2, 0, db2, 0);
                assertArrayEquals(download(dz1), download(dz2), act + " dz, " + rows + " rows");
                assertArrayEquals(download(db1), download(db2), act + " bias gradient, " + rows + " rows");
                backend.biasActivationBackward(act, rows, cols, y2, 0, g, 0, g, 0, db2, 0);
                assertArrayEquals(download(dz1), download(g), act + " dz written over g, " + rows + " rows");
                for (Buffer x : List.of(z, b, g, y1, y2, dz1, dz2, db1, db2)) {
                    backend.release(x);
                }
            }
        }
    }

    @Test
    void multiTensorUpdatesAreBitIdenticalToOneUpdatePerTensor() {
        Random r = new Random(2);
        int[] sizes = {784 * 256, 256, 256 * 128, 128, 1280, 10};
        List<Buffer> one = new ArrayList<>(), all = new ArrayList<>(), grads = new ArrayList<>();
        List<Buffer> m1 = new ArrayList<>(), v1 = new ArrayList<>(), m2 = new ArrayList<>(), v2 = new ArrayList<>();
        List<Backend.AdamTensor> adam1 = new ArrayList<>(), adam2 = new ArrayList<>();
        for (int n : sizes) {
            float[] p = random(r, n);
            one.add(upload(p));
            all.add(upload(p));
            grads.add(upload(random(r, n)));
            for (List<Buffer> s : List.of(m1, v1, m2, v2)) {
                Buffer z = backend.allocate(DType.FLOAT32, n);
                backend.fill(z, 0, n, 0);
                s.add(z);
            }
            int i = adam1.size();
            adam1.add(new Backend.AdamTensor(n, one.get(i), 0, grads.get(i), 0, m1.get(i), 0, v1.get(i), 0));
            adam2.add(new Backend.AdamTensor(n, all.get(i), 0, grads.get(i), 0, m2.get(i), 0, v2.get(i), 0));
        }
        for (int step = 1; step <= 3; step++) {
            defaults.adamUpdateAll(adam1, 1e-3, 0.9, 0.999, 1e-8, 0.01, true, step);
            backend.adamUpdateAll(adam2, 1e-3, 0.9, 0.999, 1e-8, 0.01, true, step);
        }
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(download(one.get(i)), download(all.get(i)), "Adam tensor " + i);
            assertArrayEquals(download(v1.get(i)), download(v2.get(i)), "Adam v of tensor " + i);
        }
        List<Backend.SgdTensor> sgd1 = new ArrayList<>(), sgd2 = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            sgd1.add(new Backend.SgdTensor(sizes[i], one.get(i), 0, grads.get(i), 0, m1.get(i), 0));
            sgd2.add(new Backend.SgdTensor(sizes[i], all.get(i), 0, grads.get(i), 0, m2.get(i), 0));
        }
        defaults.sgdUpdateAll(sgd1, 0.1, 0.9, 0, false);
        backend.sgdUpdateAll(sgd2, 0.1, 0.9, 0, false);
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(download(one.get(i)), download(all.get(i)), "SGD tensor " + i);
        }
    }
}
