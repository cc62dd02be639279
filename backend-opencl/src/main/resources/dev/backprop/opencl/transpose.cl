/*
 * dst (cols x rows) = src (rows x cols)^T, both contiguous. ELEM is uint or ulong: a transpose only moves
 * bits, so one build per element size serves FLOAT32 and INT32 (and FLOAT64 without needing cl_khr_fp64).
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
