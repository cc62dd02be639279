package dev.backprop.cuda;

import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.backend.base.OpFamilies;
import dev.backprop.cuda.CudaLaunch.Shape;
import jcuda.driver.CUdeviceptr;

import static dev.backprop.cuda.CudaKernel.floating;

/**
 * Sums, means and maxima over all elements, rows or columns, and argmax per row (kernels in
 * {@code reductions.cu}). A whole-array reduction of at most {@link #ELEMENTS_PER_PARTIAL} elements (a batch's losses)
 * is one launch of the row kernel; larger ones and tall column reductions take two passes, which keep their
 * partial results in scratch blocks from the backend's pool. The number of partials depends only on the shape,
 * so results are the same on every run and every GPU. MEAN sums in the partial passes and divides once at the end.
 */
final class CudaReductions implements OpFamilies.Reductions<CudaBuffer> {
    /** Most partial results of a whole-array reduction (the final pass is one block over them). */
    static final int MAX_PARTIALS = 1024;
    /** Elements per block of the whole-array partial pass, before the partial count is capped. */
    static final int ELEMENTS_PER_PARTIAL = 2048;
    /** Fewest rows a column-reduction chunk covers. */
    static final int MIN_ROWS_PER_CHUNK = 256;

    private final CudaLaunch launch;
    private final MemoryPool<CUdeviceptr> pool;

    CudaReductions(CudaLaunch launch, MemoryPool<CUdeviceptr> pool) {
        this.launch = launch;
        this.pool = pool;
    }

    /** Partial results of a whole-array reduction of {@code n} elements: 1 to {@link #MAX_PARTIALS}. */
    static int partialsFor(long n) {
        return (int) Math.max(1, Math.min(MAX_PARTIALS, (n + ELEMENTS_PER_PARTIAL - 1) / ELEMENTS_PER_PARTIAL));
    }

    /** Rows per chunk of a column reduction, so that there are at most {@link #MAX_PARTIALS} chunks. */
    static int rowsPerChunk(int rows) {
        return (int) Math.max(MIN_ROWS_PER_CHUNK, ((long) rows + MAX_PARTIALS - 1) / MAX_PARTIALS);
    }

    /** The launches of a whole-array reduction: the row kernel in one block, or the partials then one block. */
    static Shape[] allPasses(long n) {
        int partials = partialsFor(n);
        return partials == 1 ? new Shape[] {Shape.blocks(1)} : new Shape[] {Shape.blocks(partials), Shape.blocks(1)};
    }

    /** The launches of a column reduction: one pass when the rows fit one chunk, else the chunks then one pass. */
    static Shape[] columnPasses(int rows, int cols) {
        int perChunk = rowsPerChunk(rows);
        int chunks = (int) (((long) rows + perChunk - 1) / perChunk);
        return chunks <= 1 ? new Shape[] {Shape.columns(cols, 1)}
                : new Shape[] {Shape.columns(cols, chunks), Shape.columns(cols, 1)};
    }

    @Override
    public void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, CudaBuffer x, long xOffset, CudaBuffer out,
                       long outOffset) {
        switch (axis) {
            case ALL -> all(op, (long) rows * cols, x, xOffset, out, outOffset);
            case PER_ROW -> launch.perRow(floating(x.dtype(), CudaKernel.REDUCE_ROWS_F32, CudaKernel.REDUCE_ROWS_F64),
                    rows, CudaOpCodes.reduce(op), rows, cols, x.at(xOffset), out.at(outOffset), (double) cols);
            case PER_COLUMN -> columns(op, rows, cols, x, xOffset, out, outOffset);
        }
    }

    private static ReduceOp partialOp(ReduceOp op) {
        return op == ReduceOp.MEAN ? ReduceOp.SUM : op;
    }

    private void all(ReduceOp op, long n, CudaBuffer x, long xOffset, CudaBuffer out, long outOffset) {
        Shape[] passes = allPasses(n);
        if (passes.length == 1) { // one block does it all: the row kernel over a single row of n (a batch's losses)
            launch.launch(floating(x.dtype(), CudaKernel.REDUCE_ROWS_F32, CudaKernel.REDUCE_ROWS_F64), passes[0],
                    CudaOpCodes.reduce(op), 1, (int) n, x.at(xOffset), out.at(outOffset), (double) n);
            return;
        }
        int partials = passes[0].gridX();
        MemoryPool.Block<CUdeviceptr> scratch = pool.allocate(x.dtype(), partials);
        try {
            launch.launch(floating(x.dtype(), CudaKernel.REDUCE_ALL_PARTIAL_F32, CudaKernel.REDUCE_ALL_PARTIAL_F64),
                    passes[0], CudaOpCodes.reduce(partialOp(op)), x.at(xOffset), n, scratch.raw());
            launch.launch(floating(x.dtype(), CudaKernel.REDUCE_ROWS_F32, CudaKernel.REDUCE_ROWS_F64), passes[1],
                    CudaOpCodes.reduce(op), 1, partials, scratch.raw(), out.at(outOffset), (double) n);
        } finally {
            pool.free(scratch);
        }
    }

    private void columns(ReduceOp op, int rows, int cols, CudaBuffer x, long xOffset, CudaBuffer out,
                         long outOffset) {
        CudaKernel kernel = floating(x.dtype(), CudaKernel.REDUCE_COLS_F32, CudaKernel.REDUCE_COLS_F64);
        int perChunk = rowsPerChunk(rows);
        Shape[] passes = columnPasses(rows, cols);
        if (passes.length == 1) {
            launch.launch(kernel, passes[0], CudaOpCodes.reduce(op), rows, cols, perChunk, x.at(xOffset),
                    out.at(outOffset), (double) rows);
            return;
        }
        int chunks = passes[0].gridY();
        MemoryPool.Block<CUdeviceptr> scratch = pool.allocate(x.dtype(), (long) chunks * cols);
        try {
            launch.launch(kernel, passes[0], CudaOpCodes.reduce(partialOp(op)), rows, cols, perChunk, x.at(xOffset),
                    scratch.raw(), 1.0);
            launch.launch(kernel, passes[1], CudaOpCodes.reduce(op), chunks, cols, chunks, scratch.raw(),
                    out.at(outOffset), (double) rows);
        } finally {
            pool.free(scratch);
        }
    }

    @Override
    public void argmaxRows(int rows, int cols, CudaBuffer x, long xOffset, CudaBuffer out, long outOffset) {
        launch.perRow(floating(x.dtype(), CudaKernel.ARGMAX_ROWS_F32, CudaKernel.ARGMAX_ROWS_F64), rows, rows, cols,
                x.at(xOffset), out.at(outOffset));
    }
}
