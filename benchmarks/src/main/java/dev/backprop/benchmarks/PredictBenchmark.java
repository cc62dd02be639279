package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Architecture;
import dev.backprop.nn.Cnn;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.nn.Sequential;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * A service's request: {@link Predictor#predict} of {@code batch} Fashion-MNIST-sized rows (784 values in
 * [0, 1)) by a model loaded once, class probabilities copied back. Models: the default MLP 784-256-128-10 (ReLU)
 * and {@link Cnn#fashionMnist}, PyTorch-initialised from seed 0. Unlike the other suites this one samples the
 * time of single calls (JMH's {@code SampleTime}, microseconds): the figure is the median call, as on the PyTorch
 * side, which a load spike from another process on the machine moves far less than the mean rate does.
 * {@code benchmarks/scripts/predict_torch.py} times PyTorch on the same models and shapes, and
 * {@code benchmarks/run.sh} ({@code SUITES=predict}) runs both and prints their latency ratio; {@link PredictPairs}
 * compares backend settings on the same requests in one JVM.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar PredictBenchmark -p model=mlp -p batch=1,8 -p threads=1
 * java -jar benchmarks/target/benchmarks.jar PredictBenchmark -p target=cpu:gemm.fewrows=false,cpu   # A/B
 * </pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class PredictBenchmark extends JmhSettings {
    /** A backend with options, as for {@link GemmPairs}. */
    @Param({"cpu"})
    public String target;

    /** Worker threads of the backend (PyTorch's {@code set_num_threads} on the reference side). */
    @Param({"2"})
    public int threads;

    /** {@code mlp} (784-256-128-10) or {@code cnn} ({@link Cnn#fashionMnist}). */
    @Param({"mlp", "cnn"})
    public String model;

    /** Rows per request. */
    @Param({"1", "8", "64", "1000"})
    public int batch;

    private Backend backend;
    private Sequential network;
    private Predictor predictor;
    private float[] rows;

    /** Builds the model and its predictor, and the seeded request. */
    @Setup(Level.Trial)
    public void setUp() {
        backend = GemmPairs.backend(target, threads);
        network = architecture(model).build(backend);
        predictor = new Predictor(network, Task.CLASSIFICATION);
        rows = request(batch);
    }

    /** {@code batch} seeded rows of 784 values in [0, 1), as pixels are. */
    static float[] request(int batch) {
        float[] rows = BenchData.random(784L * batch, 11);
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (rows[i] + 1) / 2;
        }
        return rows;
    }

    /** The network called {@code name}: {@code mlp} or {@code cnn}. */
    static Architecture architecture(String name) {
        return switch (name) {
            case "mlp" -> new Mlp(new int[] {784, 256, 128, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 0);
            case "cnn" -> Cnn.fashionMnist(Init.PYTORCH_DEFAULT, 0);
            default -> throw new IllegalArgumentException("model must be mlp or cnn, got '" + name + "'");
        };
    }

    /** One request: {@code batch} rows in, {@code batch × 10} probabilities out. */
    @Benchmark
    public float[] predict() {
        return predictor.predict(rows, batch);
    }

    /** Closes the model and the backend. */
    @TearDown(Level.Trial)
    public void tearDown() {
        network.close();
        backend.close();
    }
}
