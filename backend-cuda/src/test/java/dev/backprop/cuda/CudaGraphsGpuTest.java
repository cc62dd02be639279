package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a GPU (skipped without one, failing under {@code -Dbackprop.cuda.requireGpu=true}): a small training-like step
 * (cuBLAS GEMM, fused bias + ReLU, a temporary from the pool) handed to {@link Backend#runStep} on a backend with
 * graphs on, captured as a CUDA graph and replayed, with the SGD update after it, gives the bits of the same steps
 * on a backend with graphs off; an upload inside the step is refused under capture and the step runs eagerly.
 */
class CudaGraphsGpuTest {
    private static Backend eager;
    private static Backend graphs;

    @BeforeAll
    static void create() {
        eager = CudaTestSupport.createOrSkip();
        graphs = CudaTestSupport.createOrSkip(BackendOptions.of(Map.of("graphs", "true")));
    }

    @AfterAll
    static void close() {
        for (Backend b : new Backend[] {graphs, eager}) {
            if (b != null) {
                b.close();
            }
        }
    }

    /** y = relu(x·wᵀ + b), gw = yᵀ·x (a gradient-shaped product), through a pooled temporary. */
    private static void work(Backend on, Buffer x, Buffer w, Buffer b, Buffer y, Buffer gw, int n, int in, int out) {
        on.gemm(false, true, n, out, in, 1.0, x, 0, in, w, 0, in, 0.0, y, 0, out, 1, 0, 0, 0);
        on.biasActivation(UnaryOp.RELU, n, out, y, 0, b, 0, y, 0);
        Buffer t = on.allocate(DType.FLOAT32, (long) n * out);
        on.copy(y, 0, t, 0, (long) n * out);
        on.gemm(true, false, out, in, n, 1.0, t, 0, out, x, 0, in, 0.0, gw, 0, in, 1, 0, 0, 0);
        on.release(t);
    }

    /** The step's buffers on one backend, the same values on both. */
    private record Step(Backend on, Buffer x, Buffer w, Buffer b, Buffer y, Buffer gw) {
        static Step of(Backend on, float[] xs, float[] ws, float[] bs, int n, int out) {
            return new Step(on, CudaTestSupport.upload(on, xs), CudaTestSupport.upload(on, ws),
                    CudaTestSupport.upload(on, bs), on.allocate(DType.FLOAT32, (long) n * out),
                    on.allocate(DType.FLOAT32, ws.length));
        }

        boolean run(int n, int in, int out) {
            boolean ran = on.runStep(List.of(n, in, out, w, gw), List.of(x, w, b, y, gw),
                    () -> work(on, x, w, b, y, gw, n, in, out));
            on.sgdUpdateAll(List.of(new Backend.SgdTensor(w.size(), w, 0, gw, 0, null, 0)), 0.01, 0, 0, false);
            return ran;
        }
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
        Step e = Step.of(eager, xs, ws, bs, n, out), g = Step.of(graphs, xs, ws, bs, n, out);
        List<Boolean> ran = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            assertTrue(e.run(n, in, out));
            ran.add(g.run(n, in, out));
        }
        CudaGraphs cache = ((CudaBackend) graphs).stepRecorder();
        assertEquals(1, cache.captures());
        assertEquals(List.of(true, true, false, false, false, false), ran, "warm-up, capture, then replays");
        assertArrayEquals(CudaTestSupport.download(eager, e.w()), CudaTestSupport.download(graphs, g.w()),
                "weights after " + steps + " steps");
        assertArrayEquals(CudaTestSupport.download(eager, e.y()), CudaTestSupport.download(graphs, g.y()),
                "the last step's activations");
    }

    @Test
    void anUploadInsideTheStepIsRefusedUnderCaptureAndTheStepRunsEagerly() {
        Buffer a = graphs.allocate(DType.FLOAT32, 4);
        CudaGraphs cache = ((CudaBackend) graphs).stepRecorder();
        int refused = cache.refusals();
        float[] value = {1};
        for (int s = 0; s < 4; s++) {
            value[0] = s;
            assertTrue(graphs.runStep(List.of("upload", a), List.of(a), () -> {
                graphs.upload(value, 0, a, 0, 1);
                graphs.unary(UnaryOp.NEG, 0, 0, a, 0, a, 1, 1);
            }));
            assertArrayEquals(new float[] {s, -s}, Arrays.copyOf(CudaTestSupport.download(graphs, a), 2));
        }
        assertEquals(refused + 1, cache.refusals());
        graphs.release(a);
    }
}
