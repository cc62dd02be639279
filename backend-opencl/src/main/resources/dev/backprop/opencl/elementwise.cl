/*
 * Elementwise kernels, one work-item per element. The kernel name carries the op (unary_relu,
 * unary_backward_relu, binary_add ...) so no kernel branches on an op code per element; the host maps each
 * UnaryOp/BinaryOp constant to its kernel. Built for FLOAT32, FLOAT64 and INT32 (binary ops only, wrapping).
 */

#ifndef REAL_IS_INT

#define UNARY(name, expr) \
__kernel void unary_##name(__global const REAL* x, long xo, __global REAL* y, long yo, long n, REAL p1, \
                           REAL p2) { \
    const long i = get_global_id(0); \
    if (i < n) { const REAL v = x[xo + i]; y[yo + i] = (expr); } \
}

/* dx = f'(x) * g; dx may be the same range as x or g: each work-item reads both before writing. */
#define UNARY_BACKWARD(name, expr) \
__kernel void unary_backward_##name(__global const REAL* x, long xo, __global const REAL* gr, long go, \
                                    __global REAL* dx, long dxo, long n, REAL p1, REAL p2) { \
    const long i = get_global_id(0); \
    if (i < n) { const REAL v = x[xo + i]; const REAL g = gr[go + i]; dx[dxo + i] = (expr); } \
}

/* s(1-s) and 1-tanh^2 written through e = exp(-|x|) (resp. exp(-2|x|)): the textbook forms subtract two
 * numbers near 1 and lose most float32 digits once |x| is past about 5. */
inline REAL sigmoid_backward(REAL v, REAL g) {
    const REAL e = exp(-fabs(v)), d = (REAL)1 + e;
    return e / (d * d) * g;
}
inline REAL tanh_backward(REAL v, REAL g) {
    const REAL e = exp((REAL)-2 * fabs(v)), d = (REAL)1 + e;
    return (REAL)4 * e / (d * d) * g;
}

UNARY(identity, identity(v))
UNARY(neg, -v)
UNARY(exp, exp(v))
UNARY(log, log(v))
UNARY(sqrt, sqrt(v))
UNARY(abs, fabs(v))
UNARY(sigmoid, sigmoid(v))
UNARY(tanh, tanh(v))
UNARY(relu, relu(v))
UNARY(threshold, v >= 0 ? (REAL)1 : (REAL)0)
UNARY(clamp, nan_min(nan_max(v, p1), p2))
UNARY(pow, pow(v, p1))

UNARY_BACKWARD(identity, g)
UNARY_BACKWARD(neg, -g)
UNARY_BACKWARD(exp, exp(v) * g)
UNARY_BACKWARD(log, g / v)
UNARY_BACKWARD(sqrt, g / ((REAL)2 * sqrt(v)))
UNARY_BACKWARD(abs, (isnan(v) ? v : sign(v)) * g)
UNARY_BACKWARD(sigmoid, sigmoid_backward(v, g))
UNARY_BACKWARD(tanh, tanh_backward(v, g))
UNARY_BACKWARD(relu, relu_backward(v, g))
UNARY_BACKWARD(threshold, (REAL)0)
UNARY_BACKWARD(clamp, (v >= p1 && v <= p2) ? g : (REAL)0)
UNARY_BACKWARD(pow, p1 * pow(v, p1 - (REAL)1) * g)

/* y = alpha * x + beta * y; with readY == 0 (beta == 0) y is not read, so NaN in y does not propagate. */
__kernel void axpby(long n, REAL alpha, __global const REAL* x, long xo, REAL beta, __global REAL* y, long yo,
                    int readY) {
    const long i = get_global_id(0);
    if (i < n) y[yo + i] = readY ? alpha * x[xo + i] + beta * y[yo + i] : alpha * x[xo + i];
}

#define ADD_OP(a, b) ((a) + (b))
#define SUB_OP(a, b) ((a) - (b))
#define MUL_OP(a, b) ((a) * (b))
#define MAX_OP(a, b) nan_max(a, b)
#define MIN_OP(a, b) nan_min(a, b)

#else /* INT32: arithmetic on the unsigned bit patterns, so overflow wraps instead of being undefined */

#define ADD_OP(a, b) ((int)((uint)(a) + (uint)(b)))
#define SUB_OP(a, b) ((int)((uint)(a) - (uint)(b)))
#define MUL_OP(a, b) ((int)((uint)(a) * (uint)(b)))
#define MAX_OP(a, b) max(a, b)
#define MIN_OP(a, b) min(a, b)

#endif

/* Where operand element i of a rows x cols result lives, by broadcast mode: 0 full, 1 row vector (length cols),
 * 2 column vector (length rows), 3 scalar. */
inline long operand_index(long i, int cols, int mode) {
    return mode == 0 ? i : mode == 1 ? i % cols : mode == 2 ? i / cols : 0;
}

#define BINARY(name, expr) \
__kernel void binary_##name(long total, int cols, __global const REAL* a, long ao, int am, \
                            __global const REAL* b, long bo, int bm, __global REAL* out, long oo) { \
    const long i = get_global_id(0); \
    if (i < total) { \
        const REAL x = a[ao + operand_index(i, cols, am)]; \
        const REAL y = b[bo + operand_index(i, cols, bm)]; \
        out[oo + i] = (expr); \
    } \
}

BINARY(add, ADD_OP(x, y))
BINARY(sub, SUB_OP(x, y))
BINARY(mul, MUL_OP(x, y))
BINARY(max, MAX_OP(x, y))
BINARY(min, MIN_OP(x, y))
BINARY(eq, x == y ? (REAL)1 : (REAL)0)
BINARY(ne, x != y ? (REAL)1 : (REAL)0)
BINARY(lt, x < y ? (REAL)1 : (REAL)0)
BINARY(le, x <= y ? (REAL)1 : (REAL)0)
BINARY(gt, x > y ? (REAL)1 : (REAL)0)
BINARY(ge, x >= y ? (REAL)1 : (REAL)0)
#ifndef REAL_IS_INT
BINARY(div, x / y)
#endif
