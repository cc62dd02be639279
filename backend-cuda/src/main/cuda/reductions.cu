// Reductions and argmax. Every result is produced in a fixed order that depends only on the input shape
// (never on timing or on the device), so repeated runs are bit-identical; no atomics are used.
//  - reduce_all_partial: a grid of G blocks, each folding a grid-stride slice into one partial; the Java side
//    picks G from n alone and finishes with reduce_rows over the 1 × G partials.
//  - reduce_rows: one block per row, threads stride over the columns, then a block reduction.
//  - reduce_cols: 32 columns per block, TILE_ROWS threads down each column over a chunk of rows; with
//    several row chunks the Java side reduces the chunks × cols partials again with reduce_cols.
//  - argmax_rows: one block per row, (value, index) pairs combined with Java's NaN and tie rules.
#include "common.cuh"

// MEAN divides by count at the end; partial passes are launched with SUM so they never divide.
template <typename T> __device__ __forceinline__ T finish(int op, T acc, double count) {
    return op == REDUCE_MEAN ? (T) ((double) acc / count) : acc;
}

template <class Op, typename T> __device__ void reduce_all_partial_body(const T* x, i64 n, T* partial) {
    T acc = Op::identity();
    GRID_STRIDE(i, n) {
        acc = Op::apply(acc, x[i]);
    }
    acc = block_reduce<Op, T>(acc);
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = acc;
    }
}
extern "C" __global__ void reduce_all_partial_f32(int op, const float* x, i64 n, float* partial) {
    if (op == REDUCE_MAX) {
        reduce_all_partial_body<MaxOp<float>, float>(x, n, partial);
    } else {
        reduce_all_partial_body<SumOp<float>, float>(x, n, partial);
    }
}
extern "C" __global__ void reduce_all_partial_f64(int op, const double* x, i64 n, double* partial) {
    if (op == REDUCE_MAX) {
        reduce_all_partial_body<MaxOp<double>, double>(x, n, partial);
    } else {
        reduce_all_partial_body<SumOp<double>, double>(x, n, partial);
    }
}

template <class Op, typename T>
__device__ void reduce_rows_body(int op, int rows, int cols, const T* x, T* out, double count) {
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * cols;
        T acc = Op::identity();
        for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
            acc = Op::apply(acc, xr[c]);
        }
        acc = block_reduce<Op, T>(acc);
        if (threadIdx.x == 0) {
            out[row] = finish<T>(op, acc, count);
        }
    }
}
extern "C" __global__ void reduce_rows_f32(int op, int rows, int cols, const float* x, float* out, double count) {
    if (op == REDUCE_MAX) {
        reduce_rows_body<MaxOp<float>, float>(op, rows, cols, x, out, count);
    } else {
        reduce_rows_body<SumOp<float>, float>(op, rows, cols, x, out, count);
    }
}
extern "C" __global__ void reduce_rows_f64(int op, int rows, int cols, const double* x, double* out,
                                           double count) {
    if (op == REDUCE_MAX) {
        reduce_rows_body<MaxOp<double>, double>(op, rows, cols, x, out, count);
    } else {
        reduce_rows_body<SumOp<double>, double>(op, rows, cols, x, out, count);
    }
}

// Block (TILE, TILE_ROWS); blockIdx.y is the row chunk, which writes row blockIdx.y of out (chunks × cols).
template <class Op, typename T>
__device__ void reduce_cols_body(int op, int rows, int cols, int rows_per_chunk, const T* x, T* out,
                                 double count) {
    __shared__ T part[TILE_ROWS][TILE + 1];
    const i64 first = (i64) blockIdx.y * rows_per_chunk;
    const i64 last = min((i64) rows, first + rows_per_chunk);
    for (i64 c0 = (i64) blockIdx.x * TILE; c0 < cols; c0 += (i64) gridDim.x * TILE) {
        const i64 c = c0 + threadIdx.x;
        T acc = Op::identity();
        if (c < cols) {
            for (i64 r = first + threadIdx.y; r < last; r += TILE_ROWS) {
                acc = Op::apply(acc, x[r * cols + c]);
            }
        }
        part[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && c < cols) {
            T total = part[0][threadIdx.x];
            for (int k = 1; k < TILE_ROWS; k++) {
                total = Op::apply(total, part[k][threadIdx.x]);
            }
            out[(i64) blockIdx.y * cols + c] = finish<T>(op, total, count);
        }
        __syncthreads();
    }
}
extern "C" __global__ void reduce_cols_f32(int op, int rows, int cols, int rows_per_chunk, const float* x,
                                           float* out, double count) {
    if (op == REDUCE_MAX) {
        reduce_cols_body<MaxOp<float>, float>(op, rows, cols, rows_per_chunk, x, out, count);
    } else {
        reduce_cols_body<SumOp<float>, float>(op, rows, cols, rows_per_chunk, x, out, count);
    }
}
extern "C" __global__ void reduce_cols_f64(int op, int rows, int cols, int rows_per_chunk, const double* x,
                                           double* out, double count) {
    if (op == REDUCE_MAX) {
        reduce_cols_body<MaxOp<double>, double>(op, rows, cols, rows_per_chunk, x, out, count);
    } else {
        reduce_cols_body<SumOp<double>, double>(op, rows, cols, rows_per_chunk, x, out, count);
    }
}

// Whether candidate (v, i) beats the current best (bv, bi): NaN is largest (the first NaN wins), then the
// larger value, then the smaller index. An index of -1 means "no element yet".
template <typename T> __device__ __forceinline__ bool argmax_better(T v, int i, T bv, int bi) {
    if (i < 0) {
        return false;
    }
    if (bi < 0) {
        return true;
    }
    const bool vn = d_isnan(v), bn = d_isnan(bv);
    if (vn || bn) {
        return vn && (!bn || i < bi);
    }
    return v > bv || (v == bv && i < bi);
}

// Leaves lane 0 of the warp with the best (bv, bi) of its 32 lanes, by argmax_better's order.
template <typename T> __device__ __forceinline__ void warp_argmax(T& bv, int& bi) {
    for (int o = 16; o > 0; o >>= 1) {
        const T ov = __shfl_down_sync(0xffffffffu, bv, o);
        const int oi = __shfl_down_sync(0xffffffffu, bi, o);
        if (argmax_better<T>(ov, oi, bv, bi)) {
            bv = ov;
            bi = oi;
        }
    }
}

template <typename T> __device__ void argmax_rows_body(int rows, int cols, const T* x, int* out) {
    __shared__ T best_v[32];
    __shared__ int best_i[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * cols;
        T bv = T(0);
        int bi = -1;
        for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
            if (argmax_better<T>(xr[c], (int) c, bv, bi)) {
                bv = xr[c];
                bi = (int) c;
            }
        }
        warp_argmax<T>(bv, bi);
        if (lane == 0) {
            best_v[warp] = bv;
            best_i[warp] = bi;
        }
        __syncthreads();
        if (warp == 0) {
            const int warps = (blockDim.x + 31) >> 5;
            bv = lane < warps ? best_v[lane] : T(0);
            bi = lane < warps ? best_i[lane] : -1;
            warp_argmax<T>(bv, bi);
            if (lane == 0) {
                out[row] = bi;
            }
        }
        __syncthreads();
    }
}
extern "C" __global__ void argmax_rows_f32(int rows, int cols, const float* x, int* out) {
    argmax_rows_body<float>(rows, cols, x, out);
}
extern "C" __global__ void argmax_rows_f64(int rows, int cols, const double* x, int* out) {
    argmax_rows_body<double>(rows, cols, x, out);
}
