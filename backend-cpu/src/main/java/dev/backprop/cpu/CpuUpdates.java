package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;

/**
 * Fused optimizer steps of the cpu backend (SGD with momentum/Nesterov, Adam, AdamW): one pass over parameter,
 * gradient and state per step, split over the pool for large tensors. FLOAT32 steps compute in float as PyTorch
 * does; the Adam bias corrections are computed once per call in double.
 */
final class CpuUpdates implements OpFamilies.Updates<CpuBuffer> {
    private static final int ALIGN = 64;

    private final CpuThreads threads;
    private final F32Kernels f32;
    private final F64Kernels f64 = new F64Kernels();

    CpuUpdates(CpuThreads threads, F32Kernels f32) {
        this.threads = threads;
        this.f32 = f32;
    }

    @Override
    public void sgdUpdate(long count, CpuBuffer param, long paramOffset, CpuBuffer grad, long gradOffset,
                          CpuBuffer velocity, long velocityOffset, double lr, double momentum, double weightDecay,
                          boolean nesterov) {
        int n = (int) count, po = (int) paramOffset, go = (int) gradOffset, vo = (int) velocityOffset;
        if (param.dtype() == DType.FLOAT64) {
            double[] p = param.doubles(), g = grad.doubles(), v = velocity == null ? null : velocity.doubles();
            threads.parallelRange(n, CpuElementwise.PARALLEL_MIN, ALIGN, (s, len) -> f64.sgdUpdate(len, p, po + s, g,
                    go + s, v, vo + s, lr, momentum, weightDecay, nesterov));
        } else {
            float[] p = param.floats(), g = grad.floats(), v = velocity == null ? null : velocity.floats();
            float flr = (float) lr, fm = (float) momentum, fwd = (float) weightDecay;
            threads.parallelRange(n, CpuElementwise.PARALLEL_MIN, ALIGN, (s, len) -> f32.sgdUpdate(len, p, po + s, g,
                    go + s, v, vo + s, flr, fm, fwd, nesterov));
        }
    }

    @Override
    public void adamUpdate(long count, CpuBuffer param, long paramOffset, CpuBuffer grad, long gradOffset, CpuBuffer m,
                           long mOffset, CpuBuffer v, long vOffset, double lr, double beta1, double beta2, double eps,
                           double weightDecay, boolean decoupled, long step) {
        int n = (int) count, po = (int) paramOffset, go = (int) gradOffset, mo = (int) mOffset, vo = (int) vOffset;
        double stepSize = lr / (1.0 - Math.pow(beta1, step));
        double vScale = 1.0 / (1.0 - Math.pow(beta2, step));
        double decay = decoupled ? 1.0 - lr * weightDecay : 1.0, l2 = decoupled ? 0.0 : weightDecay;
        double c1 = 1.0 - beta1, c2 = 1.0 - beta2;
        if (param.dtype() == DType.FLOAT64) {
            double[] p = param.doubles(), g = grad.doubles(), ms = m.doubles(), vs = v.doubles();
            threads.parallelRange(n, CpuElementwise.PARALLEL_MIN, ALIGN, (s, len) -> f64.adamUpdate(len, p, po + s, g,
                    go + s, ms, mo + s, vs, vo + s, decay, l2, beta1, c1, beta2, c2, stepSize, vScale, eps));
        } else {
            float[] p = param.floats(), g = grad.floats(), ms = m.floats(), vs = v.floats();
            threads.parallelRange(n, CpuElementwise.PARALLEL_MIN, ALIGN, (s, len) -> f32.adamUpdate(len, p, po + s, g,
                    go + s, ms, mo + s, vs, vo + s, (float) decay, (float) l2, (float) beta1, (float) c1,
                    (float) beta2, (float) c2, (float) stepSize, (float) vScale, (float) eps));
        }
    }
}
