// Kernels that only move bits: the tiled 2-D transpose and the row gather. The element types are unsigned
// integers of 4 and 8 bytes, so one kernel per element size serves FLOAT32 and INT32 (b32) and FLOAT64 (b64).
#include "common.cuh"

// dst (cols × rows) = src (rows × cols)ᵀ through a padded 32 × 33 shared tile, so both the read and the
// write are coalesced and the column read of the tile hits 32 distinct banks. Blocks are TILE × TILE_ROWS
// threads; both tile loops stride by the grid so any matrix size works with a capped grid.
template <typename T> __device__ void transpose_body(int rows, int cols, const T* src, T* dst) {
    __shared__ T tile[TILE][TILE + 1];
    const i64 tiles_x = ((i64) cols + TILE - 1) / TILE;
    const i64 tiles_y = ((i64) rows + TILE - 1) / TILE;
    for (i64 ty = blockIdx.y; ty < tiles_y; ty += gridDim.y) {
        for (i64 tx = blockIdx.x; tx < tiles_x; tx += gridDim.x) {
            const i64 c = tx * TILE + threadIdx.x;
            for (int k = threadIdx.y; k < TILE; k += TILE_ROWS) {
                const i64 r = ty * TILE + k;
                if (r < rows && c < cols) {
                    tile[k][threadIdx.x] = src[r * cols + c];
                }
            }
            __syncthreads();
            const i64 r_out = tx * TILE;  // dst row = src column
            const i64 c_out = ty * TILE + threadIdx.x;  // dst column = src row
            for (int k = threadIdx.y; k < TILE; k += TILE_ROWS) {
                if (r_out + k < cols && c_out < rows) {
                    dst[(r_out + k) * rows + c_out] = tile[threadIdx.x][k];
                }
            }
            __syncthreads();
        }
    }
}
extern "C" __global__ void transpose_b32(int rows, int cols, const unsigned* src, unsigned* dst) {
    transpose_body<unsigned>(rows, cols, src, dst);
}
extern "C" __global__ void transpose_b64(int rows, int cols, const unsigned long long* src,
                                         unsigned long long* dst) {
    transpose_body<unsigned long long>(rows, cols, src, dst);
}

// dst[r][c] = src[idx[r]][c] over n = rows × cols elements, a row of zeros for an index outside [0, src_rows).
// Consecutive threads take consecutive columns of a row, so reads and writes are coalesced along rows.
template <typename T> __device__ void gather_rows_body(i64 n, int cols, int src_rows, const T* src, const int* idx,
                                                       T* dst) {
    GRID_STRIDE(g, n) {
        const i64 r = g / cols;
        const int i = idx[r];
        dst[g] = (i >= 0 && i < src_rows) ? src[(i64) i * cols + (g - r * cols)] : T(0);
    }
}
extern "C" __global__ void gather_rows_b32(i64 n, int cols, int src_rows, const unsigned* src, const int* idx,
                                           unsigned* dst) {
    gather_rows_body<unsigned>(n, cols, src_rows, src, idx, dst);
}
extern "C" __global__ void gather_rows_b64(i64 n, int cols, int src_rows, const unsigned long long* src,
                                           const int* idx, unsigned long long* dst) {
    gather_rows_body<unsigned long long>(n, cols, src_rows, src, idx, dst);
}
