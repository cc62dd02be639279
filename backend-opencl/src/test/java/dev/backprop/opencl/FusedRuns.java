package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * What the fused-op tests compare: an op run by the backend's own fused kernels against the SPI's default of the
 * same op (its composition of primitives) on the same backend, every buffer it could touch downloaded from both.
 */
final class FusedRuns {
    /** The SPI methods whose defaults {@link #unfused} keeps. */
    private static final Set<String> FUSED = Set.of("biasActivation", "biasActivationBackward", "sgdUpdateAll",
            "adamUpdateAll");

    private FusedRuns() {
    }

    /**
     * {@code backend} with its fused ops replaced by the SPI's defaults, which run on its primitives; every other
     * call goes to {@code backend} itself, so buffers are shared between the two.
     */
    static Backend unfused(Backend backend) {
        InvocationHandler h = (proxy, method, args) -> {
            if (FUSED.contains(method.getName())) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            try {
                return method.invoke(backend, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    /** The floating dtypes the backend offers. */
    static List<DType> floatingDtypes(Backend backend) {
        return backend.capabilities().float64() ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32);
    }

    /**
     * Uploads each of {@code inputs} (rounded to {@code dtype}) into a buffer of its own, runs {@code op} on
     * {@code backend} and those buffers, and returns every buffer's contents after it.
     */
    static double[][] run(Backend backend, DType dtype, double[][] inputs, BiConsumer<Backend, Buffer[]> op) {
        Buffer[] buffers = new Buffer[inputs.length];
        try {
            for (int i = 0; i < inputs.length; i++) {
                buffers[i] = backend.allocate(dtype, inputs[i].length);
                put(backend, buffers[i], inputs[i]);
            }
            op.accept(backend, buffers);
            double[][] out = new double[inputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                out[i] = get(backend, buffers[i]);
            }
            return out;
        } finally {
            for (Buffer b : buffers) {
                if (b != null) {
                    backend.release(b);
                }
            }
        }
    }

    /** {@link #run} on {@code fused} and on {@link #unfused}{@code (fused)}: every buffer equal bit for bit. */
    static void assertSameBits(String what, Backend fused, DType dtype, double[][] inputs,
                               BiConsumer<Backend, Buffer[]> op) {
        double[][] want = run(unfused(fused), dtype, inputs, op);
        double[][] got = run(fused, dtype, inputs, op);
        for (int i = 0; i < inputs.length; i++) {
            assertArrayEquals(want[i], got[i], what + " " + dtype + ", buffer " + i);
        }
    }

    private static void put(Backend backend, Buffer b, double[] v) {
        if (b.dtype() == DType.FLOAT64) {
            backend.upload(v, 0, b, 0, v.length);
            return;
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        backend.upload(f, 0, b, 0, f.length);
    }

    static double[] get(Backend backend, Buffer b) {
        int n = (int) b.size();
        double[] out = new double[n];
        if (b.dtype() == DType.FLOAT64) {
            backend.download(b, 0, out, 0, n);
            return out;
        }
        float[] f = new float[n];
        backend.download(b, 0, f, 0, n);
        for (int i = 0; i < n; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** A buffer's contents of {@code size} elements: {@code values} from {@code from} on, {@code pad} elsewhere. */
    static double[] padded(double[] values, int from, int size, double pad) {
        double[] out = new double[size];
        Arrays.fill(out, pad);
        System.arraycopy(values, 0, out, from, values.length);
        return out;
    }
}
