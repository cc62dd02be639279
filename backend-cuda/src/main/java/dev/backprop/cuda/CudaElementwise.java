package dev.backprop.cuda;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.base.OpFamilies;

import static dev.backprop.cuda.CudaKernel.floating;

/**
 * Unary ops and their backward forms, broadcasting binary ops, axpby, GEMM's beta scaling, transpose and the row
 * gather: one launch each (kernels in {@code elementwise.cu}). Arguments are validated by core; sizes are non-zero
 * here.
 */
final class CudaElementwise implements OpFamilies.Elementwise<CudaBuffer> {
    private final CudaLaunch launch;

    CudaElementwise(CudaLaunch launch) {
        this.launch = launch;
    }

    @Override
    public void unary(UnaryOp op, double p1, double p2, CudaBuffer x, long xOffset, CudaBuffer y, long yOffset,
                      long n) {
        launch.elementwise(floating(x.dtype(), CudaKernel.UNARY_F32, CudaKernel.UNARY_F64), n,
                CudaOpCodes.unary(op), p1, p2, x.at(xOffset), y.at(yOffset), n);
    }

    @Override
    public void unaryBackward(UnaryOp op, double p1, double p2, CudaBuffer x, long xOffset, CudaBuffer g,
                              long gOffset, CudaBuffer dx, long dxOffset, long n) {
        launch.elementwise(floating(x.dtype(), CudaKernel.UNARY_BACKWARD_F32, CudaKernel.UNARY_BACKWARD_F64), n,
                CudaOpCodes.unary(op), p1, p2, x.at(xOffset), g.at(gOffset), dx.at(dxOffset), n);
    }

    @Override
    public void binary(BinaryOp op, int rows, int cols, CudaBuffer a, long aOffset, Broadcast aBroadcast,
                       CudaBuffer b, long bOffset, Broadcast bBroadcast, CudaBuffer out, long outOffset) {
        CudaKernel kernel = switch (a.dtype()) {
            case FLOAT32 -> CudaKernel.BINARY_F32;
            case FLOAT64 -> CudaKernel.BINARY_F64;
            case INT32 -> CudaKernel.BINARY_I32;
        };
        launch.elementwise(kernel, (long) rows * cols, CudaOpCodes.binary(op), rows, cols, a.at(aOffset),
                CudaOpCodes.broadcast(aBroadcast), b.at(bOffset), CudaOpCodes.broadcast(bBroadcast),
                out.at(outOffset));
    }

    @Override
    public void axpby(long n, double alpha, CudaBuffer x, long xOffset, double beta, CudaBuffer y, long yOffset) {
        launch.elementwise(floating(x.dtype(), CudaKernel.AXPBY_F32, CudaKernel.AXPBY_F64), n, n, alpha,
                x.at(xOffset), beta, y.at(yOffset));
    }

    /** {@code C_i = beta·C_i} for a strided batch of {@code m × n} matrices (GEMM with {@code k == 0}). */
    void scaleMatrices(int batch, int m, int n, double beta, CudaBuffer c, long cOffset, int ldc, long strideC) {
        launch.elementwise(floating(c.dtype(), CudaKernel.SCALE_MATRICES_F32, CudaKernel.SCALE_MATRICES_F64),
                (long) batch * m * n, batch, m, n, beta, c.at(cOffset), ldc, strideC);
    }

    /** 32 × 32 tiles, one block of 32 × 8 threads per tile (grid-stride beyond 65535 tiles per axis). */
    @Override
    public void transpose(int rows, int cols, CudaBuffer src, long srcOffset, CudaBuffer dst, long dstOffset) {
        CudaKernel kernel = src.dtype() == DType.FLOAT64 ? CudaKernel.TRANSPOSE_B64 : CudaKernel.TRANSPOSE_B32;
        launch.launch(kernel, CudaLaunch.Shape.transpose(rows, cols), rows, cols, src.at(srcOffset), dst.at(dstOffset));
    }

    /** One thread per element (grid-stride), columns fastest. */
    @Override
    public void gatherRows(int rows, int cols, CudaBuffer src, long srcOffset, int srcRows, CudaBuffer indices,
                           long indicesOffset, CudaBuffer dst, long dstOffset) {
        CudaKernel kernel = src.dtype() == DType.FLOAT64 ? CudaKernel.GATHER_ROWS_B64 : CudaKernel.GATHER_ROWS_B32;
        long n = (long) rows * cols;
        launch.elementwise(kernel, n, n, cols, srcRows, src.at(srcOffset), indices.at(indicesOffset),
                dst.at(dstOffset));
    }
}
