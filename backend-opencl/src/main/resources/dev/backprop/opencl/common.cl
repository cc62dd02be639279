/*
 * Prepended to every program of the OpenCL backend. The build options choose the element type:
 *   -DREAL=float                     FLOAT32
 *   -DREAL=double -DREAL_IS_DOUBLE   FLOAT64 (only built when the device has cl_khr_fp64)
 *   -DREAL=int -DREAL_IS_INT         INT32 (only the programs that define integer kernels)
 * transpose.cl moves raw bits instead (-DELEM=uint or ulong) and defines no REAL.
 * Offsets and counts arrive as long element counts: views are never sub-buffers, whose origins would have to
 * meet the device's base-address alignment.
 */
#ifdef REAL_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if defined(REAL) && !defined(REAL_IS_INT)
/* max/min that propagate NaN like Java's Math.max and PyTorch's maximum (fmax would drop it). */
inline REAL nan_max(REAL a, REAL b) { return (isnan(a) || a > b) ? a : b; }
inline REAL nan_min(REAL a, REAL b) { return (isnan(a) || a < b) ? a : b; }

/*
 * Per-element functions of the one-op kernels (elementwise.cl, updates.cl) that the fused kernels (fused.cl) apply
 * too: one definition each, so a fused launch gives the bits of the launches it replaces.
 */
inline REAL identity(REAL v) { return v; }
inline REAL relu(REAL v) { return v > 0 ? v : (isnan(v) ? v : (REAL)0); }
inline REAL relu_backward(REAL v, REAL g) { return v > 0 ? g : (REAL)0; }
inline REAL sigmoid(REAL v) { return (REAL)1 / ((REAL)1 + exp(-v)); }

/* One parameter of SGD: g' = g + wd*p; with momentum v = mu*v + g', d = nesterov ? g' + mu*v : v; without,
 * d = g' and v is never touched; p -= lr*d. */
inline void sgd_step(__global REAL* p, __global const REAL* g, __global REAL* v, int hasMomentum, REAL lr,
                     REAL momentum, REAL weightDecay, int nesterov) {
    const REAL theta = *p;
    const REAL gi = *g + weightDecay * theta;
    REAL d = gi;
    if (hasMomentum) {
        const REAL vi = momentum * *v + gi;
        *v = vi;
        d = nesterov ? gi + momentum * vi : vi;
    }
    *p = theta - lr * d;
}

/* One parameter of Adam: AdamW (decoupled) p *= decay (= 1 - lr*wd) first; Adam g' = g + wd*p. Then the m, v
 * moments and p -= lr * (m / bc1) / (sqrt(v / bc2) + eps). 1 - beta1, 1 - beta2, decay and the bias corrections
 * bc1 = 1 - beta1^step, bc2 = 1 - beta2^step arrive computed in double: in float32, 1 - 0.999f is off by 5e-5. */
inline void adam_step(__global REAL* p, __global const REAL* g, __global REAL* m, __global REAL* v, REAL lr,
                      REAL beta1, REAL beta2, REAL oneMinusBeta1, REAL oneMinusBeta2, REAL eps, REAL weightDecay,
                      REAL decay, int decoupled, REAL bc1, REAL bc2) {
    REAL theta = *p;
    REAL gi = *g;
    if (decoupled) theta = theta * decay;
    else gi = gi + weightDecay * theta;
    const REAL mi = beta1 * *m + oneMinusBeta1 * gi;
    const REAL vi = beta2 * *v + oneMinusBeta2 * gi * gi;
    *m = mi;
    *v = vi;
    *p = theta - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}
#endif

#if defined(LS) && defined(REAL) && !defined(REAL_IS_INT)
/* Reduction op codes shared with the host (OpenClReductions): SUM, MEAN (a SUM divided at the end), MAX. */
#define OP_SUM 0
#define OP_MEAN 1
#define OP_MAX 2

inline REAL reduce_identity(int op) { return op == OP_MAX ? (REAL)(-INFINITY) : (REAL)0; }
inline REAL reduce_combine(int op, REAL a, REAL b) { return op == OP_MAX ? nan_max(a, b) : a + b; }

/*
 * Tree reduction of one value per work-item over a one-dimensional group of LS (a power of two) work-items;
 * every work-item gets the result. The trailing barrier lets the caller reuse the scratch right away.
 */
inline REAL group_reduce(__local REAL* scratch, REAL v, int op) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = LS / 2; w > 0; w >>= 1) {
        if (lid < w) scratch[lid] = reduce_combine(op, scratch[lid], scratch[lid + w]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const REAL r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/*
 * Column reductions (reduce_cols, bias_act_backward): a group of CX adjacent columns x CY row slices, work-item
 * (tx, ty) folding rows ty, ty + CY, ... of its column, so adjacent work-items read adjacent addresses.
 */
#define CX 16
#define CY (LS / CX)
/* Rows each work-item folds per round of COLUMN_FOLD. */
#define COLUMN_ROUND 4

/*
 * The fold of both column reductions: work-item (tx, ty) of column c adds rows ty, ty + CY, ... in order into acc,
 * ELEMENT being the value of element i = r * cols + c (evaluated only for rows and columns in range). A barrier
 * ends each round of COLUMN_ROUND * CY rows, so PoCL, which runs a group as a loop over its work-items, runs a
 * round for the whole group before the next and the group reads a block of rows x CX columns while it is cached.
 * Without barriers each work-item walked its whole column alone, a cache line and a page per row: over 20 times
 * an elementwise pass at 4096 x 1024. With a barrier after each row per work-item the rounds cost as much. Of 1, 4, 8,
 * 16 and 32 rows per round, 4 and 8 were fastest for reduce_cols and 4 for bias_act_backward, which also stores dz
 * (backend-opencl/README.md). Rounds do not change the order of the additions, so the bits stay the same. Every
 * work-item of a group meets the same barriers, as OpenCL requires: the number of rounds depends on rows alone.
 */
#define COLUMN_FOLD(acc, op, rows, cols, c, i, ELEMENT) \
    for (int r0_ = 0; r0_ < (rows); r0_ += COLUMN_ROUND * CY) { \
        if ((c) < (cols)) { \
            const int end_ = min((rows), r0_ + COLUMN_ROUND * CY); \
            for (int r_ = r0_ + (int)get_local_id(1); r_ < end_; r_ += CY) { \
                const long i = (long)r_ * (cols) + (c); \
                (acc) = reduce_combine((op), (acc), (ELEMENT)); \
            } \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
    }

/* Folds the CY slices' partials of each column as a tree in scratch (CY x CX); every work-item gets its column's
 * result. The order depends only on CY, so a fused kernel folding the same partials gets the same bits. */
inline REAL column_group_reduce(__local REAL* scratch, REAL acc, int op) {
    const int tx = get_local_id(0), ty = get_local_id(1);
    scratch[ty * CX + tx] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = CY / 2; w > 0; w >>= 1) {
        if (ty < w) scratch[ty * CX + tx] = reduce_combine(op, scratch[ty * CX + tx], scratch[(ty + w) * CX + tx]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return scratch[tx];
}
#endif
