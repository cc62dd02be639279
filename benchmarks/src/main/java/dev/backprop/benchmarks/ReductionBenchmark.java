package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.Locale;

/**
 * Sum of a {@code rows × cols} FLOAT32 matrix: over all elements, per row, or per column (the bias gradient).
 * Score: calls per second; GB/s = score · 4·rows·cols / 1e9 (one read per element).
 */
@State(Scope.Benchmark)
public class ReductionBenchmark extends JmhSettings {
    /** A backend name; {@link BenchMain} fills it with the backends that can run here. */
    @Param({"cpu"})
    public String backend;

    /** Worker threads for {@code cpu}. */
    @Param({"2"})
    public int threads;

    /** A {@link ReduceOp}, lower case. */
    @Param({"sum"})
    public String op;

    /** A {@link ReduceAxis}: {@code all}, {@code per_row} or {@code per_column}. */
    @Param({"all", "per_row", "per_column"})
    public String axis;

    /** Rows (4096 × 4096 = 16M elements by default). */
    @Param({"4096"})
    public int rows;

    /** Columns. */
    @Param({"4096"})
    public int cols;

    private Backend b;
    private Buffer x;
    private Buffer out;
    private ReduceOp reduceOp;
    private ReduceAxis reduceAxis;

    /** Creates the backend and the seeded input for this trial. */
    @Setup(Level.Trial)
    public void setUp() {
        reduceOp = ReduceOp.valueOf(op.toUpperCase(Locale.ROOT));
        reduceAxis = ReduceAxis.valueOf(axis.toUpperCase(Locale.ROOT));
        b = BenchData.backend(backend, threads);
        x = BenchData.uploadRandom(b, (long) rows * cols, 11);
        out = b.allocate(DType.FLOAT32, reduceAxis.resultLength(rows, cols));
    }

    /** One reduction of the whole matrix, finished before it returns. */
    @Benchmark
    public void reduce() {
        b.reduce(reduceOp, reduceAxis, rows, cols, x, 0, out, 0);
        b.synchronize();
    }

    /** Closes the backend, releasing the buffers. */
    @TearDown(Level.Trial)
    public void tearDown() {
        b.close();
    }
}
