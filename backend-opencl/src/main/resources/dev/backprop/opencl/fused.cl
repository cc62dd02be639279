/*
 * Fused kernels of a training step, each giving the bits of the launches it replaces (the per-element functions
 * come from common.cl, shared with elementwise.cl and updates.cl):
 *  - bias_act_<act>: a dense layer's epilogue, y = act(z + bias) over rows x cols with the bias broadcast along
 *    rows: binary_add (row broadcast) then unary_<act> in one pass, one work-item per element.
 *  - bias_act_backward_<act>: dz = act'(z)·g from the output y (written once) and dbias = the column sums of dz,
 *    in reduce_cols' group shape and order (COLUMN_FOLD, column_group_reduce): one launch for any number of rows,
 *    as reduce_cols is.
 *  - sgd_update_multi / adam_update_multi: the optimizer step of up to eight tensors in one launch. OpenCL 1.2
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

/*
 * v is the forward output y, g the gradient; dz may be the same range as g: each work-item reads both first.
 * The derivative of element i, stored to dz and folded into the column sum by COLUMN_FOLD, reduce_cols' loop.
 */
#define BIAS_ACT_BACKWARD(name, expr) \
inline REAL bias_act_backward_element_##name(__global const REAL* y, __global const REAL* gr, __global REAL* dz, \
                                             long i) { \
    const REAL v = y[i], g = gr[i]; \
    const REAL d = (expr); \
    dz[i] = d; \
    return d; \
} \
__kernel __attribute__((reqd_work_group_size(CX, CY, 1))) \
void bias_act_backward_##name(int rows, int cols, __global const REAL* y, long yo, __global const REAL* gr, \
                              long go, __global REAL* dz, long dzo, __global REAL* dbias, long dbo) { \
    __local REAL scratch[CY * CX]; \
    const int c = get_global_id(0); \
    REAL acc = reduce_identity(OP_SUM); \
    COLUMN_FOLD(acc, OP_SUM, rows, cols, c, i, bias_act_backward_element_##name(y + yo, gr + go, dz + dzo, i)) \
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
#define SGD_PICK(t) p = tensor == t ? p##t + po##t : p; g = tensor == t ? g##t + go##t : g; \
                    v = tensor == t ? v##t + vo##t : v; n = tensor == t ? n##t : n; \
                    first = tensor == t ? first##t : first;

/*
 * The group's tensor is picked with selects, not a switch: PoCL runs a group as a loop over its work-items and
 * vectorizes that loop only when its body has no branches; the selects depend on the group alone, so they are
 * hoisted out and the body is sgd_update's. With a switch the kernel took 4 to 6 times as long per element.
 */
__kernel void sgd_update_multi(REAL lr, REAL momentum, REAL weightDecay, int nesterov, int momentumMask,
                               SGD_TENSOR(0), SGD_TENSOR(1), SGD_TENSOR(2), SGD_TENSOR(3), SGD_TENSOR(4),
                               SGD_TENSOR(5), SGD_TENSOR(6), SGD_TENSOR(7)) {
    const long grp = get_group_id(0);
    const int tensor = TENSOR_OF(grp);
    __global REAL* p = p0 + po0;
    __global const REAL* g = g0 + go0;
    __global REAL* v = v0 + vo0;
    long n = n0, first = first0;
    SGD_PICK(1) SGD_PICK(2) SGD_PICK(3) SGD_PICK(4) SGD_PICK(5) SGD_PICK(6) SGD_PICK(7)
    const long i = (grp - first) * get_local_size(0) + get_local_id(0);
    if (i < n) sgd_step(p + i, g + i, v + i, (momentumMask >> tensor) & 1, lr, momentum, weightDecay, nesterov);
}

#define ADAM_TENSOR(t) __global REAL* p##t, long po##t, __global const REAL* g##t, long go##t, __global REAL* m##t, \
                       long mo##t, __global REAL* v##t, long vo##t, long n##t, long first##t
#define ADAM_PICK(t) p = tensor == t ? p##t + po##t : p; g = tensor == t ? g##t + go##t : g; \
                     m = tensor == t ? m##t + mo##t : m; v = tensor == t ? v##t + vo##t : v; \
                     n = tensor == t ? n##t : n; first = tensor == t ? first##t : first;

__kernel void adam_update_multi(REAL lr, REAL beta1, REAL beta2, REAL oneMinusBeta1, REAL oneMinusBeta2, REAL eps,
                                REAL weightDecay, REAL decay, int decoupled, REAL bc1, REAL bc2,
                                ADAM_TENSOR(0), ADAM_TENSOR(1), ADAM_TENSOR(2), ADAM_TENSOR(3), ADAM_TENSOR(4),
                                ADAM_TENSOR(5), ADAM_TENSOR(6), ADAM_TENSOR(7)) {
    const long grp = get_group_id(0);
    const int tensor = TENSOR_OF(grp);
    __global REAL* p = p0 + po0;
    __global const REAL* g = g0 + go0;
    __global REAL* m = m0 + mo0;
    __global REAL* v = v0 + vo0;
    long n = n0, first = first0;
    ADAM_PICK(1) ADAM_PICK(2) ADAM_PICK(3) ADAM_PICK(4) ADAM_PICK(5) ADAM_PICK(6) ADAM_PICK(7)
    const long i = (grp - first) * get_local_size(0) + get_local_id(0);
    if (i < n) {
        adam_step(p + i, g + i, m + i, v + i, lr, beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, weightDecay, decay,
                  decoupled, bc1, bc2);
    }
}
