package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.backend.base.OpFamilies;
import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
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
 *
 * <p>With precision {@code bf16} ({@link CudaPrecision}) a float32 GEMM first rounds the span of each operand that
 * cuBLAS reads to bfloat16 in scratch blocks ({@link Bf16}), then runs {@code cublasGemmEx} (or its strided-batched
 * form) with float32 accumulation into the float32 C.
 */
final class CudaGemm implements OpFamilies.Gemm<CudaBuffer> {
    private final CudaContext context;
    private final CudaElementwise elementwise;
    private final Runnable trimCache;
    private final Bf16 bf16;

    /** The bfloat16 operand rounding: its kernel's launcher and the pool its scratch comes from. */
    record Bf16(CudaLaunch launch, MemoryPool<CUdeviceptr> pool) {
    }

    /**
     * @param trimCache gives the pool's kept blocks back to the driver (when cuBLAS cannot allocate)
     * @param bf16      non-null to run float32 GEMMs on bfloat16 operands
     */
    CudaGemm(CudaContext context, CudaElementwise elementwise, Runnable trimCache, Bf16 bf16) {
        this.context = context;
        this.elementwise = elementwise;
        this.trimCache = trimCache;
        this.bf16 = bf16;
    }

    /**
     * Elements of an operand cuBLAS reads: {@code batch} column-major matrices of {@code rows × cols} stored with
     * leading dimension {@code ld}, {@code stride} apart (the last column holds only {@code rows}).
     */
    static long span(int rows, int cols, int ld, int batch, long stride) {
        return (long) (batch - 1) * stride + (long) ld * (cols - 1) + rows;
    }

    /** The first operand's stored shape in the call: {@code op(first)} is {@code rows × k}. */
    static long firstSpan(Call p, int batch) {
        boolean n = p.opFirst() == cublasOperation.CUBLAS_OP_N;
        return span(n ? p.rows() : p.k(), n ? p.k() : p.rows(), p.ldFirst(), batch, p.strideFirst());
    }

    /** The second operand's stored shape in the call: {@code op(second)} is {@code k × cols}. */
    static long secondSpan(Call p, int batch) {
        boolean n = p.opSecond() == cublasOperation.CUBLAS_OP_N;
        return span(n ? p.k() : p.cols(), n ? p.cols() : p.k(), p.ldSecond(), batch, p.strideSecond());
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
        if (f32 && bf16 != null) {
            gemmBf16(p, batch, alphaP, first, second, betaP, out);
            return;
        }
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

    private void gemmBf16(Call p, int batch, Pointer alpha, CUdeviceptr first, CUdeviceptr second, Pointer beta,
                          CUdeviceptr out) {
        long nFirst = firstSpan(p, batch), nSecond = secondSpan(p, batch);
        MemoryPool.Block<CUdeviceptr> f = bf16.pool().allocate(DType.INT32, (nFirst + 1) / 2);
        try {
            MemoryPool.Block<CUdeviceptr> s = bf16.pool().allocate(DType.INT32, (nSecond + 1) / 2);
            try {
                bf16.launch().elementwise(CudaKernel.CONVERT_F32_BF16, nFirst, nFirst, first, f.raw());
                bf16.launch().elementwise(CudaKernel.CONVERT_F32_BF16, nSecond, nSecond, second, s.raw());
                int h = cudaDataType.CUDA_R_16BF, o = cudaDataType.CUDA_R_32F;
                int status = batch == 1
                        ? JCublas2.cublasGemmEx(context.cublas, p.opFirst(), p.opSecond(), p.rows(), p.cols(), p.k(),
                        alpha, f.raw(), h, p.ldFirst(), s.raw(), h, p.ldSecond(), beta, out, o, p.ldc(),
                        cublasComputeType.CUBLAS_COMPUTE_32F, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT)
                        : JCublas2.cublasGemmStridedBatchedEx(context.cublas, p.opFirst(), p.opSecond(), p.rows(),
                        p.cols(), p.k(), alpha, f.raw(), h, p.ldFirst(), p.strideFirst(), s.raw(), h, p.ldSecond(),
                        p.strideSecond(), beta, out, o, p.ldc(), p.strideC(), batch,
                        cublasComputeType.CUBLAS_COMPUTE_32F, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
                if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
                    CudaCheck.checkCublas(status, (batch == 1 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx")
                            + "(bf16, m=" + p.cols() + ", n=" + p.rows() + ", k=" + p.k() + ", batch=" + batch + ")");
                }
            } finally {
                bf16.pool().free(s);
            }
        } finally {
            bf16.pool().free(f);
        }
    }
}
