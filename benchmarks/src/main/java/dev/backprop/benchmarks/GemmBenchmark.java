package dev.backprop.benchmarks;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * SGEMM {@code C = A·B} (alpha 1, beta 0, FLOAT32) on every available backend and on OpenBLAS in the same run.
 * Score: calls per second; GFLOP/s = score · 2mnk / 1e9 ({@code benchmarks/scripts/report.py} does that).
 *
 * <p>{@code impl} is a backend name or {@code openblas}; {@link BenchMain} fills it with the backends that can
 * run here. Shapes: square 128 to 2048, and the products of one training step of the 784-256-128-10 MLP at
 * batch 128 exactly as the network layer calls them (weights stored {@code [out, in]}, {@code Z = X·Wᵀ}): layer 1
 * forward {@code X·W1ᵀ}, its weight gradient {@code δ1ᵀ·X}, layer 2 forward, its weight gradient, and its input
 * gradient {@code δ2·W2}.
 */
@State(Scope.Benchmark)
public class GemmBenchmark extends JmhSettings {
    /** A backend name ({@code cpu}, {@code opencl}, {@code cuda}) or {@code openblas}. */
    @Param({"cpu", "openblas"})
    public String impl;

    /** Worker threads for {@code cpu} and OpenBLAS. */
    @Param({"2"})
    public int threads;

    /** {@code N} or {@code MxKxN[:TN]}, see {@link GemmShape}. */
    @Param({"128", "256", "512", "1024", "2048", "128x784x256:NT", "256x128x784:TN", "128x256x128:NT", "128x128x256:TN",
        "128x128x256"})
    public String shape;

    private GemmTarget target;

    /** Creates the implementation and its seeded operands for this trial. */
    @Setup(Level.Trial)
    public void setUp() {
        GemmShape s = GemmShape.parse(shape);
        target = impl.equals(BenchMain.OPENBLAS) ? new OpenBlasGemm(s, threads, 42)
                : new BackendGemm(BenchData.backend(impl, threads), true, s, 42);
    }

    /** One {@code C = A·B}, finished before it returns. */
    @Benchmark
    public void gemm() {
        target.run();
    }

    /** Frees the operands (and the backend). */
    @TearDown(Level.Trial)
    public void tearDown() {
        target.close();
    }
}
