package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Convolution forward and backward (FLOAT32, bias, the reference CNN's layers by default) beside the GEMMs they
 * run on: {@code gemm}, the single {@code [O, P]·[P, n·outH·outW]} product of the SPI's default convolution, and
 * {@code gemmPerImage}, the same work as {@code n} products {@code [O, P]·[P, outH·outW]}, the shape of the cpu
 * backend's own convolution. Besides calls per second, each benchmark reports its rate as the secondary metric
 * {@code gflop} (GFLOP/s: {@link ConvLayer#forwardFlops}, or {@link ConvLayer#backwardFlops} for backward).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ConvBenchmark                           # both layers, both cpu paths
 * java -jar benchmarks/target/benchmarks.jar ConvBenchmark -p target=opencl -p layer=conv2
 * </pre>
 */
@State(Scope.Benchmark)
public class ConvBenchmark extends JmhSettings {
    /** A backend with options, as for {@link GemmPairs}: {@code cpu} (its own convolution) or the SPI's default. */
    @Param({"cpu", "cpu:conv.own=false"})
    public String target;

    /** Worker threads of the backend. */
    @Param({"2"})
    public int threads;

    /** A {@link ConvLayer} spec: {@code conv1}, {@code conv2}, or {@code N,C,H,W,O,K,S,P}. */
    @Param({"conv1", "conv2"})
    public String layer;

    private Backend backend;
    private ConvLayer conv;
    private ConvLayer.Operands operands;
    private Buffer weight;
    private Buffer cols;
    private Buffer product;

    /** GFLOP done, reported by JMH per second: the benchmark's GFLOP/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Work {
        /** GFLOP counted so far. */
        public double gflop;
    }

    /** Creates the backend, the layer's operands and the GEMM operands (an im2col-sized matrix). */
    @Setup(Level.Trial)
    public void setUp() {
        backend = GemmPairs.backend(target, threads);
        conv = ConvLayer.parse(layer);
        operands = conv.new Operands(backend, 42);
        Window2d w = conv.window();
        weight = BenchData.uploadRandom(backend, (long) conv.outs() * w.patchSize(), 43);
        cols = BenchData.uploadRandom(backend, (long) w.patchSize() * w.columns(), 44);
        product = backend.allocate(DType.FLOAT32, (long) conv.outs() * w.columns());
    }

    /** The layer's forward pass, bias included. */
    @Benchmark
    public void forward(Work work) {
        operands.forward();
        work.gflop += conv.forwardFlops() / 1e9;
    }

    /** Its backward pass: weight and bias gradients, and the input's for the second layer. */
    @Benchmark
    public void backward(Work work) {
        operands.backward();
        work.gflop += conv.backwardFlops() / 1e9;
    }

    /** The forward pass's work as the default's one product {@code [O, P]·[P, n·outH·outW]}. */
    @Benchmark
    public void gemm(Work work) {
        Window2d w = conv.window();
        int p = w.patchSize(), q = w.columns();
        backend.gemm(false, false, conv.outs(), q, p, 1, weight, 0, p, cols, 0, q, 0, product, 0, q, 1, 0, 0, 0);
        backend.synchronize();
        work.gflop += conv.forwardFlops() / 1e9;
    }

    /** The same work as one product per image, {@code [O, P]·[P, outH·outW]}, in one batched call. */
    @Benchmark
    public void gemmPerImage(Work work) {
        Window2d w = conv.window();
        int p = w.patchSize(), s = w.outPlane();
        backend.gemm(false, false, conv.outs(), s, p, 1, weight, 0, p, cols, 0, s, 0, product, 0, s, w.n(), 0,
                (long) p * s, (long) conv.outs() * s);
        backend.synchronize();
        work.gflop += conv.forwardFlops() / 1e9;
    }

    /** Frees the operands and closes the backend. */
    @TearDown(Level.Trial)
    public void tearDown() {
        operands.close();
        backend.release(weight);
        backend.release(cols);
        backend.release(product);
        backend.close();
    }
}
