/*
 * Fused optimizer steps, one work-item per parameter: each reads its parameter, gradient and state once and
 * writes the parameter and state once (PyTorch's formulas, see Backend.sgdUpdate / adamUpdate; the per-element
 * steps sgd_step and adam_step live in common.cl, shared with the multi-tensor kernels of fused.cl).
 * Step-dependent scalars (Adam's bias corrections) are computed on the host in double and passed in.
 */

/* Without momentum the velocity argument is a placeholder that is never touched. */
__kernel void sgd_update(long n, __global REAL* p, long po, __global const REAL* g, long go,
                         __global REAL* v, long vo, int hasMomentum, REAL lr, REAL momentum, REAL weightDecay,
                         int nesterov) {
    const long i = get_global_id(0);
    if (i < n) sgd_step(p + po + i, g + go + i, v + vo + i, hasMomentum, lr, momentum, weightDecay, nesterov);
}

__kernel void adam_update(long n, __global REAL* p, long po, __global const REAL* g, long go,
                          __global REAL* m, long mo, __global REAL* v, long vo, REAL lr, REAL beta1, REAL beta2,
                          REAL oneMinusBeta1, REAL oneMinusBeta2, REAL eps, REAL weightDecay, REAL decay,
                          int decoupled, REAL bc1, REAL bc2) {
    const long i = get_global_id(0);
    if (i < n) {
        adam_step(p + po + i, g + go + i, m + mo + i, v + vo + i, lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2,
                  eps, weightDecay, decay, decoupled, bc1, bc2);
    }
}
