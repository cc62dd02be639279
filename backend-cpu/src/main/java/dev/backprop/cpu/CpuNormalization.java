package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;
import dev.backprop.random.Philox;

/**
 * Batch normalization and dropout on the cpu backend.
 *
 * <h2>Batch normalization</h2>
 * The input is {@code [n, c, s]}: channel {@code ch} is {@code n} runs of {@code s} contiguous elements. Channels
 * are split over the pool; within a channel the runs are visited in order, so sums never depend on the split. Every
 * pass over a run is one kernel call ({@link F32Kernels}, Vector API or scalar; {@link F64Kernels}) on contiguous
 * memory:
 * <ul>
 *   <li>statistics: the run sums, then the sums of squared deviations from the mean (two passes, so a large mean
 *       does not cancel; the float kernels keep partial sums in double);</li>
 *   <li>forward: {@code y = a·(x - mean) + beta} in one pass, with {@code a = gamma/sqrt(var + eps)} computed once
 *       per channel in double. Folding the mean into the shift ({@code a·x + (beta - mean·a)}) would cancel at the
 *       scale of {@code a·mean}: a constant channel of 7 came out as -2.4e-4 instead of beta;</li>
 *   <li>backward: {@code Σdy} and {@code Σdy·(x - mean)} per channel, then, as PyTorch,
 *       {@code dx = a·(dy - mean(dy) - x̂·mean(dy·x̂))} in one pass as {@code a·dy + b·(x - mean) + k}, the
 *       per-channel constants computed in double. The deviation is taken before the multiplication for the reason
 *       of the forward pass: {@code b·x + (k - b·mean)} cancels at the scale of {@code b·mean} (dx of a channel
 *       near 1e4 with spread 1e-2 was off by 0.1 of its largest value).</li>
 * </ul>
 *
 * <h2>Dropout</h2>
 * The mask words come from {@link Philox} for each piece of {@link #DROPOUT_PIECE} elements into a workspace,
 * then one kernel call applies the keep test and the multiplication (rounded once, so results equal the definition
 * bit for bit in both modes). Pieces start at multiples of 4 elements, on Philox block boundaries.
 */
final class CpuNormalization implements OpFamilies.Normalization<CpuBuffer> {
    /** Elements per dropout piece: the mask words of one piece (8 KiB) stay in L1 for the kernel. */
    static final int DROPOUT_PIECE = 2048;
    /** Elements per parallel piece, as for the elementwise ops. */
    private static final long PARALLEL_MIN = CpuElementwise.PARALLEL_MIN;

    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    private final F32Kernels f32;
    private final F64Kernels f64 = new F64Kernels();

    CpuNormalization(CpuThreads threads, CpuWorkspaces workspaces, F32Kernels f32) {
        this.threads = threads;
        this.workspaces = workspaces;
        this.f32 = f32;
    }

    /** Runs {@code body} for every channel, split over the pool by the channel's {@code n·s} elements. */
    private void overChannels(int n, int c, int s, IntTask body) {
        long perChannel = Math.max(1, (long) n * s);
        threads.parallelRange(c, Math.max(1, PARALLEL_MIN / perChannel), 1, (c0, count) -> {
            for (int ch = c0; ch < c0 + count; ch++) {
                body.run(ch);
            }
        });
    }

    private interface IntTask {
        void run(int i);
    }

    @Override
    public void batchNormStats(int n, int c, int s, CpuBuffer x, long xOffset, CpuBuffer mean, long meanOffset,
                               CpuBuffer var, long varOffset) {
        int xo = (int) xOffset, mo = (int) meanOffset, vo = (int) varOffset;
        double m = (double) n * s;
        boolean f64Type = x.dtype() == DType.FLOAT64;
        overChannels(n, c, s, ch -> {
            double sum = 0;
            for (int img = 0; img < n; img++) {
                int run = xo + (img * c + ch) * s;
                sum += f64Type ? f64.sum(x.doubles(), run, s) : f32.sum(x.floats(), run, s);
            }
            double mu = sum / m;
            double sq = 0;
            float muF = (float) mu;
            for (int img = 0; img < n; img++) {
                int run = xo + (img * c + ch) * s;
                sq += f64Type ? f64.sumSquaredDeviations(x.doubles(), run, s, mu)
                        : f32.sumSquaredDeviations(x.floats(), run, s, muF);
            }
            if (f64Type) {
                mean.doubles()[mo + ch] = mu;
                var.doubles()[vo + ch] = sq / m;
            } else {
                // The float mean's own rounding adds (mu - muF)² to the mean square deviation: take it out.
                double shift = mu - muF;
                mean.floats()[mo + ch] = muF;
                var.floats()[vo + ch] = (float) Math.max(0, sq / m - shift * shift);
            }
        });
    }

    @Override
    public void batchNormForward(int n, int c, int s, double eps, CpuBuffer x, long xOffset, CpuBuffer mean,
                                 long meanOffset, CpuBuffer var, long varOffset, CpuBuffer gamma, long gammaOffset,
                                 CpuBuffer beta, long betaOffset, CpuBuffer y, long yOffset) {
        int xo = (int) xOffset, yo = (int) yOffset;
        Channel p = new Channel(mean, (int) meanOffset, var, (int) varOffset, gamma, (int) gammaOffset, eps);
        boolean f64Type = x.dtype() == DType.FLOAT64;
        overChannels(n, c, s, ch -> {
            double mu = p.mean(ch), a = p.gamma(ch) * p.invStd(ch), b = p.value(beta, (int) betaOffset + ch);
            for (int img = 0; img < n; img++) {
                int at = (img * c + ch) * s;
                if (f64Type) {
                    f64.scaleShiftDeviations(x.doubles(), xo + at, mu, a, b, y.doubles(), yo + at, s);
                } else {
                    f32.scaleShiftDeviations(x.floats(), xo + at, (float) mu, (float) a, (float) b, y.floats(),
                            yo + at, s);
                }
            }
        });
    }

    @Override
    public void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, CpuBuffer x, long xOffset,
                                  CpuBuffer dy, long dyOffset, CpuBuffer mean, long meanOffset, CpuBuffer var,
                                  long varOffset, CpuBuffer gamma, long gammaOffset, CpuBuffer dx, long dxOffset,
                                  CpuBuffer dgamma, long dgammaOffset, CpuBuffer dbeta, long dbetaOffset) {
        int xo = (int) xOffset, go = (int) dyOffset, dxo = (int) dxOffset;
        Channel p = new Channel(mean, (int) meanOffset, var, (int) varOffset, gamma, (int) gammaOffset, eps);
        boolean f64Type = x.dtype() == DType.FLOAT64;
        double m = (double) n * s;
        overChannels(n, c, s, ch -> {
            double mu = p.mean(ch), inv = p.invStd(ch), g = p.gamma(ch);
            double sumDy = 0, sumDyXc = 0;
            for (int img = 0; img < n; img++) {
                int at = (img * c + ch) * s;
                if (f64Type) {
                    sumDy += f64.sum(dy.doubles(), go + at, s);
                    sumDyXc += f64.sumProductDeviations(dy.doubles(), go + at, x.doubles(), xo + at, s, mu);
                } else {
                    sumDy += f32.sum(dy.floats(), go + at, s);
                    sumDyXc += f32.sumProductDeviations(dy.floats(), go + at, x.floats(), xo + at, s, (float) mu);
                }
            }
            // dx = g·inv·(dy - Σdy/M - x̂·Σ(dy·x̂)/M) = a·dy + b·(x - mean) + k, with x̂ = (x - mean)·inv
            double a = g * inv;
            double b = batchStats ? -a * inv * inv * sumDyXc / m : 0;
            double k = batchStats ? -a * sumDy / m : 0;
            for (int img = 0; img < n; img++) {
                int at = (img * c + ch) * s;
                if (f64Type) {
                    f64.combineDeviations(dy.doubles(), go + at, a, x.doubles(), xo + at, mu, b, k, dx.doubles(),
                            dxo + at, s);
                } else {
                    f32.combineDeviations(dy.floats(), go + at, (float) a, x.floats(), xo + at, (float) mu, (float) b,
                            (float) k, dx.floats(), dxo + at, s);
                }
            }
            p.store(dgamma, (int) dgammaOffset + ch, sumDyXc * inv);
            p.store(dbeta, (int) dbetaOffset + ch, sumDy);
        });
    }

    /** Per-channel parameters read as doubles, whatever the dtype. */
    private record Channel(CpuBuffer mean, int mo, CpuBuffer var, int vo, CpuBuffer gamma, int go, double eps) {
        double value(CpuBuffer b, int i) {
            return b.dtype() == DType.FLOAT64 ? b.doubles()[i] : b.floats()[i];
        }

        void store(CpuBuffer b, int i, double v) {
            if (b.dtype() == DType.FLOAT64) {
                b.doubles()[i] = v;
            } else {
                b.floats()[i] = (float) v;
            }
        }

        double mean(int ch) {
            return value(mean, mo + ch);
        }

        double invStd(int ch) {
            return 1 / Math.sqrt(value(var, vo + ch) + eps);
        }

        double gamma(int ch) {
            return value(gamma, go + ch);
        }
    }

    @Override
    public void dropout(long count, int threshold, double scale, long seed, long offset, CpuBuffer x, long xOffset,
                        CpuBuffer y, long yOffset) {
        int n = (int) count, xo = (int) xOffset, yo = (int) yOffset;
        boolean f64Type = x.dtype() == DType.FLOAT64;
        threads.parallelRange(n, PARALLEL_MIN, 64, (start, len) -> {
            CpuWorkspaces.Workspace w = workspaces.acquire();
            try {
                int[] words = w.ints(CpuWorkspaces.ROW_A, DROPOUT_PIECE);
                for (int b = start; b < start + len; b += DROPOUT_PIECE) {
                    int m = Math.min(DROPOUT_PIECE, start + len - b);
                    Philox.words(seed, offset + b / 4, words, m);
                    if (f64Type) {
                        f64.dropout(words, 0, threshold, x.doubles(), xo + b, scale, y.doubles(), yo + b, m);
                    } else {
                        f32.dropout(words, 0, threshold, x.floats(), xo + b, (float) scale, y.floats(), yo + b, m);
                    }
                }
            } finally {
                workspaces.release(w);
            }
        });
    }
}
