package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * On a GPU (skipped without one, failing under {@code -Dbackprop.cuda.requireGpu=true}): the fused kernels give the
 * bits of the launches they replace, on the real device, for a dense layer's shapes at batch 128 and 600 (one and
 * several chunks of the bias sums) and for SGD and Adam over several tensors.
 */
class CudaFusedGpuTest {
    private static Backend backend;

    @BeforeAll
    static void create() {
        backend = CudaTestSupport.createOrSkip();
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
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
    void biasActivationForwardAndBackwardAreBitIdenticalToTheUnfusedOps() {
        CudaFused fused = ((CudaBackend) backend).fused();
        Random r = new Random(1);
        for (int rows : new int[] {128, 600}) {
            for (UnaryOp act : CudaFused.ACTIVATIONS) {
                int cols = 70;
                Buffer z = upload(random(r, rows * cols)), b = upload(random(r, cols)), g = upload(random(r, rows * cols));
                Buffer zb = backend.allocate(DType.FLOAT32, (long) rows * cols);
                Buffer y1 = backend.allocate(DType.FLOAT32, (long) rows * cols);
                Buffer y2 = backend.allocate(DType.FLOAT32, (long) rows * cols);
                backend.binary(BinaryOp.ADD, rows, cols, z, 0, Broadcast.FULL, b, 0, Broadcast.ROW, zb, 0);
                backend.unary(act, 0, 0, zb, 0, y1, 0, (long) rows * cols);
                fused.biasActivation(act, rows, cols, (CudaBuffer) z, 0, (CudaBuffer) b, 0, (CudaBuffer) y2, 0);
                assertArrayEquals(download(y1), download(y2), act + " forward, " + rows + " rows");

                Buffer dz1 = backend.allocate(DType.FLOAT32, (long) rows * cols);
                Buffer dz2 = backend.allocate(DType.FLOAT32, (long) rows * cols);
                Buffer db1 = backend.allocate(DType.FLOAT32, cols), db2 = backend.allocate(DType.FLOAT32, cols);
                backend.unaryBackward(act, 0, 0, zb, 0, g, 0, dz1, 0, (long) rows * cols);
                backend.reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, rows, cols, dz1, 0, db1, 0);
                fused.biasActivationBackward(act, rows, cols, (CudaBuffer) y2, 0, (CudaBuffer) g, 0,
                        (CudaBuffer) dz2, 0, (CudaBuffer) db2, 0);
                assertArrayEquals(download(dz1), download(dz2), act + " dz, " + rows + " rows");
                assertArrayEquals(download(db1), download(db2), act + " bias gradient, " + rows + " rows");
                for (Buffer x : List.of(z, b, g, zb, y1, y2, dz1, dz2, db1, db2)) {
                    backend.release(x);
                }
            }
        }
    }

    @Test
    void multiTensorUpdatesAreBitIdenticalToOneLaunchPerTensor() {
        CudaFused fused = ((CudaBackend) backend).fused();
        Random r = new Random(2);
        int[] sizes = {784 * 256, 256, 256 * 128, 128, 1280, 10};
        List<Buffer> one = new ArrayList<>(), all = new ArrayList<>(), grads = new ArrayList<>();
        List<Buffer> m1 = new ArrayList<>(), v1 = new ArrayList<>(), m2 = new ArrayList<>(), v2 = new ArrayList<>();
        List<CudaFused.AdamTensor> tensors = new ArrayList<>();
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
            int i = tensors.size();
            tensors.add(new CudaFused.AdamTensor(n, (CudaBuffer) all.get(i), 0, (CudaBuffer) grads.get(i), 0,
                    (CudaBuffer) m2.get(i), 0, (CudaBuffer) v2.get(i), 0));
        }
        for (int step = 1; step <= 3; step++) {
            for (int i = 0; i < sizes.length; i++) {
                backend.adamUpdate(sizes[i], one.get(i), 0, grads.get(i), 0, m1.get(i), 0, v1.get(i), 0, 1e-3, 0.9,
                        0.999, 1e-8, 0.01, true, step);
            }
            fused.adamUpdateAll(tensors, 1e-3, 0.9, 0.999, 1e-8, 0.01, true, step);
        }
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(download(one.get(i)), download(all.get(i)), "Adam tensor " + i);
            assertArrayEquals(download(v1.get(i)), download(v2.get(i)), "Adam v of tensor " + i);
        }
        List<CudaFused.SgdTensor> sgd = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            backend.sgdUpdate(sizes[i], one.get(i), 0, grads.get(i), 0, m1.get(i), 0, 0.1, 0.9, 0, false);
            sgd.add(new CudaFused.SgdTensor(sizes[i], (CudaBuffer) all.get(i), 0, (CudaBuffer) grads.get(i), 0,
                    (CudaBuffer) m2.get(i), 0));
        }
        fused.sgdUpdateAll(sgd, 0.1, 0.9, 0, false);
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(download(one.get(i)), download(all.get(i)), "SGD tensor " + i);
        }
    }
}
