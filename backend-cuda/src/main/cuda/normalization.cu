// Batch normalization over [n, c, s] (channel ch's elements are x[(img·c + ch)·s + pos]) and dropout.
//  - Per-channel sums (the statistics' two passes, the backward pass's Σdy and Σdy·x̂) run on a grid of
//    chunks × channels blocks: block (chunk, ch) folds a fixed range of the channel's n·s elements with a block
//    reduction. With one chunk it writes the result itself; with several, each writes a partial and the Java side
//    sums them with reduce_rows (reductions.cu), one block per channel. The chunk count depends only on the shape,
//    so every sum has a fixed order and results are bit-identical run to run; no atomics.
//  - The normalizing forward pass and the backward pass's dx are elementwise.
//  - Dropout draws its mask from Philox4x32-10 exactly as dev.backprop.random.Philox does: element i keeps
//    when (word i % 4 of block offset + i / 4) >>> 8 >= threshold. One thread per Philox block.
#include "common.cuh"

// Index of element k (0 <= k < n·s) of channel ch.
__device__ __forceinline__ i64 channel_element(i64 k, int c, int s, i64 ch) {
    const i64 img = k / s;
    return (img * c + ch) * s + (k - img * s);
}

// 1 / sqrt(var + eps) in T, the same expression in every kernel that needs it.
template <typename T> __device__ __forceinline__ T inverse_std(T var, double eps) {
    return T(1) / d_sqrt(var + (T) eps);
}

// Block (chunk, ch) sums elements [chunk·per_chunk, (chunk + 1)·per_chunk) of channel ch: the values themselves
// (squares == 0) or their squared deviations from mean[ch] (squares == 1), and writes the sum / divisor to
// out[ch·gridDim.x + chunk]. Channels beyond gridDim.y are taken in a loop.
template <typename T> __device__ void bn_stats_body(int n, int c, int s, i64 per_chunk, int squares, const T* x,
                                                    const T* mean, T* out, double divisor) {
    const i64 m = (i64) n * s;
    const i64 first = (i64) blockIdx.x * per_chunk;
    const i64 last = min(m, first + per_chunk);
    for (i64 ch = blockIdx.y; ch < c; ch += gridDim.y) {
        const T center = squares ? mean[ch] : T(0);
        T acc = T(0);
        for (i64 k = first + threadIdx.x; k < last; k += blockDim.x) {
            const T v = x[channel_element(k, c, s, ch)] - center;
            acc += squares ? v * v : v;
        }
        acc = block_reduce<SumOp<T>, T>(acc);
        if (threadIdx.x == 0) {
            out[ch * gridDim.x + blockIdx.x] = (T) ((double) acc / divisor);
        }
    }
}
extern "C" __global__ void bn_stats_f32(int n, int c, int s, i64 per_chunk, int squares, const float* x,
                                        const float* mean, float* out, double divisor) {
    bn_stats_body<float>(n, c, s, per_chunk, squares, x, mean, out, divisor);
}
extern "C" __global__ void bn_stats_f64(int n, int c, int s, i64 per_chunk, int squares, const double* x,
                                        const double* mean, double* out, double divisor) {
    bn_stats_body<double>(n, c, s, per_chunk, squares, x, mean, out, divisor);
}

// y = (x - mean)·invstd·gamma + beta; y may be x.
template <typename T> __device__ void bn_forward_body(int n, int c, int s, double eps, const T* x, const T* mean,
                                                      const T* var, const T* gamma, const T* beta, T* y) {
    const i64 total = (i64) n * c * s;
    GRID_STRIDE(i, total) {
        const i64 ch = (i / s) % c;
        y[i] = (x[i] - mean[ch]) * inverse_std(var[ch], eps) * gamma[ch] + beta[ch];
    }
}
extern "C" __global__ void bn_forward_f32(int n, int c, int s, double eps, const float* x, const float* mean,
                                          const float* var, const float* gamma, const float* beta, float* y) {
    bn_forward_body<float>(n, c, s, eps, x, mean, var, gamma, beta, y);
}
extern "C" __global__ void bn_forward_f64(int n, int c, int s, double eps, const double* x, const double* mean,
                                          const double* var, const double* gamma, const double* beta, double* y) {
    bn_forward_body<double>(n, c, s, eps, x, mean, var, gamma, beta, y);
}

// The backward pass's sums over a chunk, as bn_stats: Σdy to sum_dy and Σdy·x̂ to sum_dy_xhat (x̂ = (x - mean)·invstd,
// the invstd factored out of the sum), at [ch·gridDim.x + chunk].
template <typename T> __device__ void bn_backward_sums_body(int n, int c, int s, i64 per_chunk, double eps,
                                                            const T* x, const T* dy, const T* mean, const T* var,
                                                            T* sum_dy, T* sum_dy_xhat) {
    const i64 m = (i64) n * s;
    const i64 first = (i64) blockIdx.x * per_chunk;
    const i64 last = min(m, first + per_chunk);
    for (i64 ch = blockIdx.y; ch < c; ch += gridDim.y) {
        const T mu = mean[ch];
        T a = T(0), b = T(0);
        for (i64 k = first + threadIdx.x; k < last; k += blockDim.x) {
            const i64 i = channel_element(k, c, s, ch);
            a += dy[i];
            b += dy[i] * (x[i] - mu);
        }
        a = block_reduce<SumOp<T>, T>(a);
        b = block_reduce<SumOp<T>, T>(b);
        if (threadIdx.x == 0) {
            sum_dy[ch * gridDim.x + blockIdx.x] = a;
            sum_dy_xhat[ch * gridDim.x + blockIdx.x] = b * inverse_std(var[ch], eps);
        }
    }
}
extern "C" __global__ void bn_backward_sums_f32(int n, int c, int s, i64 per_chunk, double eps, const float* x,
                                                const float* dy, const float* mean, const float* var, float* sum_dy,
                                                float* sum_dy_xhat) {
    bn_backward_sums_body<float>(n, c, s, per_chunk, eps, x, dy, mean, var, sum_dy, sum_dy_xhat);
}
extern "C" __global__ void bn_backward_sums_f64(int n, int c, int s, i64 per_chunk, double eps, const double* x,
                                                const double* dy, const double* mean, const double* var,
                                                double* sum_dy, double* sum_dy_xhat) {
    bn_backward_sums_body<double>(n, c, s, per_chunk, eps, x, dy, mean, var, sum_dy, sum_dy_xhat);
}

// dx = gamma·invstd·(dy - Σdy/M - x̂·Σ(dy·x̂)/M) with the batch's statistics, else gamma·invstd·dy; dx may be dy.
template <typename T> __device__ void bn_backward_dx_body(int n, int c, int s, double eps, int batch_stats,
                                                          const T* x, const T* dy, const T* mean, const T* var,
                                                          const T* gamma, const T* sum_dy, const T* sum_dy_xhat,
                                                          T* dx) {
    const i64 total = (i64) n * c * s;
    const T m = (T) ((double) n * s);
    GRID_STRIDE(i, total) {
        const i64 ch = (i / s) % c;
        const T inv = inverse_std(var[ch], eps);
        const T g = dy[i];
        if (batch_stats) {
            const T xhat = (x[i] - mean[ch]) * inv;
            dx[i] = gamma[ch] * inv * (g - sum_dy[ch] / m - xhat * sum_dy_xhat[ch] / m);
        } else {
            dx[i] = gamma[ch] * inv * g;
        }
    }
}
extern "C" __global__ void bn_backward_dx_f32(int n, int c, int s, double eps, int batch_stats, const float* x,
                                              const float* dy, const float* mean, const float* var,
                                              const float* gamma, const float* sum_dy, const float* sum_dy_xhat,
                                              float* dx) {
    bn_backward_dx_body<float>(n, c, s, eps, batch_stats, x, dy, mean, var, gamma, sum_dy, sum_dy_xhat, dx);
}
extern "C" __global__ void bn_backward_dx_f64(int n, int c, int s, double eps, int batch_stats, const double* x,
                                              const double* dy, const double* mean, const double* var,
                                              const double* gamma, const double* sum_dy,
                                              const double* sum_dy_xhat, double* dx) {
    bn_backward_dx_body<double>(n, c, s, eps, batch_stats, x, dy, mean, var, gamma, sum_dy, sum_dy_xhat, dx);
}

// Philox4x32-10 (Salmon et al., SC 2011; Random123's philox4x32 with 10 rounds): encrypts the 128-bit counter
// ctr in place under the key (k0, k1).
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
__device__ __forceinline__ void philox4x32_10(unsigned ctr[4], unsigned k0, unsigned k1) {
    unsigned c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        const unsigned hi0 = __umulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        const unsigned hi1 = __umulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    ctr[0] = c0;
    ctr[1] = c1;
    ctr[2] = c2;
    ctr[3] = c3;
}

// y[i] = keep(i) ? x[i]·scale : 0, the product one multiplication in T; y may be x. Thread b draws Philox block
// offset + b (64-bit, wrapping like a Java long) under the key (low, high word of seed) and serves elements
// 4b .. 4b + 3.
template <typename T> __device__ void dropout_body(i64 n, int threshold, double scale, i64 seed, i64 offset,
                                                   const T* x, T* y) {
    const T sc = (T) scale;
    const unsigned k0 = (unsigned) seed, k1 = (unsigned) ((unsigned long long) seed >> 32);
    const i64 blocks = n / 4 + (n % 4 != 0);
    GRID_STRIDE(b, blocks) {
        const unsigned long long counter = (unsigned long long) offset + (unsigned long long) b;
        unsigned w[4] = {(unsigned) counter, (unsigned) (counter >> 32), 0u, 0u};
        philox4x32_10(w, k0, k1);
        for (int j = 0; j < 4; j++) {
            const i64 i = 4 * b + j;
            if (i < n) {
                y[i] = (int) (w[j] >> 8) >= threshold ? x[i] * sc : T(0);
            }
        }
    }
}
extern "C" __global__ void dropout_f32(i64 n, int threshold, double scale, i64 seed, i64 offset, const float* x,
                                       float* y) {
    dropout_body<float>(n, threshold, scale, seed, offset, x, y);
}
extern "C" __global__ void dropout_f64(i64 n, int threshold, double scale, i64 seed, i64 offset, const double* x,
                                       double* y) {
    dropout_body<double>(n, threshold, scale, seed, offset, x, y);
}
