// Shared by every kernel file: the op codes (mirrored in CudaOpCodes.java; CudaOpCodesTest compares the
// two), NaN-propagating min/max matching Java's Math.max/min, type-generic math wrappers and block
// reductions. Kernels are written for clarity first: grid-stride loops over 64-bit indices, fixed launch
// shapes chosen by the Java side, and reductions in a fixed order so results are bit-identical run to run.
#pragma once

#define UNARY_IDENTITY 0
#define UNARY_NEG 1
#define UNARY_EXP 2
#define UNARY_LOG 3
#define UNARY_SQRT 4
#define UNARY_ABS 5
#define UNARY_SIGMOID 6
#define UNARY_TANH 7
#define UNARY_RELU 8
#define UNARY_THRESHOLD 9
#define UNARY_CLAMP 10
#define UNARY_POW 11

#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3
#define BINARY_MAX 4
#define BINARY_MIN 5
#define BINARY_EQ 6
#define BINARY_NE 7
#define BINARY_LT 8
#define BINARY_LE 9
#define BINARY_GT 10
#define BINARY_GE 11

#define BROADCAST_FULL 0
#define BROADCAST_ROW 1
#define BROADCAST_COLUMN 2
#define BROADCAST_SCALAR 3

#define REDUCE_SUM 0
#define REDUCE_MEAN 1
#define REDUCE_MAX 2

// Block sizes the Java launcher uses (CudaLaunch.BLOCK, CudaLaunch.TILE); block_reduce needs whole warps.
#define BLOCK 256
#define TILE 32
#define TILE_ROWS 8

typedef long long i64;

// Grid-stride loop over [0, n): correct for any grid size, so the launcher may cap the grid.
#define GRID_STRIDE(i, n) \
    for (i64 i = (i64) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64) blockDim.x * gridDim.x)

__device__ __forceinline__ float d_exp(float x) { return expf(x); }
__device__ __forceinline__ double d_exp(double x) { return exp(x); }
__device__ __forceinline__ float d_log(float x) { return logf(x); }
__device__ __forceinline__ double d_log(double x) { return log(x); }
__device__ __forceinline__ float d_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double d_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float d_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double d_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float d_pow(float x, float p) { return powf(x, p); }
__device__ __forceinline__ double d_pow(double x, double p) { return pow(x, p); }
__device__ __forceinline__ float d_fmax(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double d_fmax(double a, double b) { return fmax(a, b); }
__device__ __forceinline__ float d_fmin(float a, float b) { return fminf(a, b); }
__device__ __forceinline__ double d_fmin(double a, double b) { return fmin(a, b); }
__device__ __forceinline__ bool d_isnan(float x) { return x != x; }
__device__ __forceinline__ bool d_isnan(double x) { return x != x; }

template <typename T> __device__ __forceinline__ T d_nan();
template <> __device__ __forceinline__ float d_nan<float>() { return __int_as_float(0x7fc00000); }
template <> __device__ __forceinline__ double d_nan<double>() { return __longlong_as_double(0x7ff8000000000000LL); }

template <typename T> __device__ __forceinline__ T d_neg_inf();
template <> __device__ __forceinline__ float d_neg_inf<float>() { return __int_as_float(0xff800000); }
template <> __device__ __forceinline__ double d_neg_inf<double>() { return __longlong_as_double(0xfff0000000000000LL); }

// Java's Math.max/min: NaN if either operand is NaN (fmax/fmin would drop it).
template <typename T> __device__ __forceinline__ T nan_max(T a, T b) {
    return d_isnan(a) ? a : (d_isnan(b) ? b : d_fmax(a, b));
}
template <typename T> __device__ __forceinline__ T nan_min(T a, T b) {
    return d_isnan(a) ? a : (d_isnan(b) ? b : d_fmin(a, b));
}

template <typename T> struct SumOp {
    __device__ static T identity() { return T(0); }
    __device__ static T apply(T a, T b) { return a + b; }
};
template <typename T> struct MaxOp {
    __device__ static T identity() { return d_neg_inf<T>(); }
    __device__ static T apply(T a, T b) { return nan_max(a, b); }
};

// Reduces one value per thread over the whole block in a fixed order (warp shuffles, then warp 0 over the
// per-warp results) and returns the result to every thread. blockDim.x must be a multiple of 32 and every
// thread of the block must call it. The trailing barrier lets a second call reuse the scratch array.
template <class Op, typename T> __device__ T block_reduce(T v) {
    __shared__ T warp_part[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) {
        v = Op::apply(v, __shfl_down_sync(0xffffffffu, v, o));
    }
    if (lane == 0) {
        warp_part[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        const int warps = (blockDim.x + 31) >> 5;
        v = lane < warps ? warp_part[lane] : Op::identity();
        for (int o = 16; o > 0; o >>= 1) {
            v = Op::apply(v, __shfl_down_sync(0xffffffffu, v, o));
        }
        if (lane == 0) {
            warp_part[0] = v;
        }
    }
    __syncthreads();
    T result = warp_part[0];
    __syncthreads();
    return result;
}
