// Elementwise kernels: fill, unary functions and their backward forms, broadcasting binary ops, axpby, the
// beta-scaling GEMM needs when k == 0 and the float32 -> bfloat16 rounding of GEMM operands (precision bf16). One thread per element in a grid-stride loop; the op code is uniform
// across the launch, so the switch costs no divergence.
#include "common.cuh"
#include "unary.cuh"

template <typename T> __device__ __forceinline__ T binary_value(int op, T a, T b) {
    switch (op) {
        case BINARY_ADD: return a + b;
        case BINARY_SUB: return a - b;
        case BINARY_MUL: return a * b;
        case BINARY_DIV: return a / b;
        case BINARY_MAX: return nan_max(a, b);
        case BINARY_MIN: return nan_min(a, b);
        case BINARY_EQ: return a == b ? T(1) : T(0);
        case BINARY_NE: return a != b ? T(1) : T(0);
        case BINARY_LT: return a < b ? T(1) : T(0);
        case BINARY_LE: return a <= b ? T(1) : T(0);
        case BINARY_GT: return a > b ? T(1) : T(0);
        case BINARY_GE: return a >= b ? T(1) : T(0);
        default: return d_nan<T>();
    }
}

// INT32 wraps like Java ints: the arithmetic runs on unsigned values, where overflow is defined.
__device__ __forceinline__ int binary_value_int(int op, int a, int b) {
    const unsigned ua = (unsigned) a, ub = (unsigned) b;
    switch (op) {
        case BINARY_ADD: return (int) (ua + ub);
        case BINARY_SUB: return (int) (ua - ub);
        case BINARY_MUL: return (int) (ua * ub);
        case BINARY_MAX: return a > b ? a : b;
        case BINARY_MIN: return a < b ? a : b;
        case BINARY_EQ: return a == b;
        case BINARY_NE: return a != b;
        case BINARY_LT: return a < b;
        case BINARY_LE: return a <= b;
        case BINARY_GT: return a > b;
        case BINARY_GE: return a >= b;
        default: return 0;
    }
}

// Index of an operand element for result element i of a rows × cols matrix.
__device__ __forceinline__ i64 broadcast_index(int mode, i64 i, int cols) {
    switch (mode) {
        case BROADCAST_ROW: return i % cols;
        case BROADCAST_COLUMN: return i / cols;
        case BROADCAST_SCALAR: return 0;
        default: return i;
    }
}

extern "C" __global__ void fill_f64(double* dst, i64 n, double value) {
    GRID_STRIDE(i, n) {
        dst[i] = value;
    }
}

template <typename T> __device__ void unary_body(int op, double p1, double p2, const T* x, T* y, i64 n) {
    const T q1 = (T) p1, q2 = (T) p2;
    GRID_STRIDE(i, n) {
        y[i] = unary_value<T>(op, x[i], q1, q2);
    }
}
extern "C" __global__ void unary_f32(int op, double p1, double p2, const float* x, float* y, i64 n) {
    unary_body<float>(op, p1, p2, x, y, n);
}
extern "C" __global__ void unary_f64(int op, double p1, double p2, const double* x, double* y, i64 n) {
    unary_body<double>(op, p1, p2, x, y, n);
}

template <typename T>
__device__ void unary_backward_body(int op, double p1, double p2, const T* x, const T* g, T* dx, i64 n) {
    const T q1 = (T) p1, q2 = (T) p2;
    GRID_STRIDE(i, n) {
        dx[i] = unary_grad<T>(op, x[i], g[i], q1, q2);
    }
}
extern "C" __global__ void unary_backward_f32(int op, double p1, double p2, const float* x, const float* g,
                                              float* dx, i64 n) {
    unary_backward_body<float>(op, p1, p2, x, g, dx, n);
}
extern "C" __global__ void unary_backward_f64(int op, double p1, double p2, const double* x, const double* g,
                                              double* dx, i64 n) {
    unary_backward_body<double>(op, p1, p2, x, g, dx, n);
}

template <typename T>
__device__ void binary_body(int op, int rows, int cols, const T* a, int amode, const T* b, int bmode, T* out) {
    const i64 n = (i64) rows * cols;
    GRID_STRIDE(i, n) {
        out[i] = binary_value<T>(op, a[broadcast_index(amode, i, cols)], b[broadcast_index(bmode, i, cols)]);
    }
}
extern "C" __global__ void binary_f32(int op, int rows, int cols, const float* a, int amode, const float* b,
                                      int bmode, float* out) {
    binary_body<float>(op, rows, cols, a, amode, b, bmode, out);
}
extern "C" __global__ void binary_f64(int op, int rows, int cols, const double* a, int amode, const double* b,
                                      int bmode, double* out) {
    binary_body<double>(op, rows, cols, a, amode, b, bmode, out);
}
extern "C" __global__ void binary_i32(int op, int rows, int cols, const int* a, int amode, const int* b,
                                      int bmode, int* out) {
    const i64 n = (i64) rows * cols;
    GRID_STRIDE(i, n) {
        out[i] = binary_value_int(op, a[broadcast_index(amode, i, cols)], b[broadcast_index(bmode, i, cols)]);
    }
}

// y = alpha·x + beta·y; with beta == 0, y is never read (NaN there does not propagate).
template <typename T> __device__ void axpby_body(i64 n, double alpha, const T* x, double beta, T* y) {
    const T a = (T) alpha, b = (T) beta;
    if (beta == 0.0) {
        GRID_STRIDE(i, n) {
            y[i] = a * x[i];
        }
    } else {
        GRID_STRIDE(i, n) {
            y[i] = a * x[i] + b * y[i];
        }
    }
}
extern "C" __global__ void axpby_f32(i64 n, double alpha, const float* x, double beta, float* y) {
    axpby_body<float>(n, alpha, x, beta, y);
}
extern "C" __global__ void axpby_f64(i64 n, double alpha, const double* x, double beta, double* y) {
    axpby_body<double>(n, alpha, x, beta, y);
}

// C_i = beta·C_i for every m × n matrix of a strided batch (GEMM with k == 0; beta == 0 writes zeros).
template <typename T>
__device__ void scale_matrices_body(int batch, int m, int n, double beta, T* c, int ldc, i64 stride) {
    const i64 total = (i64) batch * m * n;
    const T b = (T) beta;
    GRID_STRIDE(i, total) {
        const i64 matrix = i / ((i64) m * n);
        const i64 within = i % ((i64) m * n);
        T* p = c + matrix * stride + (within / n) * ldc + within % n;
        *p = beta == 0.0 ? T(0) : b * *p;
    }
}
extern "C" __global__ void scale_matrices_f32(int batch, int m, int n, double beta, float* c, int ldc, i64 stride) {
    scale_matrices_body<float>(batch, m, n, beta, c, ldc, stride);
}
extern "C" __global__ void scale_matrices_f64(int batch, int m, int n, double beta, double* c, int ldc,
                                              i64 stride) {
    scale_matrices_body<double>(batch, m, n, beta, c, ldc, stride);
}

// bfloat16 bits of x rounded to nearest, ties to even (what __float2bfloat16_rn gives, without cuda_bf16.h so the
// CPU emulation compiles it); NaN stays a quiet NaN with x's sign, infinities and ±0 stay exact.
__device__ __forceinline__ unsigned short bf16_bits(float x) {
    const unsigned u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (unsigned short) ((u >> 16) | 0x0040u);
    }
    return (unsigned short) ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
extern "C" __global__ void convert_f32_bf16(i64 n, const float* x, unsigned short* y) {
    GRID_STRIDE(i, n) {
        y[i] = bf16_bits(x[i]);
    }
}
