package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;

/**
 * Batch-norm statistics, forward and backward, and dropout ({@code normalization.cl}). The statistics and the
 * backward pass run one group per channel whose work-items fold the channel in a fixed interleaved order and then
 * as a tree in local memory, so the sums are the same on every run; dropout draws one Philox4x32-10 block per
 * work-item, the same bits as {@link dev.backprop.random.Philox}.
 */
final class OpenClNormalization implements OpFamilies.Normalization<OpenClBuffer> {
    private static final String SOURCE = "normalization.cl";

    private final OpenClRuntime rt;

    OpenClNormalization(OpenClRuntime rt) {
        this.rt = rt;
    }

    /** Builds the program for {@code dtype} and creates its kernels. */
    void prepare(DType dtype) {
        for (String k : new String[] {"batch_norm_stats", "batch_norm_forward", "batch_norm_backward", "dropout"}) {
            launch(dtype, k);
        }
    }

    private OpenClLaunch launch(DType dtype, String kernel) {
        return rt.launch(SOURCE, rt.reduceOptions(), dtype, kernel);
    }

    /** One group of {@code reduceGroupSize} work-items per channel. */
    private void perChannel(OpenClLaunch launch, int c) {
        int ls = rt.reduceGroupSize;
        launch.run(new long[] {(long) c * ls}, new long[] {ls});
    }

    @Override
    public void batchNormStats(int n, int c, int s, OpenClBuffer x, long xOffset, OpenClBuffer mean, long meanOffset,
                               OpenClBuffer var, long varOffset) {
        perChannel(launch(x.dtype(), "batch_norm_stats").i32(n).i32(c).i32(s).mem(x).i64(xOffset).mem(mean)
                .i64(meanOffset).mem(var).i64(varOffset), c);
    }

    @Override
    public void batchNormForward(int n, int c, int s, double eps, OpenClBuffer x, long xOffset, OpenClBuffer mean,
                                 long meanOffset, OpenClBuffer var, long varOffset, OpenClBuffer gamma,
                                 long gammaOffset, OpenClBuffer beta, long betaOffset, OpenClBuffer y, long yOffset) {
        long rows = (long) n * c;
        launch(x.dtype(), "batch_norm_forward").i64(rows).i32(c).i32(s).real(eps).mem(x).i64(xOffset).mem(mean)
                .i64(meanOffset).mem(var).i64(varOffset).mem(gamma).i64(gammaOffset).mem(beta).i64(betaOffset).mem(y)
                .i64(yOffset).run1(rows, rt.elementwiseGroupSize);
    }

    @Override
    public void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, OpenClBuffer x, long xOffset,
                                  OpenClBuffer dy, long dyOffset, OpenClBuffer mean, long meanOffset, OpenClBuffer var,
                                  long varOffset, OpenClBuffer gamma, long gammaOffset, OpenClBuffer dx,
                                  long dxOffset, OpenClBuffer dgamma, long dgammaOffset, OpenClBuffer dbeta,
                                  long dbetaOffset) {
        perChannel(launch(dy.dtype(), "batch_norm_backward").i32(n).i32(c).i32(s).real(eps).i32(batchStats ? 1 : 0)
                .mem(x).i64(xOffset).mem(dy).i64(dyOffset).mem(mean).i64(meanOffset).mem(var).i64(varOffset)
                .mem(gamma).i64(gammaOffset).mem(dx).i64(dxOffset).mem(dgamma).i64(dgammaOffset).mem(dbeta)
                .i64(dbetaOffset), c);
    }

    @Override
    public void dropout(long n, int threshold, double scale, long seed, long offset, OpenClBuffer x, long xOffset,
                        OpenClBuffer y, long yOffset) {
        long blocks = (n + 3) / 4;
        launch(x.dtype(), "dropout").i64(n).i32(threshold).real(scale).i64(seed).i64(offset).mem(x).i64(xOffset)
                .mem(y).i64(yOffset).run1(blocks, rt.elementwiseGroupSize);
    }
}
