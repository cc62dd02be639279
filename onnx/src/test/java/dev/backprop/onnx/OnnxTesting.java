package dev.backprop.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Init;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.ModeSwitch;
import dev.backprop.nn.Pool2d;
import dev.backprop.nn.Sequential;
import dev.backprop.onnx.proto.Onnx;
import dev.backprop.optim.Adam;
import dev.backprop.random.TorchGenerator;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.Trainer;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What the ONNX tests share: the fixtures, the Fashion-MNIST test images, ONNX Runtime and Backprop forward passes. */
final class OnnxTesting {
    /** The committed fixtures (written by src/test/python/make_fixtures.py). */
    static final Path FIXTURES = Path.of("src/test/resources/dev/backprop/onnx");
    /** Examples per forward pass in the comparisons: a convolution's activations for 10,000 images do not fit. */
    static final int BATCH = 1000;
    private static Dataset test;

    private OnnxTesting() {
    }

    /** A small valid model: {@link #mlpSpec()} with {@link #mlpState()}. */
    static Onnx.ModelProto small() {
        return OnnxExport.toModel(mlpSpec(), mlpState(), OnnxExport.Options.defaults(), Map.of());
    }

    /** Dense 4 -> 3, relu, dense 3 -> 2. */
    static LayerSpec mlpSpec() {
        return sequential(OperatorTable.dense(4, 3, true), LayerSpec.of("relu", Map.of()),
                OperatorTable.dense(3, 2, true));
    }

    /** {@link #mlpSpec()}'s weights, 0.25 everywhere. */
    static Map<String, HostTensor> mlpState() {
        Map<String, HostTensor> state = new java.util.LinkedHashMap<>();
        state.put("0.weight", filled(3, 4));
        state.put("0.bias", filled(3));
        state.put("2.weight", filled(2, 3));
        state.put("2.bias", filled(2));
        return state;
    }

    /** A sequential spec of these layers. */
    static LayerSpec sequential(LayerSpec... layers) {
        return new LayerSpec("sequential", Map.of(), List.of(layers));
    }

    /** A tensor of these dimensions holding 0.25 everywhere. */
    static HostTensor filled(int... dims) {
        float[] d = new float[java.util.Arrays.stream(dims).reduce(1, (a, b) -> a * b)];
        java.util.Arrays.fill(d, 0.25f);
        return new HostTensor(dims, d);
    }

    /**
     * A small CNN with every image layer and attribute the export writes (padded max pooling, a strided dilated
     * convolution, average pooling that excludes its padding, batch norm in 2d and 1d, dropout), trained for 10
     * Adam steps on 640 training images: its batch norms' running statistics and counters are no longer their
     * initial values, so an export that dropped them, or normalized with batch statistics, would differ.
     */
    static Sequential trainedCnn(Backend backend) {
        testImages(); // skips, or fails under CI, without the data
        Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(5).conv2d(Conv2d.options(1, 8, 3).padding(1))
                .batchNorm2d(8)
                .relu().add(Pool2d.max(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}))
                .add(new Conv2d(Conv2d.options(8, 16, 3).stride(2).padding(2).dilation(2),
                        Init.PYTORCH_DEFAULT.factory(backend, DType.FLOAT32, new TorchGenerator(6))))
                .relu().add(Pool2d.avg(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, false)).dropout(0.25)
                .flatten().dense(256, 32).batchNorm1d(32).relu().dropout(0.5).dense(32, 10).build();
        Dataset train = FashionMnist.split(FashionMnist.defaultDir(), "train").head(640).withFeatureShape(1, 28, 28);
        try (Adam opt = Adam.adam(m.parameters(), 1e-3)) {
            Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(64).seed(0).build().fit(train, null, 1, null);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    static Path fixture(String name) {
        return FIXTURES.resolve(name);
    }

    /** The fixture's entry in fixtures.json: PyTorch's accuracy, loss and first logits. */
    static JsonObject manifest(String name) throws IOException {
        JsonObject all = JsonParser.parseString(Files.readString(fixture("fixtures.json"))).getAsJsonObject();
        return all.getAsJsonObject(name);
    }

    /**
     * The 10,000 Fashion-MNIST test images; skips (saying why) when the data is not installed, except under CI
     * ({@code CI=true}), where its absence fails.
     */
    static synchronized Dataset testImages() {
        boolean present = Files.isDirectory(FashionMnist.defaultDir());
        String why = "Fashion-MNIST is not installed at " + FashionMnist.defaultDir()
                + " (apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.assertTrue(present, why);
        }
        Assumptions.assumeTrue(present, why);
        if (test == null) {
            test = FashionMnist.split(FashionMnist.defaultDir(), "t10k");
        }
        return test;
    }

    /** The first {@code n} test images, flattened row-major: {@code n × 784} values. */
    static float[] images(int n) {
        Dataset d = testImages();
        float[] x = new float[n * d.featureSize()];
        d.gatherFeatures(d.identityOrder(), 0, n, x);
        return x;
    }

    /** ONNX Runtime's output for {@code x} of shape {@code dims} fed to the model's one input, in batches. */
    static float[] runtime(Path model, float[] x, long... dims) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int n = (int) dims[0], example = x.length / n;
        float[] y = null;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(model.toString(), options)) {
                for (int from = 0; from < n; from += BATCH) {
                    int rows = Math.min(BATCH, n - from);
                    long[] part = dims.clone();
                    part[0] = rows;
                    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x, from * example,
                            rows * example).slice(), part);
                         OrtSession.Result result = session.run(Map.of(session.getInputNames().iterator().next(),
                                 in))) {
                        FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
                        y = y == null ? new float[out.remaining() / rows * n] : y;
                        out.get(y, from * (y.length / n), out.remaining());
                    }
                }
            }
        }
        return y;
    }

    /**
     * Backprop's raw outputs of {@code model} for {@code x} of shape {@code dims}, as served: in evaluation mode
     * (batch norm on its running statistics, no dropout), in batches.
     */
    @SuppressWarnings("try") // the scopes free the temporaries and restore the mode
    static float[] forward(Layer model, Backend backend, float[] x, int... dims) {
        int n = dims[0], example = x.length / n;
        float[] y = null;
        try (ModeSwitch eval = ModeSwitch.to(model, false); NoGrad off = NoGrad.open()) {
            for (int from = 0; from < n; from += BATCH) {
                int rows = Math.min(BATCH, n - from);
                int[] part = dims.clone();
                part[0] = rows;
                try (Scope scope = Scope.open()) {
                    float[] out = model.forward(Variable.constant(Tensor.of(backend, java.util.Arrays.copyOfRange(x,
                            from * example, (from + rows) * example), part))).value().toFloatArray();
                    y = y == null ? new float[out.length / rows * n] : y;
                    System.arraycopy(out, 0, y, from * (y.length / n), out.length);
                }
            }
        }
        return y;
    }

    /**
     * The largest difference between {@code a} and {@code b} relative to the magnitude of {@code b}'s row (the scale
     * of one example's outputs: {@code max |a - b| / max_j |b_j|} per row of {@code width}).
     */
    static double maxRelative(float[] a, float[] b, int width) {
        Assertions.assertEquals(b.length, a.length, "output sizes");
        double worst = 0;
        for (int r = 0; r < b.length / width; r++) {
            double scale = 0, diff = 0;
            for (int j = r * width; j < (r + 1) * width; j++) {
                scale = Math.max(scale, Math.abs(b[j]));
                diff = Math.max(diff, Math.abs((double) a[j] - b[j]));
            }
            worst = Math.max(worst, scale == 0 ? diff : diff / scale);
        }
        return worst;
    }
}
