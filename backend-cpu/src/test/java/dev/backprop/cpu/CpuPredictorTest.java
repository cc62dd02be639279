package dev.backprop.cpu;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Architecture;
import dev.backprop.nn.Cnn;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.nn.ModeSwitch;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Sgd;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Predictor} on the cpu backend as a service calls it: requests of 1, 8 and 64 rows to the Fashion-MNIST
 * MLP and CNN. A row's probabilities must not depend on the request it came in, so every request is checked bit for
 * bit against one plain forward pass over all rows (a batch of 64, which takes the packed GEMM tiles where a request
 * of a few rows does not); and a long run of requests must leave the backend's memory where it was.
 */
class CpuPredictorTest {
    private static final int ROWS = 64;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mlp", "cnn"})
    void requestsOfAnySizePredictWhatOneForwardPassDoesBitForBit(String name) {
        try (CpuBackend be = CpuTesting.backend(true, 2); Sequential model = architecture(name).build(be)) {
            float[] x = images(ROWS);
            float[] want = forwardPass(be, model, x, name.equals("cnn"));
            Predictor predictor = new Predictor(model, Task.CLASSIFICATION);
            for (int request : new int[] {1, 8, ROWS}) {
                for (int from = 0; from < ROWS; from += request) {
                    float[] got = predictor.predict(Arrays.copyOfRange(x, from * 784, (from + request) * 784),
                            request);
                    for (int i = 0; i < got.length; i++) {
                        int at = from * 10 + i, size = request;
                        float g = got[i];
                        assertEquals(Float.floatToRawIntBits(want[at]), Float.floatToRawIntBits(g), () -> name
                                + ": row " + at / 10 + " class " + at % 10 + " in requests of " + size + " gave " + g
                                + ", the forward pass " + want[at]);
                    }
                }
            }
        }
    }

    /**
     * Predictions after the weights changed under a predictor whose layers keep packed panels ({@link PackedPanels}):
     * a training step, then new weights uploaded as a load does. A backend that never keeps panels
     * ({@code gemm.keep=false}) runs the same steps on the same model; its predictions are the reference, bit for bit.
     */
    @org.junit.jupiter.api.Test
    void predictionsFollowTrainingAndLoadedWeights() {
        try (CpuBackend keep = CpuTesting.backend(true, 2); Sequential kept = architecture("mlp").build(keep);
             CpuBackend pack = CpuTesting.backend(true, 2, "gemm.keep", "false");
             Sequential plain = architecture("mlp").build(pack)) {
            float[] x = images(8);
            Predictor got = new Predictor(kept, Task.CLASSIFICATION);
            Predictor want = new Predictor(plain, Task.CLASSIFICATION);
            assertSamePredictions("before", want, got, x);
            assertSamePredictions("again", want, got, x);
            trainingStep(keep, kept, x);
            trainingStep(pack, plain, x);
            assertSamePredictions("after a training step", want, got, x);
            assertSamePredictions("again after a training step", want, got, x);
            try (Sequential other = new Mlp(new int[] {784, 256, 128, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT,
                    1).build(pack)) {
                for (var e : other.parameters().entrySet()) {
                    float[] v = e.getValue().value().toFloatArray();
                    for (Sequential m : new Sequential[] {kept, plain}) {
                        Tensor t = m.parameters().get(e.getKey()).value();
                        t.backend().upload(v, 0, t.buffer(), t.offset(), v.length);
                    }
                }
            }
            assertSamePredictions("after loading other weights", want, got, x);
        }
    }

    /**
     * Reading the weights between requests, as saving the model does, must keep the dense layers' panels (nothing
     * wrote them), and predictions stay those of a backend that never keeps panels, bit for bit.
     */
    @org.junit.jupiter.api.Test
    void downloadingTheWeightsBetweenRequestsKeepsThePanels() {
        try (CpuBackend keep = CpuTesting.backend(true, 2); Sequential kept = architecture("mlp").build(keep);
             CpuBackend pack = CpuTesting.backend(true, 2, "gemm.keep", "false");
             Sequential plain = architecture("mlp").build(pack)) {
            float[] x = images(8);
            Predictor got = new Predictor(kept, Task.CLASSIFICATION);
            Predictor want = new Predictor(plain, Task.CLASSIFICATION);
            assertSamePredictions("before", want, got, x);
            for (int save = 0; save < 3; save++) {
                for (var e : kept.parameters().entrySet()) {
                    assertBits(e.getKey(), plain.parameters().get(e.getKey()).value().toFloatArray(),
                            e.getValue().value().toFloatArray());
                    PackedPanels p = ((CpuBuffer) e.getValue().value().buffer()).panels();
                    if (e.getKey().endsWith("weight")) {
                        org.junit.jupiter.api.Assertions.assertTrue(p != null && p.packed(),
                                () -> e.getKey() + " lost its panels to a download");
                    }
                }
                assertSamePredictions("after downloading the weights " + (save + 1) + " times", want, got, x);
            }
        }
    }

    /** Requests from four threads at once to one model keeping panels: each gets what one thread alone gets. */
    @org.junit.jupiter.api.Test
    void concurrentRequestsOnKeptPanelsPredictWhatOneThreadDoes() throws Exception {
        try (CpuBackend keep = CpuTesting.backend(true, 2); Sequential model = architecture("mlp").build(keep);
             CpuBackend pack = CpuTesting.backend(true, 2, "gemm.keep", "false");
             Sequential plain = architecture("mlp").build(pack)) {
            float[] x = images(ROWS);
            float[] want = new Predictor(plain, Task.CLASSIFICATION).predict(x, ROWS);
            Predictor predictor = new Predictor(model, Task.CLASSIFICATION);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                java.util.List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int request = new int[] {1, 8, ROWS, 3}[t];
                    runs.add(pool.submit(() -> {
                        for (int round = 0; round < 5; round++) {
                            for (int from = 0; from + request <= ROWS; from += request) {
                                float[] got = predictor.predict(Arrays.copyOfRange(x, from * 784,
                                        (from + request) * 784), request);
                                assertBits("requests of " + request + " from row " + from,
                                        Arrays.copyOfRange(want, from * 10, (from + request) * 10), got);
                            }
                        }
                    }));
                }
                for (var run : runs) {
                    run.get();
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    /**
     * A predictor serving on a backend whose other model trains on another thread, and requests to the training
     * model itself meanwhile (their answers mix weights of several steps and are not checked): the served model's
     * answers never change, and once training stops the trained model answers what the same steps give on a backend
     * that never keeps panels, so no panels packed during training outlived an update.
     */
    @org.junit.jupiter.api.Test
    void predictionsBesideTrainingOnAnotherThreadStayExact() throws Exception {
        try (CpuBackend keep = CpuTesting.backend(true, 2); Sequential served = architecture("mlp").build(keep);
             Sequential trained = new Mlp(new int[] {784, 256, 128, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT,
                     1).build(keep);
             CpuBackend pack = CpuTesting.backend(true, 2, "gemm.keep", "false");
             Sequential servedRef = architecture("mlp").build(pack);
             Sequential trainedRef = new Mlp(new int[] {784, 256, 128, 10}, Activation.Kind.RELU,
                     Init.PYTORCH_DEFAULT, 1).build(pack)) {
            float[] x = images(8);
            Predictor serving = new Predictor(served, Task.CLASSIFICATION);
            Predictor training = new Predictor(trained, Task.CLASSIFICATION);
            float[] want = new Predictor(servedRef, Task.CLASSIFICATION).predict(x, 8);
            int steps = 12;
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                java.util.concurrent.Future<?> run = pool.submit(() -> {
                    for (int i = 0; i < steps; i++) {
                        trainingStep(keep, trained, x);
                    }
                });
                while (!run.isDone()) {
                    assertBits("served beside training", want, serving.predict(x, 8));
                    training.predict(Arrays.copyOf(x, 784), 1);
                    training.predict(x, 8);
                }
                run.get();
            } finally {
                pool.shutdown();
            }
            for (int i = 0; i < steps; i++) {
                trainingStep(pack, trainedRef, x);
            }
            assertSamePredictions("after training beside requests", new Predictor(trainedRef, Task.CLASSIFICATION),
                    training, x);
        }
    }

    private static void assertSamePredictions(String when, Predictor want, Predictor got, float[] x) {
        for (int request : new int[] {1, 8}) {
            float[] in = Arrays.copyOf(x, request * 784);
            assertBits(when + ", requests of " + request, want.predict(in, request), got.predict(in, request));
        }
    }

    private static void assertBits(String what, float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                    () -> what + ": value " + at + " is " + got[at] + ", expected " + want[at]);
        }
    }

    /** One SGD step on the cross-entropy of {@code x}'s rows labelled 0, 1, 2, ... */
    private static void trainingStep(CpuBackend be, Sequential model, float[] x) {
        int n = x.length / 784;
        int[] labels = new int[n];
        Arrays.setAll(labels, i -> i % 10);
        try (Scope scope = Scope.open(); Tape tape = Tape.open(); Sgd sgd = new Sgd(model.parameters(), 0.5)) {
            Tensor in = Tensor.of(be, x, n, 784);
            new SoftmaxCrossEntropy().compute(model.forward(Variable.constant(in)), Tensor.of(be, labels, n))
                    .backward();
            sgd.step();
        }
    }

    /** 300 single-row and 8-row requests after a warm-up ({@link CpuTesting#assertMemoryFlat}). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mlp", "cnn"})
    void memoryStaysFlatOverManyRequests(String name) {
        try (CpuBackend be = CpuTesting.backend(true, 2); Sequential model = architecture(name).build(be)) {
            Predictor predictor = new Predictor(model, Task.CLASSIFICATION);
            float[] x = images(8);
            CpuTesting.assertMemoryFlat(be, steps -> requests(predictor, x, steps));
        }
    }

    private static void requests(Predictor predictor, float[] x, int count) {
        for (int i = 0; i < count; i++) {
            predictor.predict(Arrays.copyOf(x, 784), 1);
            predictor.predict(x, 8);
        }
    }

    private static Architecture architecture(String name) {
        return name.equals("mlp")
                ? new Mlp(new int[] {784, 256, 128, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 0)
                : Cnn.fashionMnist(Init.PYTORCH_DEFAULT, 0);
    }

    /** Softmax of the model's outputs for all {@code x}'s rows in one forward pass, in evaluation mode. */
    private static float[] forwardPass(CpuBackend be, Sequential model, float[] x, boolean images) {
        int n = x.length / 784;
        try (Scope scope = Scope.open(); NoGrad off = NoGrad.open(); ModeSwitch eval = ModeSwitch.to(model, false)) {
            Tensor in = images ? Tensor.empty(be, DType.FLOAT32, n, 1, 28, 28) : Tensor.empty(be, DType.FLOAT32, n,
                    784);
            be.upload(x, 0, in.buffer(), in.offset(), x.length);
            return Softmax.softmax(model.forward(Variable.constant(in)).value()).toFloatArray();
        }
    }

    /** {@code n} seeded rows of 784 values in [0, 1), as pixels are. */
    private static float[] images(int n) {
        java.util.Random r = new java.util.Random(5);
        float[] x = new float[n * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        return x;
    }
}
