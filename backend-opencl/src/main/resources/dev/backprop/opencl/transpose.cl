/*
 * Kernels that only move bits: the transpose and the row gather. ELEM is uint or ulong, so one build per element
 * size serves FLOAT32 and INT32 (and FLOAT64 without needing cl_khr_fp64).
 *
 * transpose: dst (cols x rows) = src (rows x cols)^T, both contiguous.
 * A TILE x TILE group stages its block in local memory so that both the reads and the writes go along rows;
 * the +1 column keeps the transposed reads of the tile off a single local-memory bank on GPUs.
 */
#define TILE 16

__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void transpose(int rows, int cols, __global const ELEM* src, long so, __global ELEM* dst, long dso) {
    __local ELEM tile[TILE][TILE + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int c = get_group_id(0) * TILE + tx, r = get_group_id(1) * TILE + ty;
    if (r < rows && c < cols) tile[ty][tx] = src[so + (long)r * cols + c];
    barrier(CLK_LOCAL_MEM_FENCE);
    const int oc = get_group_id(1) * TILE + tx, orow = get_group_id(0) * TILE + ty; /* dst row = src column */
    if (orow < cols && oc < rows) dst[dso + (long)orow * rows + oc] = tile[tx][ty];
}

/*
 * gather_rows: dst[r][c] = src[idx[r]][c] over n = rows x cols elements, a row of zeros for an index outside
 * [0, srcRows). One work-item per element, the column fastest, so a group reads and writes along rows.
 */
__kernel void gather_rows(long n, int cols, int srcRows, __global const ELEM* src, long so,
                          __global const int* idx, long io, __global ELEM* dst, long dso) {
    const long g = get_global_id(0);
    if (g >= n) return;
    const long r = g / cols;
    const int i = idx[io + r];
    dst[dso + g] = (i >= 0 && i < srcRows) ? src[so + (long)i * cols + (g - r * cols)] : (ELEM)0;
}
