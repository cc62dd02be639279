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
#endif
