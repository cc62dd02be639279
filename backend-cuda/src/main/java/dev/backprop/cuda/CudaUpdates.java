package dev.backprop.cuda;

import dev.backprop.backend.base.OpFamilies;
import jcuda.driver.CUdeviceptr;

import static dev.backprop.cuda.CudaKernel.floating;

/**
 * Fused SGD and Adam/AdamW steps, one launch per parameter tensor (kernels in {@code updates.cu}). Adam's
 * bias corrections {@code 1 - β^step} are computed here in float64, once per step.
 */
final class CudaUpdates implements OpFamilies.Updates<CudaBuffer> {
    private final CudaLaunch launch;

    CudaUpdates(CudaLaunch launch) {
        this.launch = launch;
    }

    /** {@code velocity} null means plain SGD; the kernel then gets a null pointer and never touches it. */
    @Override
    public void sgdUpdate(long n, CudaBuffer param, long paramOffset, CudaBuffer grad, long gradOffset,
                          CudaBuffer velocity, long velocityOffset, double lr, double momentum, double weightDecay,
                          boolean nesterov) {
        CUdeviceptr v = velocity == null ? new CUdeviceptr() : velocity.at(velocityOffset);
        launch.elementwise(floating(param.dtype(), CudaKernel.SGD_UPDATE_F32, CudaKernel.SGD_UPDATE_F64), n, n,
                param.at(paramOffset), grad.at(gradOffset), v, lr, momentum, weightDecay, nesterov ? 1 : 0);
    }

    @Override
    public void adamUpdate(long n, CudaBuffer param, long paramOffset, CudaBuffer grad, long gradOffset, CudaBuffer m,
                           long mOffset, CudaBuffer v, long vOffset, double lr, double beta1, double beta2, double eps,
                           double weightDecay, boolean decoupled, long step) {
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2 = 1 - Math.pow(beta2, step);
        launch.elementwise(floating(param.dtype(), CudaKernel.ADAM_UPDATE_F32, CudaKernel.ADAM_UPDATE_F64), n, n,
                param.at(paramOffset), grad.at(gradOffset), m.at(mOffset), v.at(vOffset), lr, beta1, beta2, eps,
                weightDecay, decoupled ? 1 : 0, bias1, bias2);
    }
}
