/*
 * Fused optimizer steps, one work-item per parameter: each reads its parameter, gradient and state once and
 * writes the parameter and state once (PyTorch's formulas, see Backend.sgdUpdate / adamUpdate). Step-dependent
 * scalars (Adam's bias corrections) are computed on the host in double and passed in.
 */

/* g' = g + wd*p; with momentum v = mu*v + g', d = nesterov ? g' + mu*v : v; without, d = g'; p -= lr*d.
 * Without momentum the velocity argument is a placeholder that is never touched. */
__kernel void sgd_update(long n, __global REAL* p, long po, __global const REAL* g, long go,
                         __global REAL* v, long vo, int hasMomentum, REAL lr, REAL momentum, REAL weightDecay,
                         int nesterov) {
    const long i = get_global_id(0);
    if (i >= n) return;
    const REAL theta = p[po + i];
    const REAL gi = g[go + i] + weightDecay * theta;
    REAL d = gi;
    if (hasMomentum) {
        const REAL vi = momentum * v[vo + i] + gi;
        v[vo + i] = vi;
        d = nesterov ? gi + momentum * vi : vi;
    }
    p[po + i] = theta - lr * d;
}

/* AdamW (decoupled): p *= 1 - lr*wd first; Adam: g' = g + wd*p. Then m, v moments and
 * p -= lr * (m / bc1) / (sqrt(v / bc2) + eps) with bc1 = 1 - beta1^step, bc2 = 1 - beta2^step.
 * 1 - beta1, 1 - beta2 and 1 - lr*wd arrive precomputed in double: in float32, 1 - 0.999f is off by 5e-5. */
__kernel void adam_update(long n, __global REAL* p, long po, __global const REAL* g, long go,
                          __global REAL* m, long mo, __global REAL* v, long vo, REAL lr, REAL beta1, REAL beta2,
                          REAL oneMinusBeta1, REAL oneMinusBeta2, REAL eps, REAL weightDecay, REAL decay,
                          int decoupled, REAL bc1, REAL bc2) {
    const long i = get_global_id(0);
    if (i >= n) return;
    REAL theta = p[po + i];
    REAL gi = g[go + i];
    if (decoupled) theta = theta * decay;
    else gi = gi + weightDecay * theta;
    const REAL mi = beta1 * m[mo + i] + oneMinusBeta1 * gi;
    const REAL vi = beta2 * v[vo + i] + oneMinusBeta2 * gi * gi;
    m[mo + i] = mi;
    v[vo + i] = vi;
    p[po + i] = theta - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}
