package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several threads at once. A thread-safe backend must give every thread the right answers (each thread runs
 * gemm, softmax, column sums and relu on its own inputs and a shared weight tensor, and checks them against
 * reference results computed beforehand); a confined one must refuse a call from another thread with an
 * {@link IllegalStateException} that says so.
 */
final class ConcurrencyCases {
    private ConcurrencyCases() {
    }

    static final int THREADS = 4;
    static final int ITERATIONS = 25;
    private static final int ROWS = 33, INNER = 29, COLS = 17;

    /** One thread's inputs ({@code x} for the gemm, {@code z} for the rest) and their reference results. */
    private record Expected(double[] x, double[] z, double[] gemm, double[] gemmTerms, double[] softmax,
                            double[] colSums, double[] colTerms, double[] relu) {
    }

    static void run(Oracle o) throws InterruptedException, ExecutionException {
        Backend be = o.backend();
        if (!be.capabilities().threadSafe()) {
            confined(be);
            return;
        }
        double[] w = Inputs.uniform(1, INNER * COLS, -1, 1, DType.FLOAT32);
        List<Expected> expected = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            expected.add(expected(o, w, Inputs.uniform(100 + t, ROWS * INNER, -1, 1, DType.FLOAT32),
                    Inputs.uniform(200 + t, ROWS * COLS, -3, 3, DType.FLOAT32)));
        }
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        try (Scope scope = Scope.open()) {
            Tensor shared = o.actual(DType.FLOAT32, w, INNER, COLS);
            for (int t = 0; t < THREADS; t++) {
                Expected e = expected.get(t);
                int id = t;
                futures.add(CompletableFuture.runAsync(() -> work(o, shared, e, id, start),
                        runnable -> new Thread(runnable, "contract-worker-" + id).start()));
            }
            start.countDown();
            for (CompletableFuture<Void> f : futures) {
                try {
                    f.get(5, TimeUnit.MINUTES);
                } catch (java.util.concurrent.TimeoutException ex) {
                    throw new AssertionError("a worker thread did not finish in 5 minutes (deadlock?)", ex);
                }
            }
        }
    }

    private static Expected expected(Oracle o, double[] w, double[] x, double[] z) {
        try (Scope scope = Scope.open()) {
            Tensor h = MatMul.matmul(o.truth(DType.FLOAT32, x, ROWS, INNER), o.truth(DType.FLOAT32, w, INNER, COLS));
            Tensor terms = MatMul.matmul(o.truth(DType.FLOAT32, Inputs.abs(x), ROWS, INNER),
                    o.truth(DType.FLOAT32, Inputs.abs(w), INNER, COLS));
            Tensor rz = o.truth(DType.FLOAT32, z, ROWS, COLS);
            Tensor absZ = o.truth(DType.FLOAT32, Inputs.abs(z), ROWS, COLS);
            return new Expected(x, z, h.toDoubles(), terms.toDoubles(), Softmax.softmax(rz).toDoubles(),
                    Reductions.sumPerColumn(rz).toDoubles(), Reductions.sumPerColumn(absZ).toDoubles(),
                    Elementwise.unary(UnaryOp.RELU, rz).toDoubles());
        }
    }

    private static void work(Oracle o, Tensor shared, Expected e, int id, CountDownLatch start) {
        try {
            start.await();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
        for (int i = 0; i < ITERATIONS; i++) {
            String what = "thread " + id + " iteration " + i;
            try (Scope scope = Scope.open()) {
                Tensor x = o.actual(DType.FLOAT32, e.x, ROWS, INNER);
                Tolerance.bounded(what + " gemm", DType.FLOAT32, e.gemm, MatMul.matmul(x, shared).toDoubles(),
                        e.gemmTerms);
                Tensor z = o.actual(DType.FLOAT32, e.z, ROWS, COLS);
                Tolerance.elementwise(what + " softmax", DType.FLOAT32, e.softmax, Softmax.softmax(z).toDoubles());
                Tolerance.bounded(what + " column sums", DType.FLOAT32, e.colSums,
                        Reductions.sumPerColumn(z).toDoubles(), e.colTerms);
                Tolerance.exact(what + " relu", e.relu, Elementwise.unary(UnaryOp.RELU, z).toDoubles());
            }
        }
    }

    private static void confined(Backend be) throws InterruptedException {
        Tensor t = Tensor.zeros(be, DType.FLOAT32, 8);
        try {
            Throwable[] seen = new Throwable[1];
            Thread other = new Thread(() -> {
                try {
                    Elementwise.fill(t, 1);
                } catch (Throwable ex) {
                    seen[0] = ex;
                }
            }, "contract-intruder");
            other.start();
            other.join();
            assertTrue(seen[0] instanceof IllegalStateException, "capabilities().threadSafe() is false, so a call "
                    + "from another thread must throw IllegalStateException; got " + seen[0]);
            String msg = seen[0].getMessage();
            assertFalse(msg == null || msg.isBlank(), "the confinement error explains itself");
            assertTrue(msg.toLowerCase(java.util.Locale.ROOT).contains("thread"), "the confinement error mentions the"
                    + " thread: " + msg);
        } finally {
            t.close();
        }
    }
}
