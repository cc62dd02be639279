/*
 * Fused kernels of a training step, each giving the bits of the launches it replaces (the per-element functions
 * come from common.cl, shared with elementwise.cl and updates.cl):
 *  - bias_act_<act>: a dense layer's epilogue, y = act(z + bias) over rows x cols with the bias broadcast along
 *    rows: binary_add (row broadcast) then unary_<act> in one pass, one work-item per element.
 *  - bias_act_backward_<act>: dz = act'(z)·g from the output y (written once) and dbias = the column sums of dz,
 *    in reduce_cols' group shape and order (column_group_reduce): one launch for any number of rows, as
 *    reduce_cols is.
 *  - sgd_update_multi / adam_update_multi: the optimizer step of up to MULTI tensors in one launch. OpenCL 1.2
 *    buffers cannot hold device pointers, so each tensor comes as kernel arguments (buffers, offsets, length and
 *    its first work-group); the groups of all tensors form one range, each group stepping the elements of one.
 * The derivatives are the SPI's default expressions, each product and difference rounded on its own as the
 * separate launches round them: contracting 1 - y*y into an fma would change the bits.
 */
#pragma OPENCL FP_CONTRACT OFF

#define BIAS_ACT(name) \
__kernel void bias_act_##name(long n, int cols, __global const REAL* z, long zo, __global const REAL* bias, \
                              long bo, __global REAL* y, long yo) { \
    const long i = get_global_id(0); \
    if (i < n) y[yo + i] = name(z[zo + i] + bias[bo + i % cols]); \
}

BIAS_ACT(identity)
BIAS_ACT(relu)
BIAS_ACT(sigmoid)
BIAS_ACT(tanh)

/* v is the forward output y, g the gradient; dz may be the same range as g: each work-item reads both first. */
#define BIAS_ACT_BACKWARD(name, expr) \
__kernel __attribute__((reqd_work_group_size(CX, CY, 1))) \
void bias_act_backward_##name(int rows, int cols, __global const REAL* y, long yo, __global const REAL* gr, \
                              long go, __global REAL* dz, long dzo, __global REAL* dbias, long dbo) { \
    __local REAL scratch[CY * CX]; \
    const int c = get_global_id(0); \
    REAL acc = reduce_identity(OP_SUM); \
    if (c < cols) { \
        for (int r = get_local_id(1); r < rows; r += CY) { \
            const long i = (long)r * cols + c; \
            const REAL v = y[yo + i], g = gr[go + i]; \
            const REAL d = (expr); \
            dz[dzo + i] = d; \
            acc = reduce_combine(OP_SUM, acc, d); \
        } \
    } \
    acc = column_group_reduce(scratch, acc, OP_SUM); \
    if (get_local_id(1) == 0 && c < cols) dbias[dbo + c] = acc; \
}

BIAS_ACT_BACKWARD(identity, g)
BIAS_ACT_BACKWARD(relu, relu_backward(v, g))
BIAS_ACT_BACKWARD(sigmoid, v * ((REAL)1 - v) * g)
BIAS_ACT_BACKWARD(tanh, ((REAL)1 - v * v) * g)

/*
 * Eight tensor slots per multi-tensor launch (OpenClFused.MULTI_TENSORS). Slots past the last tensor have
 * first = LONG_MAX, so no group selects them: a group's tensor is the number of slots 1..7 that start at or
 * before it.
 */
#define TENSOR_OF(grp) ((grp >= first1) + (grp >= first2) + (grp >= first3) + (grp >= first4) + (grp >= first5) \
                        + (grp >= first6) + (grp >= first7))

/* Without momentum (bit t of momentumMask clear) v##t is a placeholder that is never touched. */
#define SGD_TENSOR(t) __global REAL* p##t, long po##t, __global const REAL* g##t, long go##t, __global REAL* v##t, \
                      long vo##t, long n##t, long first##t
#define SGD_CASE(t) case t: { \
    const long i = (grp - first##t) * get_local_size(0) + get_local_id(0); \
    if (i < n##t) sgd_step(p##t + po##t + i, g##t + go##t + i, v##t + vo##t + i, (momentumMask >> t) & 1, lr, \
                           momentum, weightDecay, nesterov); \
    break; \
}

__kernel void sgd_update_multi(REAL lr, REAL momentum, REAL weightDecay, int nesterov, int momentumMask,
                               SGD_TENSOR(0), SGD_TENSOR(1), SGD_TENSOR(2), SGD_TENSOR(3), SGD_TENSOR(4),
                               SGD_TENSOR(5), SGD_TENSOR(6), SGD_TENSOR(7)) {
    const long grp = get_group_id(0);
    switch (TENSOR_OF(grp)) {
        SGD_CASE(0) SGD_CASE(1) SGD_CASE(2) SGD_CASE(3) SGD_CASE(4) SGD_CASE(5) SGD_CASE(6) SGD_CASE(7)
    }
}

#define ADAM_TENSOR(t) __global REAL* p##t, long po##t, __global const REAL* g##t, long go##t, __global REAL* m##t, \
                       long mo##t, __global REAL* v##t, long vo##t, long n##t, long first##t
#define ADAM_CASE(t) case t: { \
    const long i = (grp - first##t) * get_local_size(0) + get_local_id(0); \
    if (i < n##t) adam_step(p##t + po##t + i, g##t + go##t + i, m##t + mo##t + i, v##t + vo##t + i, lr, beta1, \
                            beta2, oneMinusBeta1, oneMinusBeta2, eps, weightDecay, decay, decoupled, bc1, bc2); \
    break; \
}

__kernel void adam_update_multi(REAL lr, REAL beta1, REAL beta2, REAL oneMinusBeta1, REAL oneMinusBeta2, REAL eps,
                                REAL weightDecay, REAL decay, int decoupled, REAL bc1, REAL bc2,
                                ADAM_TENSOR(0), ADAM_TENSOR(1), ADAM_TENSOR(2), ADAM_TENSOR(3), ADAM_TENSOR(4),
                                ADAM_TENSOR(5), ADAM_TENSOR(6), ADAM_TENSOR(7)) {
    const long grp = get_group_id(0);
    switch (TENSOR_OF(grp)) {
        ADAM_CASE(0) ADAM_CASE(1) ADAM_CASE(2) ADAM_CASE(3) ADAM_CASE(4) ADAM_CASE(5) ADAM_CASE(6) ADAM_CASE(7)
    }
}
