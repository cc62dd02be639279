package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;

/**
 * Fused optimizer steps ({@code updates.cl}): SGD with optional (Nesterov) momentum, and Adam/AdamW. One
 * work-item per parameter; scalars that depend only on the step are computed here in double.
 */
final class OpenClUpdates implements OpFamilies.Updates<OpenClBuffer> {
    private static final String SOURCE = "updates.cl";

    private final OpenClRuntime rt;

    OpenClUpdates(OpenClRuntime rt) {
        this.rt = rt;
    }

    /** Builds the program for {@code dtype} and creates its kernels. */
    void prepare(DType dtype) {
        launch(dtype, "sgd_update");
        launch(dtype, "adam_update");
    }

    private OpenClLaunch launch(DType dtype, String kernel) {
        return rt.launch(SOURCE, "", dtype, kernel);
    }

    /** Without momentum ({@code velocity == null}) the parameter buffer stands in for the unused velocity slot. */
    @Override
    public void sgdUpdate(long n, OpenClBuffer param, long paramOffset, OpenClBuffer grad, long gradOffset,
                          OpenClBuffer velocity, long velocityOffset, double lr, double momentum, double weightDecay,
                          boolean nesterov) {
        boolean hasMomentum = velocity != null;
        launch(param.dtype(), "sgd_update").i64(n).mem(param).i64(paramOffset).mem(grad).i64(gradOffset)
                .mem(hasMomentum ? velocity : param).i64(hasMomentum ? velocityOffset : paramOffset)
                .i32(hasMomentum ? 1 : 0).real(lr).real(momentum).real(weightDecay).i32(nesterov ? 1 : 0)
                .run1(n, rt.elementwiseGroupSize);
    }

    @Override
    public void adamUpdate(long n, OpenClBuffer param, long paramOffset, OpenClBuffer grad, long gradOffset,
                           OpenClBuffer m, long mOffset, OpenClBuffer v, long vOffset, double lr, double beta1,
                           double beta2, double eps, double weightDecay, boolean decoupled, long step) {
        OpenClLaunch l = launch(param.dtype(), "adam_update").i64(n).mem(param).i64(paramOffset).mem(grad)
                .i64(gradOffset).mem(m).i64(mOffset).mem(v).i64(vOffset);
        adamScalars(l, lr, beta1, beta2, eps, weightDecay, decoupled, step).run1(n, rt.elementwiseGroupSize);
    }

    /**
     * Adam's scalar arguments in the order of {@code adam_step} (common.cl), shared with the multi-tensor kernel:
     * lr, beta1, beta2, 1 - beta1, 1 - beta2, eps, weight decay, 1 - lr·wd, decoupled, and the bias corrections
     * 1 - beta^step, each computed in double before its conversion to the element type.
     */
    static OpenClLaunch adamScalars(OpenClLaunch l, double lr, double beta1, double beta2, double eps,
                                    double weightDecay, boolean decoupled, long step) {
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        return l.real(lr).real(beta1).real(beta2).real(1 - beta1).real(1 - beta2).real(eps).real(weightDecay)
                .real(1 - lr * weightDecay).i32(decoupled ? 1 : 0).real(bc1).real(bc2);
    }
}
