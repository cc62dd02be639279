/*
 * Sums, means and maxima of a rows x cols matrix, and argmax per row. Built with LS, the work-group size of
 * the one-dimensional kernels (a power of two: 64 on CPU devices, where a group runs as a loop on one core,
 * 256 on GPUs). No host round trip: reduce_all runs as two launches (partials per group, then one group over
 * the partials) into a scratch buffer the backend owns.
 */

/* Stage 1 of a full reduction: group g reduces elements g*LS+lid, stepping by the whole grid. */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void reduce_all_partial(long n, __global const REAL* x, long xo, __global REAL* partial, int op) {
    __local REAL scratch[LS];
    const long stride = (long)get_num_groups(0) * LS;
    REAL acc = reduce_identity(op);
    for (long i = get_global_id(0); i < n; i += stride) acc = reduce_combine(op, acc, x[xo + i]);
    acc = group_reduce(scratch, acc, op);
    if (get_local_id(0) == 0) partial[get_group_id(0)] = acc;
}

/* Stage 2: one group folds the count partials into out[oo] (divided by n for MEAN). */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void reduce_all_final(int count, __global const REAL* partial, long n, __global REAL* out, long oo, int op) {
    __local REAL scratch[LS];
    REAL acc = reduce_identity(op);
    for (int i = get_local_id(0); i < count; i += LS) acc = reduce_combine(op, acc, partial[i]);
    acc = group_reduce(scratch, acc, op);
    if (get_local_id(0) == 0) out[oo] = op == OP_MEAN ? acc / (REAL)n : acc;
}

/* One group per row. */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void reduce_rows(int cols, __global const REAL* x, long xo, __global REAL* out, long oo, int op) {
    __local REAL scratch[LS];
    const long row = get_group_id(0);
    __global const REAL* xr = x + xo + row * cols;
    REAL acc = reduce_identity(op);
    for (int c = get_local_id(0); c < cols; c += LS) acc = reduce_combine(op, acc, xr[c]);
    acc = group_reduce(scratch, acc, op);
    if (get_local_id(0) == 0) out[oo + row] = op == OP_MEAN ? acc / (REAL)cols : acc;
}

/* Column reductions: see CX, CY, COLUMN_FOLD and column_group_reduce in common.cl. */
__kernel __attribute__((reqd_work_group_size(CX, CY, 1)))
void reduce_cols(int rows, int cols, __global const REAL* x, long xo, __global REAL* out, long oo, int op) {
    __local REAL scratch[CY * CX];
    const int c = get_global_id(0);
    REAL acc = reduce_identity(op);
    COLUMN_FOLD(acc, op, rows, cols, c, i, x[xo + i])
    acc = column_group_reduce(scratch, acc, op);
    if (get_local_id(1) == 0 && c < cols) out[oo + c] = op == OP_MEAN ? acc / (REAL)rows : acc;
}

/* (value, index) a beats b: NaN counts as largest, ties and NaN pairs go to the smaller index. */
inline int argmax_better(REAL av, int ai, REAL bv, int bi) {
    const int an = isnan(av), bn = isnan(bv);
    if (an || bn) return an && (!bn || ai < bi);
    return av > bv || (av == bv && ai < bi);
}

/* One group per row: the first index of the row's largest element into an int buffer. */
__kernel __attribute__((reqd_work_group_size(LS, 1, 1)))
void argmax_rows(int cols, __global const REAL* x, long xo, __global int* out, long oo) {
    __local REAL sv[LS];
    __local int si[LS];
    const int lid = get_local_id(0);
    const long row = get_group_id(0);
    __global const REAL* xr = x + xo + row * cols;
    REAL bv = (REAL)(-INFINITY);
    int bi = INT_MAX;
    for (int c = lid; c < cols; c += LS) {
        if (argmax_better(xr[c], c, bv, bi)) { bv = xr[c]; bi = c; }
    }
    sv[lid] = bv;
    si[lid] = bi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = LS / 2; w > 0; w >>= 1) {
        if (lid < w && argmax_better(sv[lid + w], si[lid + w], sv[lid], si[lid])) {
            sv[lid] = sv[lid + w];
            si[lid] = si[lid + w];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[oo + row] = si[0];
}
