package dev.backprop.cuda;

import dev.backprop.backend.base.OpFamilies;
import static dev.backprop.cuda.CudaKernel.floating;

/**
 * Row-wise softmax and log-softmax, and the fused softmax cross-entropy forward and backward (kernels in
 * {@code softmax.cu}): one block per row for the row-wise passes, one thread per element for the backward.
 */
final class CudaSoftmax implements OpFamilies.Softmax<CudaBuffer> {
    private final CudaLaunch launch;

    CudaSoftmax(CudaLaunch launch) {
        this.launch = launch;
    }

    @Override
    public void softmaxRows(boolean log, int rows, int cols, CudaBuffer x, long xOffset, CudaBuffer y,
                            long yOffset) {
        launch.perRow(floating(x.dtype(), CudaKernel.SOFTMAX_ROWS_F32, CudaKernel.SOFTMAX_ROWS_F64), rows,
                log ? 1 : 0, rows, cols, x.at(xOffset), y.at(yOffset));
    }

    @Override
    public void softmaxCrossEntropy(int rows, int cols, CudaBuffer logits, long logitsOffset, CudaBuffer labels,
                                    long labelsOffset, CudaBuffer losses, long lossesOffset, CudaBuffer probs,
                                    long probsOffset) {
        launch.perRow(floating(logits.dtype(), CudaKernel.SOFTMAX_CROSS_ENTROPY_F32,
                        CudaKernel.SOFTMAX_CROSS_ENTROPY_F64), rows,
                rows, cols, logits.at(logitsOffset), labels.at(labelsOffset), losses.at(lossesOffset),
                probs.at(probsOffset));
    }

    @Override
    public void softmaxCrossEntropyBackward(int rows, int cols, CudaBuffer probs, long probsOffset, CudaBuffer labels,
                                            long labelsOffset, CudaBuffer g, long gOffset, CudaBuffer dlogits,
                                            long dlogitsOffset) {
        launch.elementwise(floating(probs.dtype(), CudaKernel.SOFTMAX_CROSS_ENTROPY_BACKWARD_F32,
                        CudaKernel.SOFTMAX_CROSS_ENTROPY_BACKWARD_F64), (long) rows * cols, rows, cols,
                probs.at(probsOffset),
                labels.at(labelsOffset), g.at(gOffset), dlogits.at(dlogitsOffset));
    }
}
