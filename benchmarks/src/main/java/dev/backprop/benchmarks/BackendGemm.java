package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

/** A GEMM on a Backprop backend through the SPI's {@link Backend#gemm} primitive, as the network layer calls it. */
public final class BackendGemm implements GemmTarget {
    private final Backend backend;
    private final boolean ownsBackend;
    private final GemmShape shape;
    private final Buffer a;
    private final Buffer b;
    private final Buffer c;

    /**
     * Allocates A, B and C on {@code backend} and fills A and B with seeded values in [-1, 1).
     *
     * @param ownsBackend whether {@link #close()} also closes the backend
     */
    public BackendGemm(Backend backend, boolean ownsBackend, GemmShape shape, long seed) {
        this.backend = backend;
        this.ownsBackend = ownsBackend;
        this.shape = shape;
        this.a = BenchData.uploadRandom(backend, shape.sizeA(), seed);
        this.b = BenchData.uploadRandom(backend, shape.sizeB(), seed + 1);
        this.c = backend.allocate(DType.FLOAT32, shape.sizeC());
    }

    @Override
    public void run() {
        GemmShape s = shape;
        backend.gemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1.0, a, 0, s.lda(), b, 0, s.ldb(),
                0.0, c, 0, s.n(), 1, 0, 0, 0);
        backend.synchronize();
    }

    @Override
    public float[] result() {
        float[] out = new float[Math.toIntExact(shape.sizeC())];
        backend.download(c, 0, out, 0, out.length);
        return out;
    }

    @Override
    public void close() {
        backend.release(a);
        backend.release(b);
        backend.release(c);
        if (ownsBackend) {
            backend.close();
        }
    }
}
