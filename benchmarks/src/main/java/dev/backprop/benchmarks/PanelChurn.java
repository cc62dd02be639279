package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Heap allocated per training step by a weight read twice between updates (a tied {@code n × n} dense layer applied
 * twice: two products with the transposed weight, the two gradient products, an SGD update), per backend setting;
 * on the cpu backend this shows kept GEMM panels packed on each step only to be dropped by its update.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.backprop.benchmarks.PanelChurn \
 *      N ROWS STEPS [TARGET ...]
 *   TARGET: a backend name with options, as for GemmPairs (default: cpu:gemm.keep=false cpu)
 * e.g. PanelChurn 512 128 200
 * </pre>
 * One thread, so every allocation is the calling thread's ({@code ThreadMXBean.getThreadAllocatedBytes}); after a
 * warm-up of as many steps, it prints the bytes per step and the bytes of one copy of the weight for scale.
 */
public final class PanelChurn {
    private PanelChurn() {
    }

    /** Runs the measurement described in the class comment and prints one line per target. */
    public static void main(String[] args) {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: PanelChurn N ROWS STEPS [TARGET ...]");
        }
        int n = Integer.parseInt(args[0]), rows = Integer.parseInt(args[1]), steps = Integer.parseInt(args[2]);
        List<String> specs = args.length > 3 ? List.of(args).subList(3, args.length)
                : List.of("cpu:gemm.keep=false", "cpu");
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        System.out.printf(Locale.ROOT, "# PanelChurn n=%d rows=%d steps=%d; one weight copy: %,d bytes%n", n, rows,
                steps, (long) n * n * Float.BYTES);
        for (String spec : specs) {
            try (Backend be = GemmPairs.backend(spec, 1)) {
                Step s = new Step(be, n, rows);
                s.run(steps);
                long before = mx.getThreadAllocatedBytes(thread);
                s.run(steps);
                long per = (mx.getThreadAllocatedBytes(thread) - before) / steps;
                System.out.printf(Locale.ROOT, "%-24s %,12d bytes per step%n", spec, per);
                s.release();
            }
        }
    }

    /** The buffers of one tied-layer step: X, W, both activations, their gradients and W's gradient. */
    private static final class Step {
        final Backend be;
        final int n;
        final int rows;
        final Buffer x;
        final Buffer w;
        final Buffer h1;
        final Buffer h2;
        final Buffer dh1;
        final Buffer dw;

        Step(Backend be, int n, int rows) {
            this.be = be;
            this.n = n;
            this.rows = rows;
            Random r = new Random(1);
            float[] wv = new float[n * n], xv = new float[rows * n];
            for (int i = 0; i < wv.length; i++) {
                wv[i] = (r.nextFloat() - 0.5f) / n;
            }
            for (int i = 0; i < xv.length; i++) {
                xv[i] = r.nextFloat();
            }
            x = be.allocate(DType.FLOAT32, (long) rows * n);
            w = be.allocate(DType.FLOAT32, (long) n * n);
            be.upload(xv, 0, x, 0, xv.length);
            be.upload(wv, 0, w, 0, wv.length);
            h1 = be.allocate(DType.FLOAT32, (long) rows * n);
            h2 = be.allocate(DType.FLOAT32, (long) rows * n);
            dh1 = be.allocate(DType.FLOAT32, (long) rows * n);
            dw = be.allocate(DType.FLOAT32, (long) n * n);
        }

        /** {@code steps} steps: H1 = X·Wᵀ, H2 = H1·Wᵀ, dH1 = H2·W (H2 as its own gradient), dW, update. */
        void run(int steps) {
            for (int i = 0; i < steps; i++) {
                be.gemm(false, true, rows, n, n, 1, x, 0, n, w, 0, n, 0, h1, 0, n, 1, 0, 0, 0);
                be.gemm(false, true, rows, n, n, 1, h1, 0, n, w, 0, n, 0, h2, 0, n, 1, 0, 0, 0);
                be.gemm(false, false, rows, n, n, 1, h2, 0, n, w, 0, n, 0, dh1, 0, n, 1, 0, 0, 0);
                be.gemm(true, false, n, n, rows, 1, h2, 0, n, h1, 0, n, 0, dw, 0, n, 1, 0, 0, 0);
                be.gemm(true, false, n, n, rows, 1, dh1, 0, n, x, 0, n, 1, dw, 0, n, 1, 0, 0, 0);
                be.sgdUpdate((long) n * n, w, 0, dw, 0, null, 0, 1e-6, 0, 0, false);
            }
        }

        void release() {
            for (Buffer b : new Buffer[] {x, w, h1, h2, dh1, dw}) {
                be.release(b);
            }
        }
    }
}
