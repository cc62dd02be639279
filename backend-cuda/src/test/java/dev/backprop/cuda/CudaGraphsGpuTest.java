package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * On a GPU (skipped without one, failing under {@code -Dbackprop.cuda.requireGpu=true}): a small training-like step
 * (cuBLAS GEMM, bias add, ReLU, a temporary from the pool, SGD) captured as a CUDA graph and replayed gives the bits
 * of the same steps run eagerly, with cuBLAS inside the capture on its own workspace.
 */
class CudaGraphsGpuTest {
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

    /** y = relu(x·wᵀ + b); w -= 0.01·(yᵀ·x) (a gradient-shaped product), through a pooled temporary. */
    private static void step(Buffer x, Buffer w, Buffer b, Buffer y, int n, int in, int out) {
        backend.gemm(false, true, n, out, in, 1.0, x, 0, in, w, 0, in, 0.0, y, 0, out, 1, 0, 0, 0);
        backend.binary(BinaryOp.ADD, n, out, y, 0, Broadcast.FULL, b, 0, Broadcast.ROW, y, 0);
        backend.unary(UnaryOp.RELU, 0, 0, y, 0, y, 0, (long) n * out);
        Buffer gw = backend.allocate(DType.FLOAT32, (long) out * in);
        backend.gemm(true, false, out, in, n, 1.0, y, 0, out, x, 0, in, 0.0, gw, 0, in, 1, 0, 0, 0);
        backend.sgdUpdate((long) out * in, w, 0, gw, 0, null, 0, 0.01, 0, 0, false);
        backend.release(gw);
    }

    @Test
    void aCapturedStepReplaysTheEagerStepsBits() {
        int n = 128, in = 784, out = 64, steps = 6;
        Random r = new Random(3);
        float[] xs = new float[n * in], ws = new float[out * in], bs = new float[out];
        for (float[] a : List.of(xs, ws, bs)) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (r.nextFloat() - 0.5f) * 0.1f;
            }
        }
        Buffer x = upload(xs), b = upload(bs);
        Buffer wEager = upload(ws), wGraph = upload(ws);
        Buffer yEager = backend.allocate(DType.FLOAT32, (long) n * out);
        Buffer yGraph = backend.allocate(DType.FLOAT32, (long) n * out);
        // First: it gives cuBLAS the capture workspace, which may change its choice of algorithm for every GEMM.
        CudaGraphs graphs = ((CudaBackend) backend).graphs();
        for (int s = 0; s < steps; s++) {
            step(x, wEager, b, yEager, n, in, out);
        }
        CudaGraphs.Key key = new CudaGraphs.Key(List.of(n, in), List.of((long) System.identityHashCode(wGraph)));
        for (int s = 0; s < steps; s++) {
            graphs.step(key, List.of(), () -> step(x, wGraph, b, yGraph, n, in, out));
        }
        assertEquals(1, graphs.captures());
        assertEquals(steps - 2, graphs.replays(), "one eager warm-up, one capture, then replays");
        assertArrayEquals(download(wEager), download(wGraph), "weights after " + steps + " steps");
        assertArrayEquals(download(yEager), download(yGraph), "the last step's activations");
    }
}
