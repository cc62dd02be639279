// The unary functions and their derivatives, shared by the elementwise kernels and the fused dense-layer epilogues
// (fused.cu), so that both compute the same float operations.
#pragma once
#include "common.cuh"

template <typename T> __device__ __forceinline__ T unary_value(int op, T x, T p1, T p2) {
    switch (op) {
        case UNARY_IDENTITY: return x;
        case UNARY_NEG: return -x;
        case UNARY_EXP: return d_exp(x);
        case UNARY_LOG: return d_log(x);
        case UNARY_SQRT: return d_sqrt(x);
        case UNARY_ABS: return x < T(0) ? -x : (x > T(0) ? x : x * x);  // |±0| = +0, NaN stays NaN
        case UNARY_SIGMOID: return T(1) / (T(1) + d_exp(-x));
        case UNARY_TANH: return d_tanh(x);
        case UNARY_RELU: return nan_max(T(0), x);
        case UNARY_THRESHOLD: return x >= T(0) ? T(1) : T(0);
        case UNARY_CLAMP: return nan_min(nan_max(x, p1), p2);
        case UNARY_POW: return d_pow(x, p1);
        default: return d_nan<T>();
    }
}

// op'(x)·g. Kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0; the threshold passes no gradient.
template <typename T> __device__ __forceinline__ T unary_grad(int op, T x, T g, T p1, T p2) {
    switch (op) {
        case UNARY_IDENTITY: return g;
        case UNARY_NEG: return -g;
        case UNARY_EXP: return d_exp(x) * g;
        case UNARY_LOG: return g / x;
        case UNARY_SQRT: return g / (T(2) * d_sqrt(x));
        case UNARY_ABS: {
            T sign = x > T(0) ? T(1) : (x < T(0) ? T(-1) : x * T(0));  // sign(±0) = ±0, sign(NaN) = NaN
            return sign * g;
        }
        case UNARY_SIGMOID: {
            T s = T(1) / (T(1) + d_exp(-x));
            return s * (T(1) - s) * g;
        }
        case UNARY_TANH: {
            T t = d_tanh(x);
            return (T(1) - t * t) * g;
        }
        case UNARY_RELU: return x > T(0) ? g : T(0);
        case UNARY_THRESHOLD: return T(0);
        case UNARY_CLAMP: return (p1 <= x && x <= p2) ? g : T(0);
        case UNARY_POW: return p1 * d_pow(x, p1 - T(1)) * g;
        default: return d_nan<T>();
    }
}
