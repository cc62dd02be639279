/*
 * Batch normalization over [n, c, s] (NCHW with s = H*W, or [N, C] with s = 1) and dropout. Built with LS, the
 * work-group size of the per-channel reductions (as in reductions.cl), for FLOAT32 and FLOAT64.
 *
 * Per-channel sums run in one group of LS work-items per channel: work-item l folds the channel's elements
 * l, l + LS, l + 2*LS, ... (in the channel's own order, image by image), then the group folds the LS partials as a
 * tree. The order depends only on the shape and LS, so results are the same on every run, without atomics.
 */

/*
 * Runs BODY for every element of channel ch that this work-item folds, with i the element's index in [n, c, s].
 * (img, pos) step by LS elements without dividing: LS / s whole images plus LS % s positions, with a carry.
 */
#define FOR_CHANNEL_ELEMENTS(BODY) { \
    int img = get_local_id(0) / s, pos = get_local_id(0) % s; \
    const int dImg = LS / s, dPos = LS % s; \
    while (img < n) { \
        const long i = ((long)img * c + ch) * s + pos; \
        BODY; \
        img += dImg; \
        pos += dPos; \
        if (pos >= s) { pos -= s; img++; } \
    } \
}

/* mean[ch] and the biased var[ch] in two passes (squared deviations from the mean, so a large mean cannot cancel). */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void batch_norm_stats(int n, int c, int s, __global const REAL* x, long xo, __global REAL* mean, long mo,
                      __global REAL* var, long vo) {
    __local REAL scratch[LS];
    const int ch = get_group_id(0);
    const REAL m = (REAL)((long)n * s);
    REAL sum = 0;
    FOR_CHANNEL_ELEMENTS(sum += x[xo + i])
    const REAL mu = group_reduce(scratch, sum, OP_SUM) / m;
    REAL sq = 0;
    FOR_CHANNEL_ELEMENTS(const REAL d = x[xo + i] - mu; sq += d * d)
    sq = group_reduce(scratch, sq, OP_SUM);
    if (get_local_id(0) == 0) {
        mean[mo + ch] = mu;
        var[vo + ch] = sq / m;
    }
}

/* y = (x - mean) * invstd * gamma + beta; one work-item per (image, channel) row of s elements. y may be x. */
__kernel void batch_norm_forward(long rows, int c, int s, REAL eps, __global const REAL* x, long xo,
                                 __global const REAL* mean, long mo, __global const REAL* var, long vo,
                                 __global const REAL* gamma, long go, __global const REAL* beta, long bo,
                                 __global REAL* y, long yo) {
    const long r = get_global_id(0);
    if (r >= rows) return;
    const int ch = (int)(r % c);
    const REAL mu = mean[mo + ch], inv = (REAL)1 / sqrt(var[vo + ch] + eps), ga = gamma[go + ch], be = beta[bo + ch];
    __global const REAL* in = x + xo + r * s;
    __global REAL* out = y + yo + r * s;
    for (int k = 0; k < s; k++) out[k] = (in[k] - mu) * inv * ga + be;
}

/*
 * One group per channel: dbeta = sum(dy), dgamma = sum(dy * xhat) in the fixed order above, then dx for the
 * channel's elements: gamma*invstd*(dy - dbeta/M - xhat*dgamma/M) with batch statistics, gamma*invstd*dy with
 * running ones. dx may be dy: each work-item rewrites only the elements it read, after the reductions' barriers.
 */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void batch_norm_backward(int n, int c, int s, REAL eps, int batchStats, __global const REAL* x, long xo,
                         __global const REAL* dy, long dyo, __global const REAL* mean, long mo,
                         __global const REAL* var, long vo, __global const REAL* gamma, long go,
                         __global REAL* dx, long dxo, __global REAL* dgamma, long dgo, __global REAL* dbeta,
                         long dbo) {
    __local REAL scratch[LS];
    const int ch = get_group_id(0);
    const REAL mu = mean[mo + ch], inv = (REAL)1 / sqrt(var[vo + ch] + eps);
    REAL sumDy = 0, sumDyXhat = 0;
    FOR_CHANNEL_ELEMENTS(const REAL g = dy[dyo + i]; sumDy += g; sumDyXhat += g * (x[xo + i] - mu) * inv)
    sumDy = group_reduce(scratch, sumDy, OP_SUM);
    sumDyXhat = group_reduce(scratch, sumDyXhat, OP_SUM);
    if (get_local_id(0) == 0) {
        dgamma[dgo + ch] = sumDyXhat;
        dbeta[dbo + ch] = sumDy;
    }
    const REAL m = (REAL)((long)n * s), scale = gamma[go + ch] * inv;
    if (batchStats) {
        const REAL meanDy = sumDy / m, meanDyXhat = sumDyXhat / m;
        FOR_CHANNEL_ELEMENTS(const REAL xhat = (x[xo + i] - mu) * inv;
                             dx[dxo + i] = scale * (dy[dyo + i] - meanDy - xhat * meanDyXhat))
    } else {
        FOR_CHANNEL_ELEMENTS(dx[dxo + i] = scale * dy[dyo + i])
    }
}

/* Philox4x32-10 (dev.backprop.random.Philox): the counter encrypted under the key, 32-bit multiplies via mul_hi. */
inline uint4 philox4x32_10(uint4 ctr, uint2 key) {
    for (int r = 0; r < 10; r++) {
        if (r > 0) key += (uint2)(0x9E3779B9u, 0xBB67AE85u);
        const uint hi0 = mul_hi(0xD2511F53u, ctr.x), lo0 = 0xD2511F53u * ctr.x;
        const uint hi1 = mul_hi(0xCD9E8D57u, ctr.z), lo1 = 0xCD9E8D57u * ctr.z;
        ctr = (uint4)(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
    }
    return ctr;
}

/*
 * Dropout: work-item b draws Philox block offset + b and decides elements 4b .. 4b+3: kept when the word's top 24
 * bits reach threshold, then y = x * scale (one multiplication in REAL, as the definition rounds), else 0. y may be x.
 */
__kernel void dropout(long n, int threshold, REAL scale, long seed, long offset, __global const REAL* x, long xo,
                      __global REAL* y, long yo) {
    const long b = get_global_id(0);
    const long first = b * 4;
    if (first >= n) return;
    const ulong block = (ulong)offset + (ulong)b;
    const uint4 w = philox4x32_10((uint4)((uint)block, (uint)(block >> 32), 0, 0),
                                  (uint2)((uint)seed, (uint)((ulong)seed >> 32)));
    const uint words[4] = {w.x, w.y, w.z, w.w};
    for (int k = 0; k < 4 && first + k < n; k++) {
        const long i = first + k;
        y[yo + i] = (int)(words[k] >> 8) >= threshold ? x[xo + i] * scale : (REAL)0;
    }
}
