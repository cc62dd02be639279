package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.base.OpFamilies;
import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * Sums, means and maxima over all elements, per row and per column, and argmax per row
 * ({@code reductions.cl}). A full reduction runs as two launches through a small scratch buffer of per-group
 * partials that this class owns (allocated once, not counted as a user buffer); the in-order queue makes reuse
 * across calls safe without waiting.
 */
final class OpenClReductions implements OpFamilies.Reductions<OpenClBuffer>, AutoCloseable {
    private static final String SOURCE = "reductions.cl";
    /** Groups in the first stage of a full reduction: enough to fill a GPU, few enough for one final group. */
    private static final int PARTIAL_GROUPS = 256;
    /** Columns per group of reduce_cols (common.cl's CX). */
    private static final int CX = 16;

    private final OpenClRuntime rt;
    private cl_mem partials;

    OpenClReductions(OpenClRuntime rt) {
        this.rt = rt;
        int[] err = new int[1];
        cl_mem mem = CL.clCreateBuffer(rt.context, CL.CL_MEM_READ_WRITE, (long) PARTIAL_GROUPS * Double.BYTES, null,
                err);
        OpenClCheck.check(err[0], "clCreateBuffer", "reduction scratch");
        this.partials = mem;
    }

    /** Builds the program for {@code dtype} and creates its kernels. */
    void prepare(DType dtype) {
        for (String k : new String[] {"reduce_all_partial", "reduce_all_final", "reduce_rows", "reduce_cols",
                "argmax_rows"}) {
            launch(dtype, k);
        }
    }

    private OpenClLaunch launch(DType dtype, String kernel) {
        return rt.launch(SOURCE, rt.reduceOptions(), dtype, kernel);
    }

    /** reductions.cl's op codes. */
    private static int code(ReduceOp op) {
        return switch (op) {
            case SUM -> 0;
            case MEAN -> 1;
            case MAX -> 2;
        };
    }

    @Override
    public void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, OpenClBuffer x, long xOffset,
                       OpenClBuffer out, long outOffset) {
        DType dt = out.dtype();
        int ls = rt.reduceGroupSize;
        switch (axis) {
            case ALL -> {
                long n = (long) rows * cols;
                int groups = (int) Math.max(1, Math.min(PARTIAL_GROUPS, (n + ls - 1) / ls));
                launch(dt, "reduce_all_partial").i64(n).mem(x).i64(xOffset).mem(partials).i32(code(op))
                        .run(new long[] {(long) groups * ls}, new long[] {ls});
                launch(dt, "reduce_all_final").i32(groups).mem(partials).i64(n).mem(out).i64(outOffset)
                        .i32(code(op)).run(new long[] {ls}, new long[] {ls});
            }
            case PER_ROW -> {
                launch(dt, "reduce_rows").i32(cols).mem(x).i64(xOffset).mem(out).i64(outOffset).i32(code(op))
                        .run(new long[] {(long) rows * ls}, new long[] {ls});
            }
            case PER_COLUMN -> runColumns(launch(dt, "reduce_cols").i32(rows).i32(cols).mem(x).i64(xOffset)
                    .mem(out).i64(outOffset).i32(code(op)), cols, ls);
        }
    }

    /**
     * Enqueues a column reduction over {@code cols} columns with reduce_cols' group shape (common.cl's CX columns x
     * CY row slices for a group of {@code ls}), whose order of summation the fused bias gradient repeats.
     */
    static void runColumns(OpenClLaunch l, int cols, int ls) {
        l.run(new long[] {OpenClLaunch.roundUp(cols, CX), ls / CX}, new long[] {CX, ls / CX});
    }

    @Override
    public void argmaxRows(int rows, int cols, OpenClBuffer x, long xOffset, OpenClBuffer out, long outOffset) {
        int ls = rt.reduceGroupSize;
        launch(x.dtype(), "argmax_rows").i32(cols).mem(x).i64(xOffset).mem(out).i64(outOffset)
                .run(new long[] {(long) rows * ls}, new long[] {ls});
    }

    /** Frees the scratch buffer. Idempotent. */
    @Override
    public void close() {
        cl_mem mem = partials;
        partials = null;
        if (mem != null) {
            OpenClCheck.check(CL.clReleaseMemObject(mem), "clReleaseMemObject", "reduction scratch");
        }
    }
}
