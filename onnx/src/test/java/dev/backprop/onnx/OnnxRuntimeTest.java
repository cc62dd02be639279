package dev.backprop.onnx;

import ai.onnxruntime.OrtException;
import dev.backprop.backend.DType;
import dev.backprop.model.Predictor;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Cnn;
import dev.backprop.nn.Init;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every exported model runs in ONNX Runtime, and its outputs on the 10,000 Fashion-MNIST test images match
 * Backprop's own (in evaluation mode, as a served model runs) within 1e-5 of each example's output scale (the two
 * engines sum the products in different orders): the MLPs, with and without layer norms, and the CNNs with and
 * without batch norm and dropout.
 */
class OnnxRuntimeTest extends CpuBackendTest {
    static final double TOLERANCE = 1e-5;
    static final int N = 10_000;
    /** Examples as flat rows, and as one-channel images. */
    private static final int[] FLAT = {784}, IMAGE = {1, 28, 28};

    @TempDir
    Path dir;


    @Test
    void theTrainedMlpRunsInOnnxRuntimeAsInBackprop() throws Exception {
        try (SavedModel.Loaded m = OnnxImport.load(OnnxTesting.fixture("torch_mlp.onnx"), cpu)) {
            compare(m.model(), OnnxExport.Options.defaults(), FLAT, 10);
        }
    }

    @Test
    void theDefaultMlpOfTrainRunsInOnnxRuntimeAsInBackprop() throws Exception {
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).seed(0)
                .dense(784, 256).relu().dense(256, 128).relu().dense(128, 10).build()) {
            compare(model, OnnxExport.Options.defaults(), FLAT, 10);
        }
    }

    @Test
    void everyActivationAndADenseLayerWithoutBiasRunAsInBackprop() throws Exception {
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).seed(1).flatten()
                .dense(784, 48).sigmoid().dense(48, 40, false).tanh().identity().dense(40, 5).build()) {
            compare(model, OnnxExport.Options.defaults().withInputShape(1, 28, 28), IMAGE, 5);
        }
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).seed(2)
                .dense(784, 24).threshold().dense(24, 5).build()) {
            compare(model, OnnxExport.Options.defaults(), FLAT, 5);
        }
    }

    /** LayerNormalization with weight and bias, and with a Scale of ones and no B (a layer norm without them). */
    @Test
    void layerNormsWithAndWithoutAffineParametersRunAsInBackprop() throws Exception {
        try (Sequential model = Sequential.builder(cpu, DType.FLOAT32).seed(4).dense(784, 48).layerNorm(48).relu()
                .dense(48, 32).layerNorm(32, 1e-6, false).tanh().dense(32, 10).build()) {
            float[] w = new float[48], b = new float[48];
            for (int i = 0; i < 48; i++) {
                w[i] = 0.5f + i / 48f;
                b[i] = (i % 7 - 3) / 10f;
            }
            try (Tensor wt = Tensor.of(cpu, w, 48); Tensor bt = Tensor.of(cpu, b, 48)) {
                Elementwise.copy(wt, model.parameters().get("1.weight").value());
                Elementwise.copy(bt, model.parameters().get("1.bias").value());
            }
            compare(model, OnnxExport.Options.defaults(), FLAT, 10);
        }
        try (SavedModel.Loaded m = OnnxImport.load(OnnxTesting.fixture("torch_mlp_layernorm.onnx"), cpu)) {
            compare(m.model(), OnnxExport.Options.defaults(), FLAT, 10);
        }
    }

    @Test
    void aTrainedCnnWithBatchNormAndDropoutRunsInOnnxRuntimeAsInBackpropsEvaluationMode() throws Exception {
        try (Sequential model = OnnxTesting.trainedCnn(cpu)) {
            assertEquals(10, model.counters().get("1.num_batches_tracked")[0], "10 training steps");
            // The input's height and width stay symbolic: the layers do not fix them.
            compare(model, OnnxExport.Options.defaults(), IMAGE, 10);
            assertTrue(model.isTraining(), "the comparison left the model in the mode it found");
        }
    }

    @Test
    void theCnnOfTrainArchCnnRunsInOnnxRuntimeAsInBackprop() throws Exception {
        try (Sequential model = Cnn.fashionMnist(Init.PYTORCH_DEFAULT, 0).build(cpu)) {
            compare(model, OnnxExport.Options.defaults().withInputShape(IMAGE), IMAGE, 10);
        }
    }

    @Test
    void theSoftmaxOutputGivesBackpropsProbabilities() throws IOException, OrtException {
        try (SavedModel.Loaded m = OnnxImport.load(OnnxTesting.fixture("torch_mlp.onnx"), cpu)) {
            Path onnx = dir.resolve("probabilities.onnx");
            OnnxExport.write(m, onnx, OnnxExport.Options.defaults().withSoftmax(true));
            float[] x = OnnxTesting.images(N);
            assertArrayEquals(new int[] {1, 28, 28}, OnnxImport.read(onnx).inputShape(), "PyTorch's declared input");
            float[] ort = OnnxTesting.runtime(onnx, x, N, 1, 28, 28);
            float[] ours = new Predictor(m.model(), Task.CLASSIFICATION).predict(x, N);
            double rel = OnnxTesting.maxRelative(ort, ours, 10);
            report("softmax output", rel);
            assertTrue(rel <= TOLERANCE, "max relative difference " + rel);
            try (SavedModel.Loaded back = OnnxImport.load(onnx, cpu)) {
                assertEquals(Task.CLASSIFICATION, back.task());
                assertEquals(m.model().spec(), back.model().spec(), "the softmax is the task's, not a layer");
            }
        }
    }

    /**
     * Exports {@code model}, runs the file in ONNX Runtime and Backprop's model directly (in evaluation mode), on the
     * test images given as examples of dimensions {@code example}, and compares.
     */
    private void compare(Layer model, OnnxExport.Options options, int[] example, int outputs)
            throws IOException, OrtException {
        Path onnx = dir.resolve("model.onnx");
        OnnxExport.write(model, onnx, options);
        float[] x = OnnxTesting.images(N);
        int[] dims = new int[example.length + 1];
        dims[0] = N;
        System.arraycopy(example, 0, dims, 1, example.length);
        float[] ort = OnnxTesting.runtime(onnx, x, Arrays.stream(dims).asLongStream().toArray());
        float[] ours = OnnxTesting.forward(model, cpu, x, dims);
        double rel = OnnxTesting.maxRelative(ort, ours, outputs);
        report(model.toString(), rel);
        assertTrue(rel <= TOLERANCE, "max relative difference " + rel + " for " + model);
        int[] ortClasses = argmax(ort, outputs), ourClasses = argmax(ours, outputs);
        assertArrayEquals(ourClasses, ortClasses, "the same predicted classes");
    }

    private static void report(String what, double rel) {
        System.out.printf(Locale.ROOT, "ONNX Runtime vs Backprop, %d test images, %s: max relative difference %.3g%n",
                N, what, rel);
    }

    private static int[] argmax(float[] y, int width) {
        int[] a = new int[y.length / width];
        for (int r = 0; r < a.length; r++) {
            for (int j = 1; j < width; j++) {
                if (y[r * width + j] > y[r * width + a[r]]) {
                    a[r] = j;
                }
            }
        }
        return a;
    }

    @Test
    void namesInTheExportedFile() throws IOException {
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).dense(4, 3).relu().dense(3, 2).build()) {
            Path onnx = dir.resolve("names.onnx");
            OnnxExport.write(model, onnx, OnnxExport.Options.defaults());
            OnnxImport.Graph g = OnnxImport.read(onnx);
            assertEquals(OnnxExport.INPUT, g.inputName());
            assertEquals(OnnxExport.OUTPUT, g.outputName());
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(g.state().keySet()));
            assertArrayEquals(new int[] {4}, g.inputShape());
            assertEquals(Map.of(), g.metadata());
        }
    }
}
