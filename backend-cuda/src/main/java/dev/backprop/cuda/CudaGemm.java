package dev.backprop.cuda;

import dev.backprop.backend.DType;
import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasOperation;

/**
 * GEMM through cuBLAS. cuBLAS is column-major and Backprop row-major; a row-major {@code m × n} matrix with
 * row stride {@code ld} is exactly a column-major {@code n × m} matrix with leading dimension {@code ld}, its
 * transpose. So {@code C = op(A)·op(B)} is computed as {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}: cuBLAS is called with the
 * operands swapped ({@code B} first), {@code m} and {@code n} swapped, and each transpose flag kept with
 * its own operand. No data is copied or transposed, and offsets become device-pointer offsets.
 *
 * <p>{@code k == 0} is handled here ({@code C = beta·C} by a kernel), since cuBLAS rejects the zero leading
 * dimensions such shapes can carry. With {@code beta == 0} cuBLAS does not read C, as the SPI requires.
 */
final class CudaGemm {
    private final CudaContext context;
    private final CudaElementwise elementwise;

    CudaGemm(CudaContext context, CudaElementwise elementwise) {
        this.context = context;
        this.elementwise = elementwise;
    }

    /** The cuBLAS operation for a row-major operand with this transpose flag, as the swapped call needs it. */
    static int operation(boolean transposed) {
        return transposed ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, CudaBuffer a, long aOffset, int lda,
              CudaBuffer b, long bOffset, int ldb, double beta, CudaBuffer c, long cOffset, int ldc, int batch,
              long strideA, long strideB, long strideC) {
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            elementwise.scaleMatrices(batch, m, n, beta, c, cOffset, ldc, strideC);
            return;
        }
        boolean f32 = c.dtype() == DType.FLOAT32;
        Pointer alphaP = f32 ? Pointer.to(new float[] {(float) alpha}) : Pointer.to(new double[] {alpha});
        Pointer betaP = f32 ? Pointer.to(new float[] {(float) beta}) : Pointer.to(new double[] {beta});
        int opB = operation(transB);
        int opA = operation(transA);
        int status;
        String call;
        if (batch == 1) {
            call = f32 ? "cublasSgemm" : "cublasDgemm";
            status = f32
                    ? JCublas2.cublasSgemm(context.cublas, opB, opA, n, m, k, alphaP, b.at(bOffset), ldb,
                    a.at(aOffset), lda, betaP, c.at(cOffset), ldc)
                    : JCublas2.cublasDgemm(context.cublas, opB, opA, n, m, k, alphaP, b.at(bOffset), ldb,
                    a.at(aOffset), lda, betaP, c.at(cOffset), ldc);
        } else {
            call = f32 ? "cublasSgemmStridedBatched" : "cublasDgemmStridedBatched";
            status = f32
                    ? JCublas2.cublasSgemmStridedBatched(context.cublas, opB, opA, n, m, k, alphaP, b.at(bOffset),
                    ldb, strideB, a.at(aOffset), lda, strideA, betaP, c.at(cOffset), ldc, strideC, batch)
                    : JCublas2.cublasDgemmStridedBatched(context.cublas, opB, opA, n, m, k, alphaP, b.at(bOffset),
                    ldb, strideB, a.at(aOffset), lda, strideA, betaP, c.at(cOffset), ldc, strideC, batch);
        }
        CudaCheck.checkCublas(status, call + "(m=" + m + ", n=" + n + ", k=" + k + ", batch=" + batch + ")");
    }
}
