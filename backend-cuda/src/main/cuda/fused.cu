// Fused kernels that replace several launches of a training step with one:
//  - bias_act: a dense layer's epilogue over the GEMM output z (rows × cols), y = act(z + bias) with the bias
//    broadcast along rows. The same float operations as binary ADD (row broadcast) then unary, so the result
//    is bit-identical to the two launches it replaces.
//  - bias_act_backward: dz = act'(z)·g computed from the output y (relu, sigmoid and tanh have derivatives
//    that are functions of their output), written once, and the column sums of dz (the bias gradient) in the
//    tile and order of reduce_cols: with one chunk of rows the sums are final; with several the Java side
//    finishes the partials with reduce_cols, exactly as a column reduction of dz would.
//  - sgd_update_multi / adam_update_multi: the optimizer step of every parameter tensor in one launch. The
//    tensors come as a device table of 64-bit words, one row per tensor ({param, grad, velocity or 0, n} for
//    SGD, {param, grad, m, v, n} for Adam); grid y walks the tensors, grid x the elements of each, with the
//    per-element formulas of updates.cu.
#include "common.cuh"
#include "unary.cuh"
#include "updates.cuh"

template <typename T>
__device__ void bias_act_body(int op, int rows, int cols, const T* z, const T* bias, T* y) {
    const i64 n = (i64) rows * cols;
    GRID_STRIDE(i, n) {
        y[i] = unary_value<T>(op, z[i] + bias[i % cols], T(0), T(0));
    }
}
extern "C" __global__ void bias_act_f32(int op, int rows, int cols, const float* z, const float* bias, float* y) {
    bias_act_body<float>(op, rows, cols, z, bias, y);
}
extern "C" __global__ void bias_act_f64(int op, int rows, int cols, const double* z, const double* bias,
                                        double* y) {
    bias_act_body<double>(op, rows, cols, z, bias, y);
}

// Products rounded on their own (mul.rn). The SPI's default computes y·y, 1 - y·y and the product with g in
// separate launches; a plain product here may be contracted by ptxas with the subtraction or the bias sum that
// follows into an FMA, which rounds once where the default rounds twice.
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }

// act'(z)·g from y = act(z), in the order of the SPI's default: (y·(1 - y))·g for sigmoid, (1 - y·y)·g for tanh.
template <typename T> __device__ __forceinline__ T grad_from_output(int op, T y, T g) {
    switch (op) {
        case UNARY_IDENTITY: return g;
        case UNARY_SIGMOID: return mul_rn(mul_rn(y, T(1) - y), g);
        case UNARY_TANH: return mul_rn(T(1) - mul_rn(y, y), g);
        case UNARY_RELU: return y > T(0) ? g : T(0);
        default: return d_nan<T>();
    }
}

template <typename T>
__device__ void bias_act_backward_body(int op, int rows, int cols, int rows_per_chunk, const T* y, const T* g,
                                       T* dz, T* dbias) {
    __shared__ T part[TILE_ROWS][TILE + 1];
    const i64 first = (i64) blockIdx.y * rows_per_chunk;
    const i64 last = min((i64) rows, first + rows_per_chunk);
    for (i64 c0 = (i64) blockIdx.x * TILE; c0 < cols; c0 += (i64) gridDim.x * TILE) {
        const i64 c = c0 + threadIdx.x;
        T acc = T(0);
        if (c < cols) {
            for (i64 r = first + threadIdx.y; r < last; r += TILE_ROWS) {
                const i64 i = r * cols + c;
                const T d = grad_from_output<T>(op, y[i], g[i]);
                dz[i] = d;
                acc = acc + d;
            }
        }
        part[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && c < cols) {
            T total = part[0][threadIdx.x];
            for (int k = 1; k < TILE_ROWS; k++) {
                total = total + part[k][threadIdx.x];
            }
            dbias[(i64) blockIdx.y * cols + c] = total;
        }
        __syncthreads();
    }
}
extern "C" __global__ void bias_act_backward_f32(int op, int rows, int cols, int rows_per_chunk, const float* y,
                                                 const float* g, float* dz, float* dbias) {
    bias_act_backward_body<float>(op, rows, cols, rows_per_chunk, y, g, dz, dbias);
}
extern "C" __global__ void bias_act_backward_f64(int op, int rows, int cols, int rows_per_chunk, const double* y,
                                                 const double* g, double* dz, double* dbias) {
    bias_act_backward_body<double>(op, rows, cols, rows_per_chunk, y, g, dz, dbias);
}

#define SGD_WORDS 4
#define ADAM_WORDS 5

template <typename T>
__device__ void sgd_update_multi_body(int tensors, const i64* table, double lr, double momentum,
                                      double weight_decay, int nesterov) {
    for (int t = blockIdx.y; t < tensors; t += gridDim.y) {
        const i64* e = table + (i64) t * SGD_WORDS;
        sgd_update_body<T>(e[3], (T*) e[0], (const T*) e[1], (T*) e[2], lr, momentum, weight_decay, nesterov);
    }
}
extern "C" __global__ void sgd_update_multi_f32(int tensors, const i64* table, double lr, double momentum,
                                                double weight_decay, int nesterov) {
    sgd_update_multi_body<float>(tensors, table, lr, momentum, weight_decay, nesterov);
}
extern "C" __global__ void sgd_update_multi_f64(int tensors, const i64* table, double lr, double momentum,
                                                double weight_decay, int nesterov) {
    sgd_update_multi_body<double>(tensors, table, lr, momentum, weight_decay, nesterov);
}

template <typename T>
__device__ void adam_update_multi_body(int tensors, const i64* table, double lr, double beta1, double beta2,
                                       double eps, double weight_decay, int decoupled, double bias1, double bias2) {
    for (int t = blockIdx.y; t < tensors; t += gridDim.y) {
        const i64* e = table + (i64) t * ADAM_WORDS;
        adam_update_body<T>(e[4], (T*) e[0], (const T*) e[1], (T*) e[2], (T*) e[3], lr, beta1, beta2, eps,
                            weight_decay, decoupled, bias1, bias2);
    }
}
extern "C" __global__ void adam_update_multi_f32(int tensors, const i64* table, double lr, double beta1,
                                                 double beta2, double eps, double weight_decay, int decoupled,
                                                 double bias1, double bias2) {
    adam_update_multi_body<float>(tensors, table, lr, beta1, beta2, eps, weight_decay, decoupled, bias1, bias2);
}
extern "C" __global__ void adam_update_multi_f64(int tensors, const i64* table, double lr, double beta1,
                                                 double beta2, double eps, double weight_decay, int decoupled,
                                                 double bias1, double bias2) {
    adam_update_multi_body<double>(tensors, table, lr, beta1, beta2, eps, weight_decay, decoupled, bias1, bias2);
}
