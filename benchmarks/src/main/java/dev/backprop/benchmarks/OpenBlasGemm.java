package dev.backprop.benchmarks;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The reference: {@code cblas_sgemm} of the OpenBLAS that JavaCPP bundles, on native memory, row-major.
 * Uses the {@code openblas_nolapack} library only (same GEMM, half the native code to load).
 */
public final class OpenBlasGemm implements GemmTarget {
    private final GemmShape shape;
    private final FloatPointer a;
    private final FloatPointer b;
    private final FloatPointer c;

    /**
     * Sets OpenBLAS's thread count (process-wide) and fills A and B with the same seeded values as
     * {@link BackendGemm} does for the same seed.
     */
    public OpenBlasGemm(GemmShape shape, int threads, long seed) {
        this.shape = shape;
        openblas_nolapack.blas_set_num_threads(threads);
        this.a = new FloatPointer(BenchData.random(shape.sizeA(), seed));
        this.b = new FloatPointer(BenchData.random(shape.sizeB(), seed + 1));
        this.c = new FloatPointer(shape.sizeC());
    }

    @Override
    public void run() {
        GemmShape s = shape;
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
                s.transA() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                s.transB() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                s.m(), s.n(), s.k(), 1f, a, s.lda(), b, s.ldb(), 0f, c, s.n());
    }

    @Override
    public float[] result() {
        float[] out = new float[Math.toIntExact(shape.sizeC())];
        c.get(out);
        return out;
    }

    @Override
    public void close() {
        a.deallocate();
        b.deallocate();
        c.deallocate();
    }
}
