/*
 * Row-wise softmax, log-softmax and fused softmax cross-entropy: one group of LS work-items per row (LS as in
 * reductions.cl). Each pass strides over the row; the row maximum and the sum of exponentials are combined in
 * local memory (group_reduce), so a row never leaves the device between passes.
 */

/* max and sum(exp(x - max)) of one row, shared by all work-items of the group. */
inline void row_stats(__local REAL* scratch, __global const REAL* xr, int cols, REAL* mx, REAL* sum) {
    REAL m = (REAL)(-INFINITY);
    for (int c = get_local_id(0); c < cols; c += LS) m = nan_max(m, xr[c]);
    m = group_reduce(scratch, m, OP_MAX);
    REAL s = 0;
    for (int c = get_local_id(0); c < cols; c += LS) s += exp(xr[c] - m);
    *sum = group_reduce(scratch, s, OP_SUM);
    *mx = m;
}

/* y = softmax(x) or log-softmax(x) per row; y may be the same range as x (each element is read by the
 * work-item that writes it, after both reductions have finished reading the row). */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void softmax_rows(int cols, __global const REAL* x, long xo, __global REAL* y, long yo, int logMode) {
    __local REAL scratch[LS];
    const long row = get_group_id(0);
    __global const REAL* xr = x + xo + row * cols;
    __global REAL* yr = y + yo + row * cols;
    REAL mx, sum;
    row_stats(scratch, xr, cols, &mx, &sum);
    const REAL logSum = log(sum);
    for (int c = get_local_id(0); c < cols; c += LS) {
        const REAL shifted = xr[c] - mx;
        yr[c] = logMode ? shifted - logSum : exp(shifted) / sum;
    }
}

/* losses[row] = logsumexp(z) - z[label] (NaN for a label outside [0, cols)); probs = softmax(z). probs may be
 * the same range as z: the labelled logit is read before the barrier that precedes the writes. The loss is
 * formed as log(sum) - (z[label] - max): adding max first would round at the scale of the logits. */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void softmax_cross_entropy(int cols, __global const REAL* z, long zo, __global const int* labels, long lo,
                  __global REAL* losses, long lso, __global REAL* probs, long po) {
    __local REAL scratch[LS];
    const long row = get_group_id(0);
    __global const REAL* zr = z + zo + row * cols;
    __global REAL* pr = probs + po + row * cols;
    REAL mx, sum;
    row_stats(scratch, zr, cols, &mx, &sum);
    const int label = labels[lo + row];
    const int valid = label >= 0 && label < cols;
    const REAL picked = (get_local_id(0) == 0 && valid) ? zr[label] : (REAL)0;
    barrier(CLK_GLOBAL_MEM_FENCE);
    for (int c = get_local_id(0); c < cols; c += LS) pr[c] = exp(zr[c] - mx) / sum;
    if (get_local_id(0) == 0) losses[lso + row] = valid ? log(sum) - (picked - mx) : (REAL)NAN;
}

/* dlogits[r][c] = g[r] * (probs[r][c] - 1[c == label_r]), one work-item per element; dlogits may be the same
 * range as probs. */
__kernel void softmax_cross_entropy_backward(long total, int cols, __global const REAL* probs, long po,
                                    __global const int* labels, long lo, __global const REAL* g, long go,
                                    __global REAL* dl, long dlo) {
    const long i = get_global_id(0);
    if (i < total) {
        const long r = i / cols;
        const int c = (int)(i - r * cols);
        const REAL target = c == labels[lo + r] ? (REAL)1 : (REAL)0;
        dl[dlo + i] = g[go + r] * (probs[po + i] - target);
    }
}
