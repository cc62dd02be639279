package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;

/**
 * Row-wise softmax and log-softmax, and the fused softmax cross-entropy forward and backward
 * ({@code softmax.cl}). One group per row for the forward kernels (row maximum and sum of exponentials reduced
 * in local memory), one work-item per element for the backward.
 */
final class OpenClSoftmax implements OpFamilies.Softmax<OpenClBuffer> {
    private static final String SOURCE = "softmax.cl";

    private final OpenClRuntime rt;

    OpenClSoftmax(OpenClRuntime rt) {
        this.rt = rt;
    }

    /** Builds the program for {@code dtype} and creates its kernels. */
    void prepare(DType dtype) {
        for (String k : new String[] {"softmax_rows", "softmax_cross_entropy", "softmax_cross_entropy_backward"}) {
            launch(dtype, k);
        }
    }

    private OpenClLaunch launch(DType dtype, String kernel) {
        return rt.launch(SOURCE, rt.reduceOptions(), dtype, kernel);
    }

    @Override
    public void softmaxRows(boolean log, int rows, int cols, OpenClBuffer x, long xOffset, OpenClBuffer y,
                            long yOffset) {
        int ls = rt.reduceGroupSize;
        launch(x.dtype(), "softmax_rows").i32(cols).mem(x).i64(xOffset).mem(y).i64(yOffset).i32(log ? 1 : 0)
                .run(new long[] {(long) rows * ls}, new long[] {ls});
    }

    @Override
    public void softmaxCrossEntropy(int rows, int cols, OpenClBuffer logits, long logitsOffset, OpenClBuffer labels,
                                    long labelsOffset, OpenClBuffer losses, long lossesOffset, OpenClBuffer probs,
                                    long probsOffset) {
        int ls = rt.reduceGroupSize;
        launch(logits.dtype(), "softmax_cross_entropy").i32(cols).mem(logits).i64(logitsOffset)
                .mem(labels).i64(labelsOffset)
                .mem(losses).i64(lossesOffset).mem(probs).i64(probsOffset)
                .run(new long[] {(long) rows * ls}, new long[] {ls});
    }

    @Override
    public void softmaxCrossEntropyBackward(int rows, int cols, OpenClBuffer probs, long probsOffset,
                                            OpenClBuffer labels, long labelsOffset, OpenClBuffer g, long gOffset,
                                            OpenClBuffer dlogits, long dlogitsOffset) {
        long total = (long) rows * cols;
        launch(probs.dtype(), "softmax_cross_entropy_backward").i64(total).i32(cols).mem(probs).i64(probsOffset)
                .mem(labels).i64(labelsOffset).mem(g).i64(gOffset).mem(dlogits).i64(dlogitsOffset)
                .run1(total, rt.elementwiseGroupSize);
    }
}
