// Row-wise softmax / log-softmax and the fused softmax cross-entropy. One block per row (grid-stride over
// rows): a block reduction for the row maximum, another for the sum of exp(x - max), then one write pass.
// Every element is read in the first two passes and written only in the last, after a barrier, so the
// output may be the input itself.
#include "common.cuh"

// The row's maximum m (NaN if any element is NaN) and s = sum of exp(x - m), in every thread of the block
// (row_stats in the OpenCL backend's softmax.cl).
template <typename T> __device__ __forceinline__ void row_stats(const T* xr, int cols, T& m, T& s) {
    m = d_neg_inf<T>();
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        m = nan_max(m, xr[c]);
    }
    m = block_reduce<MaxOp<T>, T>(m);
    s = T(0);
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        s += d_exp(xr[c] - m);
    }
    s = block_reduce<SumOp<T>, T>(s);
}

template <typename T> __device__ void softmax_rows_body(int log_mode, int rows, int cols, const T* x, T* y) {
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * cols;
        T* yr = y + row * cols;
        T m, s;
        row_stats<T>(xr, cols, m, s);
        if (log_mode) {
            const T log_s = d_log(s);
            for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
                yr[c] = (xr[c] - m) - log_s;
            }
        } else {
            for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
                yr[c] = d_exp(xr[c] - m) / s;
            }
        }
        __syncthreads();
    }
}
extern "C" __global__ void softmax_rows_f32(int log_mode, int rows, int cols, const float* x, float* y) {
    softmax_rows_body<float>(log_mode, rows, cols, x, y);
}
extern "C" __global__ void softmax_rows_f64(int log_mode, int rows, int cols, const double* x, double* y) {
    softmax_rows_body<double>(log_mode, rows, cols, x, y);
}

// losses[r] = logsumexp(z_r) - z_r[label_r], computed as log(s) - (z[label] - max) so that a small loss is
// not the difference of two large numbers; probs = softmax(z). probs may be the logits themselves: the
// label's logit is read before the barrier that precedes the write pass.
template <typename T>
__device__ void softmax_cross_entropy_body(int rows, int cols, const T* z, const int* labels, T* losses, T* probs) {
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* zr = z + row * cols;
        T* pr = probs + row * cols;
        T m, s;
        row_stats<T>(zr, cols, m, s);
        if (threadIdx.x == 0) {
            const int label = labels[row];
            losses[row] = (label < 0 || label >= cols) ? d_nan<T>() : d_log(s) - (zr[label] - m);
        }
        __syncthreads();
        for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
            pr[c] = d_exp(zr[c] - m) / s;
        }
        __syncthreads();
    }
}
extern "C" __global__ void softmax_cross_entropy_f32(int rows, int cols, const float* z, const int* labels, float* losses,
                                            float* probs) {
    softmax_cross_entropy_body<float>(rows, cols, z, labels, losses, probs);
}
extern "C" __global__ void softmax_cross_entropy_f64(int rows, int cols, const double* z, const int* labels,
                                            double* losses, double* probs) {
    softmax_cross_entropy_body<double>(rows, cols, z, labels, losses, probs);
}

// dlogits[r][c] = g[r]·(probs[r][c] - 1[c == label_r]); one thread per element, dlogits may be probs.
template <typename T>
__device__ void softmax_cross_entropy_backward_body(int rows, int cols, const T* probs, const int* labels, const T* g,
                                           T* dlogits) {
    const i64 n = (i64) rows * cols;
    GRID_STRIDE(i, n) {
        const i64 row = i / cols;
        const int c = (int) (i % cols);
        const T target = c == labels[row] ? T(1) : T(0);
        dlogits[i] = g[row] * (probs[i] - target);
    }
}
extern "C" __global__ void softmax_cross_entropy_backward_f32(int rows, int cols, const float* probs, const int* labels,
                                                     const float* g, float* dlogits) {
    softmax_cross_entropy_backward_body<float>(rows, cols, probs, labels, g, dlogits);
}
extern "C" __global__ void softmax_cross_entropy_backward_f64(int rows, int cols, const double* probs, const int* labels,
                                                     const double* g, double* dlogits) {
    softmax_cross_entropy_backward_body<double>(rows, cols, probs, labels, g, dlogits);
}
