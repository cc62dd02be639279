package dev.backprop.opencl;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.base.OpFamilies;

import java.util.Locale;

/**
 * Unary functions and their backward forms, broadcasting binary ops, {@code axpby} ({@code elementwise.cl}),
 * the 2-D transpose and the row gather ({@code transpose.cl}). One work-item per element; the kernel name encodes the
 * op ({@code unary_relu}, {@code binary_add}), so {@link #prepare} creating every kernel also proves that every
 * {@link UnaryOp} and {@link BinaryOp} constant has one.
 */
final class OpenClElementwise implements OpFamilies.Elementwise<OpenClBuffer> {
    private static final String SOURCE = "elementwise.cl";
    private static final String TRANSPOSE = "transpose.cl";
    private static final int TILE = 16; // transpose.cl's TILE

    private final OpenClRuntime rt;

    OpenClElementwise(OpenClRuntime rt) {
        this.rt = rt;
    }

    /** Builds the programs for {@code dtype} and creates every kernel of this family. */
    void prepare(DType dtype) {
        if (dtype.isFloating()) {
            for (UnaryOp op : UnaryOp.values()) {
                launch(dtype, unaryName(op));
                launch(dtype, unaryBackwardName(op));
            }
            launch(dtype, "axpby");
        }
        for (BinaryOp op : BinaryOp.values()) {
            if (dtype.isFloating() || op != BinaryOp.DIV) {
                launch(dtype, binaryName(op));
            }
        }
        bitsLaunch(dtype, "transpose");
        bitsLaunch(dtype, "gather_rows");
    }

    private OpenClLaunch launch(DType dtype, String kernel) {
        return rt.launch(SOURCE, "", dtype, kernel);
    }

    static String unaryName(UnaryOp op) {
        return "unary_" + op.name().toLowerCase(Locale.ROOT);
    }

    static String unaryBackwardName(UnaryOp op) {
        return "unary_backward_" + op.name().toLowerCase(Locale.ROOT);
    }

    static String binaryName(BinaryOp op) {
        return "binary_" + op.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void unary(UnaryOp op, double p1, double p2, OpenClBuffer x, long xOffset, OpenClBuffer y, long yOffset,
                      long n) {
        launch(x.dtype(), unaryName(op)).mem(x).i64(xOffset).mem(y).i64(yOffset).i64(n).real(p1).real(p2)
                .run1(n, rt.elementwiseGroupSize);
    }

    @Override
    public void unaryBackward(UnaryOp op, double p1, double p2, OpenClBuffer x, long xOffset, OpenClBuffer g,
                              long gOffset, OpenClBuffer dx, long dxOffset, long n) {
        launch(x.dtype(), unaryBackwardName(op)).mem(x).i64(xOffset).mem(g).i64(gOffset).mem(dx).i64(dxOffset).i64(n)
                .real(p1).real(p2).run1(n, rt.elementwiseGroupSize);
    }

    @Override
    public void binary(BinaryOp op, int rows, int cols, OpenClBuffer a, long aOffset, Broadcast aBroadcast,
                       OpenClBuffer b, long bOffset, Broadcast bBroadcast, OpenClBuffer out, long outOffset) {
        long total = (long) rows * cols;
        launch(out.dtype(), binaryName(op)).i64(total).i32(cols)
                .mem(a).i64(aOffset).i32(mode(aBroadcast))
                .mem(b).i64(bOffset).i32(mode(bBroadcast))
                .mem(out).i64(outOffset)
                .run1(total, rt.elementwiseGroupSize);
    }

    /** The broadcast codes of elementwise.cl's operand_index. */
    private static int mode(Broadcast b) {
        return switch (b) {
            case FULL -> 0;
            case ROW -> 1;
            case COLUMN -> 2;
            case SCALAR -> 3;
        };
    }

    @Override
    public void axpby(long n, double alpha, OpenClBuffer x, long xOffset, double beta, OpenClBuffer y, long yOffset) {
        launch(y.dtype(), "axpby").i64(n).real(alpha).mem(x).i64(xOffset).real(beta).mem(y).i64(yOffset)
                .i32(beta == 0 ? 0 : 1).run1(n, rt.elementwiseGroupSize);
    }

    @Override
    public void transpose(int rows, int cols, OpenClBuffer src, long srcOffset, OpenClBuffer dst, long dstOffset) {
        bitsLaunch(src.dtype(), "transpose").i32(rows).i32(cols).mem(src).i64(srcOffset).mem(dst).i64(dstOffset)
                .run(new long[] {OpenClLaunch.roundUp(cols, TILE), OpenClLaunch.roundUp(rows, TILE)},
                        new long[] {TILE, TILE});
    }

    @Override
    public void gatherRows(int rows, int cols, OpenClBuffer src, long srcOffset, int srcRows, OpenClBuffer indices,
                           long indicesOffset, OpenClBuffer dst, long dstOffset) {
        long n = (long) rows * cols;
        bitsLaunch(src.dtype(), "gather_rows").i64(n).i32(cols).i32(srcRows).mem(src).i64(srcOffset).mem(indices)
                .i64(indicesOffset).mem(dst).i64(dstOffset).run1(n, rt.elementwiseGroupSize);
    }

    /** Transposes and gathers move bits: one build per element size, whatever the dtype. */
    private OpenClLaunch bitsLaunch(DType dtype, String kernel) {
        String elem = dtype.byteSize() == 8 ? "ulong" : "uint";
        return new OpenClLaunch(rt, rt.programs.kernel(TRANSPOSE, "-DELEM=" + elem, kernel), kernel, dtype);
    }
}
