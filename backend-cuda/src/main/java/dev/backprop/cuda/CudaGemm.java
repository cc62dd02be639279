package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;

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
final class CudaGemm implements OpFamilies.Gemm<CudaBuffer> {
    private final CudaContext context;
    private final CudaElementwise elementwise;
    private final Runnable trimCache;

    /** @param trimCache gives the pool's kept blocks back to the driver (when cuBLAS cannot allocate) */
    CudaGemm(CudaContext context, CudaElementwise elementwise, Runnable trimCache) {
        this.context = context;
        this.elementwise = elementwise;
        this.trimCache = trimCache;
    }

    /** The cuBLAS operation for a row-major operand with this transpose flag, as the swapped call needs it. */
    static int operation(boolean transposed) {
        return transposed ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    /**
     * The column-major cuBLAS call that computes a row-major GEMM: {@code C'(rows × cols) = op1(first) ·
     * op2(second)}, where {@code first} is the row-major B and {@code second} the row-major A.
     *
     * @param opFirst  cuBLAS operation on B ({@code transa} of the call)
     * @param opSecond cuBLAS operation on A ({@code transb} of the call)
     * @param rows     cuBLAS's {@code m}: the row-major {@code n}
     * @param cols     cuBLAS's {@code n}: the row-major {@code m}
     * @param k        the inner dimension
     * @param ldFirst  leading dimension of B (its row stride)
     * @param ldSecond leading dimension of A (its row stride)
     * @param ldc      leading dimension of C (its row stride)
     * @param strideFirst  batch stride of B
     * @param strideSecond batch stride of A
     * @param strideC      batch stride of C
     */
    record Call(int opFirst, int opSecond, int rows, int cols, int k, int ldFirst, int ldSecond, int ldc,
                long strideFirst, long strideSecond, long strideC) {
    }

    /** The swapped call for a row-major {@code C = op(A)·op(B)} (see the class comment). */
    static Call plan(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc, long strideA,
                     long strideB, long strideC) {
        return new Call(operation(transB), operation(transA), n, m, k, ldb, lda, ldc, strideB, strideA, strideC);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, CudaBuffer a, long aOffset,
                     int lda, CudaBuffer b, long bOffset, int ldb, double beta, CudaBuffer c, long cOffset, int ldc,
                     int batch, long strideA, long strideB, long strideC) {
        if (k == 0) {
            elementwise.scaleMatrices(batch, m, n, beta, c, cOffset, ldc, strideC);
            return;
        }
        Call p = plan(transA, transB, m, n, k, lda, ldb, ldc, strideA, strideB, strideC);
        boolean f32 = c.dtype() == DType.FLOAT32;
        Pointer alphaP = f32 ? Pointer.to(new float[] {(float) alpha}) : Pointer.to(new double[] {alpha});
        Pointer betaP = f32 ? Pointer.to(new float[] {(float) beta}) : Pointer.to(new double[] {beta});
        CUdeviceptr first = b.at(bOffset);
        CUdeviceptr second = a.at(aOffset);
        CUdeviceptr out = c.at(cOffset);
        int status = cublas(p, f32, batch, alphaP, first, second, betaP, out);
        if (status == cublasStatus.CUBLAS_STATUS_ALLOC_FAILED) { // its workspace: free the cache and retry once
            trimCache.run();
            status = cublas(p, f32, batch, alphaP, first, second, betaP, out);
        }
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) { // the message is built only on failure (hot path)
            String call = (f32 ? "cublasS" : "cublasD") + (batch == 1 ? "gemm" : "gemmStridedBatched");
            CudaCheck.checkCublas(status, call + "(m=" + m + ", n=" + n + ", k=" + k + ", batch=" + batch + ")");
        }
    }

    /** The planned call: {@code S/Dgemm}, or its strided-batched form for {@code batch > 1}; returns the status. */
    private int cublas(Call p, boolean f32, int batch, Pointer alpha, CUdeviceptr first, CUdeviceptr second,
                       Pointer beta, CUdeviceptr out) {
        if (batch == 1) {
            return f32
                    ? JCublas2.cublasSgemm(context.cublas, p.opFirst(), p.opSecond(), p.rows(), p.cols(), p.k(),
                    alpha, first, p.ldFirst(), second, p.ldSecond(), beta, out, p.ldc())
                    : JCublas2.cublasDgemm(context.cublas, p.opFirst(), p.opSecond(), p.rows(), p.cols(), p.k(),
                    alpha, first, p.ldFirst(), second, p.ldSecond(), beta, out, p.ldc());
        }
        return f32
                ? JCublas2.cublasSgemmStridedBatched(context.cublas, p.opFirst(), p.opSecond(), p.rows(), p.cols(),
                p.k(), alpha, first, p.ldFirst(), p.strideFirst(), second, p.ldSecond(), p.strideSecond(), beta,
                out, p.ldc(), p.strideC(), batch)
                : JCublas2.cublasDgemmStridedBatched(context.cublas, p.opFirst(), p.opSecond(), p.rows(), p.cols(),
                p.k(), alpha, first, p.ldFirst(), p.strideFirst(), second, p.ldSecond(), p.strideSecond(), beta,
                out, p.ldc(), p.strideC(), batch);
    }
}
