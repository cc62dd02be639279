package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The fused ops against the SPI's defaults on one OpenCL backend, for an MLP step's part they replace (batch 128):
 * every layer's bias + activation forward, its backward with the bias gradient, and the SGD (momentum 0.9) or Adam
 * step of every parameter tensor; GEMMs, loss and transfers aside. Rounds alternate between the two (so both see the
 * same machine load), each timed to completion ({@code synchronize}); prints launches per step and the best and
 * median milliseconds per step of each.
 * A measuring tool, not a test: {@code OpenClFusedProfile [rounds] [widths...]} (defaults 200, 784 64 10).
 */
public final class OpenClFusedProfile {
    private static final int BATCH = 128;

    private OpenClFusedProfile() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int[] widths = args.length > 2 ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {784, 64, 10};
        try (OpenClBackend be = (OpenClBackend) new OpenClBackendProvider().create(BackendOptions.defaults())) {
            System.out.println("opencl: " + be.device().describe() + "; MLP " + Arrays.toString(widths) + ", batch "
                    + BATCH + ", " + rounds + " rounds each");
            Backend unfused = FusedRuns.unfused(be);
            for (boolean adam : new boolean[] {false, true}) {
                Step step = new Step(be, widths, adam);
                try {
                    double[][] ms = new double[2][rounds];
                    long[] launches = new long[2];
                    for (int r = -10; r < rounds; r++) { // 10 rounds each to warm up
                        for (int v = 0; v < 2; v++) {
                            Backend b = v == 0 ? unfused : be;
                            be.synchronize();
                            long before = be.kernelLaunches(), t0 = System.nanoTime();
                            step.run(b, r + 11);
                            be.synchronize();
                            if (r >= 0) {
                                ms[v][r] = (System.nanoTime() - t0) / 1e6;
                                launches[v] = be.kernelLaunches() - before;
                            }
                        }
                    }
                    for (int v = 0; v < 2; v++) {
                        Arrays.sort(ms[v]);
                        System.out.printf(Locale.ROOT, "%-4s %-7s %3d launches/step, best %.3f ms, median %.3f ms%n",
                                adam ? "Adam" : "SGD", v == 0 ? "unfused" : "fused", launches[v], ms[v][0],
                                ms[v][rounds / 2]);
                    }
                } finally {
                    step.release();
                }
            }
        }
    }

    /** The buffers of an MLP's epilogues and update, and one step's fused-op calls on them. */
    private static final class Step {
        private final Backend be;
        private final int[] widths;
        private final boolean adam;
        private final List<Buffer> live = new ArrayList<>();
        private final Buffer[] act, grad;
        private final List<Backend.SgdTensor> sgd = new ArrayList<>();
        private final List<Backend.AdamTensor> adamTensors = new ArrayList<>();

        Step(Backend be, int[] widths, boolean adam) {
            this.be = be;
            this.widths = widths;
            this.adam = adam;
            int layers = widths.length - 1;
            act = new Buffer[layers];
            grad = new Buffer[layers];
            for (int l = 0; l < layers; l++) {
                act[l] = filled((long) BATCH * widths[l + 1], 0.25);
                grad[l] = filled((long) BATCH * widths[l + 1], 0.01);
                for (long n : new long[] {(long) widths[l] * widths[l + 1], widths[l + 1]}) {
                    Buffer p = filled(n, 0.5), g = filled(n, 0.001), m = filled(n, 0), v = filled(n, 0);
                    sgd.add(new Backend.SgdTensor(n, p, 0, g, 0, m, 0));
                    adamTensors.add(new Backend.AdamTensor(n, p, 0, g, 0, m, 0, v, 0));
                }
            }
        }

        private Buffer filled(long n, double value) {
            Buffer b = be.allocate(DType.FLOAT32, n);
            live.add(b);
            be.fill(b, 0, n, value);
            return b;
        }

        /** Forward epilogues (ReLU, the last identity), backward ones in reverse, then the optimizer. */
        void run(Backend b, long stepNumber) {
            int layers = widths.length - 1;
            for (int l = 0; l < layers; l++) {
                UnaryOp a = l == layers - 1 ? UnaryOp.IDENTITY : UnaryOp.RELU;
                b.biasActivation(a, BATCH, widths[l + 1], act[l], 0, sgd.get(2 * l + 1).param(), 0, act[l], 0);
            }
            for (int l = layers - 1; l >= 0; l--) {
                UnaryOp a = l == layers - 1 ? UnaryOp.IDENTITY : UnaryOp.RELU;
                b.biasActivationBackward(a, BATCH, widths[l + 1], act[l], 0, grad[l], 0, grad[l], 0,
                        sgd.get(2 * l + 1).grad(), 0);
            }
            if (adam) {
                b.adamUpdateAll(adamTensors, 1e-3, 0.9, 0.999, 1e-8, 0, false, stepNumber);
            } else {
                b.sgdUpdateAll(sgd, 0.01, 0.9, 0, false);
            }
        }

        void release() {
            live.forEach(be::release);
        }
    }
}
