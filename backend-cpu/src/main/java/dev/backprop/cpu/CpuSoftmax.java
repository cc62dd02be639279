package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;

/**
 * Row-wise softmax and log-softmax, and the fused softmax cross-entropy forward and backward, of the cpu
 * backend. Rows are split over the pool; each row is three vector passes (max, exp-and-sum, scale or shift).
 *
 * <p>In-place use ({@code y} the same range as {@code x}, {@code probs} as {@code logits}, {@code dlogits} as
 * {@code probs}) is safe because every value a row still needs is read before that row is overwritten: the
 * label's logit before the probabilities replace the logits, the label's probability before the gradient replaces
 * the probabilities. Log-softmax keeps its exponentials in a scratch row so {@code x} survives until
 * {@code y = (x - max) - log Σ}.
 *
 * <p>A sample's loss is {@code log Σ - (z_label - max)}, not {@code max + log Σ - z_label}: adding the maximum first
 * would round at the scale of the logits and lose the whole loss when they are large ({@code -3e38} in every column
 * gives {@code ln K}, not 0).
 */
final class CpuSoftmax implements OpFamilies.Softmax<CpuBuffer> {
    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    private final F32Kernels f32;
    private final F64Kernels f64 = new F64Kernels();

    CpuSoftmax(CpuThreads threads, CpuWorkspaces workspaces, F32Kernels f32) {
        this.threads = threads;
        this.workspaces = workspaces;
        this.f32 = f32;
    }

    @Override
    public void softmaxRows(boolean log, int rows, int cols, CpuBuffer x, long xOffset, CpuBuffer y, long yOffset) {
        int xo = (int) xOffset, yo = (int) yOffset;
        boolean f64Type = x.dtype() == DType.FLOAT64;
        threads.parallelRows(rows, cols, CpuElementwise.PARALLEL_MIN, (r0, nr) -> {
            CpuWorkspaces.Workspace w = workspaces.acquire();
            try {
                for (int r = r0; r < r0 + nr; r++) {
                    int xs = xo + r * cols, ys = yo + r * cols;
                    if (f64Type) {
                        rowF64(log, x.doubles(), xs, y.doubles(), ys, cols, w.doubles(CpuWorkspaces.ROW_A, cols));
                    } else {
                        rowF32(log, x.floats(), xs, y.floats(), ys, cols, w.floats(CpuWorkspaces.ROW_A, cols));
                    }
                }
            } finally {
                workspaces.release(w);
            }
        });
    }

    private void rowF32(boolean log, float[] x, int xs, float[] y, int ys, int cols, float[] scratch) {
        float m = f32.max(x, xs, cols);
        if (log) {
            double sum = f32.expShiftSum(x, xs, m, scratch, 0, cols);
            f32.addScalar(x, xs, -m, y, ys, cols);
            f32.addScalar(y, ys, (float) -Math.log(sum), y, ys, cols);
        } else {
            double sum = f32.expShiftSum(x, xs, m, y, ys, cols);
            f32.axpby(cols, (float) (1.0 / sum), y, ys, 0f, y, ys);
        }
    }

    private void rowF64(boolean log, double[] x, int xs, double[] y, int ys, int cols, double[] scratch) {
        double m = f64.max(x, xs, cols);
        if (log) {
            double sum = f64.expShiftSum(x, xs, m, scratch, 0, cols);
            f64.addScalar(x, xs, -m, y, ys, cols);
            f64.addScalar(y, ys, -Math.log(sum), y, ys, cols);
        } else {
            double sum = f64.expShiftSum(x, xs, m, y, ys, cols);
            f64.axpby(cols, 1.0 / sum, y, ys, 0.0, y, ys);
        }
    }

    @Override
    public void softmaxCrossEntropy(int rows, int cols, CpuBuffer logits, long logitsOffset, CpuBuffer labels,
                                    long labelsOffset, CpuBuffer losses, long lossesOffset, CpuBuffer probs,
                                    long probsOffset) {
        int zo = (int) logitsOffset, lo = (int) labelsOffset, so = (int) lossesOffset, po = (int) probsOffset;
        int[] label = labels.ints();
        boolean f64Type = logits.dtype() == DType.FLOAT64;
        threads.parallelRows(rows, cols, CpuElementwise.PARALLEL_MIN, (r0, nr) -> {
            if (!f64Type) {
                softmaxCrossEntropyF32(r0, nr, cols, logits.floats(), zo, label, lo, losses.floats(), so,
                        probs.floats(), po);
                return;
            }
            for (int r = r0; r < r0 + nr; r++) {
                int l = label[lo + r];
                boolean valid = l >= 0 && l < cols;
                int zs = zo + r * cols, ps = po + r * cols;
                double[] z = logits.doubles(), p = probs.doubles();
                double m = f64.max(z, zs, cols);
                double zl = valid ? z[zs + l] : Double.NaN;
                double sum = f64.expShiftSum(z, zs, m, p, ps, cols);
                losses.doubles()[so + r] = Math.log(sum) - (zl - m);
                f64.axpby(cols, 1.0 / sum, p, ps, 0.0, p, ps);
            }
        });
    }

    /**
     * FLOAT32 rows {@code [r0, r0+nr)}: every row's maximum and label logit first (read before an in-place
     * {@code probs} overwrites them), then the shifted exponentials and sums of all rows in one kernel call
     * ({@link F32Kernels#expShiftSumRows}), then losses and normalization; per element the same operations as a
     * row at a time.
     */
    private void softmaxCrossEntropyF32(int r0, int nr, int cols, float[] z, int zo, int[] label, int lo,
                                 float[] losses, int so, float[] p, int po) {
        CpuWorkspaces.Workspace w = workspaces.acquire();
        try {
            float[] max = w.floats(CpuWorkspaces.ROW_A, nr);
            double[] sums = w.doubles(CpuWorkspaces.ROW_A, nr);
            double[] zl = w.doubles(CpuWorkspaces.ROW_B, nr);
            for (int i = 0; i < nr; i++) {
                int r = r0 + i, l = label[lo + r], zs = zo + r * cols;
                max[i] = f32.max(z, zs, cols);
                zl[i] = l >= 0 && l < cols ? z[zs + l] : Double.NaN;
            }
            f32.expShiftSumRows(z, zo + r0 * cols, max, nr, cols, p, po + r0 * cols, sums);
            for (int i = 0; i < nr; i++) {
                int r = r0 + i;
                losses[so + r] = (float) (Math.log(sums[i]) - (zl[i] - max[i]));
                f32.axpby(cols, (float) (1.0 / sums[i]), p, po + r * cols, 0f, p, po + r * cols);
            }
        } finally {
            workspaces.release(w);
        }
    }

    @Override
    public void softmaxCrossEntropyBackward(int rows, int cols, CpuBuffer probs, long probsOffset, CpuBuffer labels,
                                            long labelsOffset, CpuBuffer g, long gOffset, CpuBuffer dlogits,
                                            long dlogitsOffset) {
        int po = (int) probsOffset, lo = (int) labelsOffset, go = (int) gOffset, dOff = (int) dlogitsOffset;
        int[] label = labels.ints();
        boolean f64Type = probs.dtype() == DType.FLOAT64;
        threads.parallelRows(rows, cols, CpuElementwise.PARALLEL_MIN, (r0, nr) -> {
            for (int r = r0; r < r0 + nr; r++) {
                int l = label[lo + r];
                boolean valid = l >= 0 && l < cols;
                int ps = po + r * cols, ds = dOff + r * cols;
                if (f64Type) {
                    double[] p = probs.doubles(), d = dlogits.doubles();
                    double gr = g.doubles()[go + r];
                    double pl = valid ? p[ps + l] : 0.0;
                    f64.axpby(cols, gr, p, ps, 0.0, d, ds);
                    if (valid) {
                        d[ds + l] = gr * (pl - 1.0);
                    }
                } else {
                    float[] p = probs.floats(), d = dlogits.floats();
                    float gr = g.floats()[go + r];
                    float pl = valid ? p[ps + l] : 0f;
                    f32.axpby(cols, gr, p, ps, 0f, d, ds);
                    if (valid) {
                        d[ds + l] = gr * (pl - 1f);
                    }
                }
            }
        });
    }
}
