package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.Locale;

/**
 * Activations {@code y = op(x)} over {@code n} FLOAT32 elements into a separate, preallocated output (the
 * way a layer's forward pass runs them). Score: calls per second; GB/s = score · 8n / 1e9 (one read and one
 * write per element).
 */
@State(Scope.Benchmark)
public class UnaryBenchmark extends JmhSettings {
    /** A backend name; {@link BenchMain} fills it with the backends that can run here. */
    @Param({"cpu"})
    public String backend;

    /** Worker threads for {@code cpu}. */
    @Param({"2"})
    public int threads;

    /** A {@link UnaryOp}, lower case. */
    @Param({"relu", "sigmoid", "exp", "tanh"})
    public String op;

    /** Elements (16M by default: far beyond the caches, so this measures streaming). */
    @Param({"16777216"})
    public long n;

    private Backend b;
    private Buffer x;
    private Buffer y;
    private UnaryOp unaryOp;

    /** Creates the backend and the seeded input for this trial. */
    @Setup(Level.Trial)
    public void setUp() {
        unaryOp = UnaryOp.valueOf(op.toUpperCase(Locale.ROOT));
        b = BenchData.backend(backend, threads);
        // [-4, 4): both saturated and linear parts of sigmoid/tanh, no overflow in exp.
        x = BenchData.uploadRandom(b, n, 7, 4f);
        y = b.allocate(DType.FLOAT32, n);
    }

    /** One {@code y = op(x)} over all {@code n} elements, finished before it returns. */
    @Benchmark
    public void unary() {
        b.unary(unaryOp, 0, 0, x, 0, y, 0, n);
        b.synchronize();
    }

    /** Closes the backend, releasing the buffers. */
    @TearDown(Level.Trial)
    public void tearDown() {
        b.close();
    }
}
