package dev.backprop.nn;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.data.Dataset;
import dev.backprop.io.ModelFile;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.loss.SquaredError;
import dev.backprop.optim.Adam;
import dev.backprop.optim.GradientClipping;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.Trainer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A layer given twice to a {@link Sequential} (weight tying), against PyTorch 1.13's {@code nn.Sequential(lin,
 * nn.Tanh(), lin)} with {@code lin = nn.Linear(2, 2)}, weight {@code [[0.5, -0.3], [0.2, 0.8]]}, bias
 * {@code [0.1, -0.2]}, input {@code x = [[1, 2], [-0.5, 0.3], [0.7, -1.2]]} and {@code nn.MSELoss} against
 * {@code y = [[0.2, -0.1], [0, 0.5], [-0.3, 0.4]]}. There {@code named_parameters()} gives {@code ['0.weight',
 * '0.bias']} (the {@code state_dict} also lists {@code 2.weight}, {@code 2.bias}), the gradient is the sum of both
 * uses, and the optimizer steps each parameter once.
 */
class WeightSharingTest {
    private static final float[] W = {0.5f, -0.3f, 0.2f, 0.8f};
    private static final float[] B = {0.1f, -0.2f};
    private static final float[] X = {1.0f, 2.0f, -0.5f, 0.3f, 0.7f, -1.2f};
    private static final float[] Y = {0.2f, -0.1f, 0.0f, 0.5f, -0.3f, 0.4f};

    private final ReferenceBackend be = new ReferenceBackend();

    @AfterEach
    void close() {
        be.close();
    }

    private Dense lin() {
        return new Dense(2, 2, true, (name, shape, role, fanIn, fanOut) ->
                Tensor.of(be, name.equals("weight") ? W.clone() : B.clone(), shape));
    }

    private Sequential tied() {
        Dense lin = lin();
        return Sequential.of(lin, Activation.tanh(), lin);
    }

    /** One forward and backward pass of the mean squared error, after zeroing the gradients. */
    private void backward(Sequential m) {
        m.zeroGrad();
        try (Tape tape = Tape.open()) {
            new SquaredError().compute(m.forward(Variable.constant(Tensor.of(be, X.clone(), 3, 2))),
                    Tensor.of(be, Y.clone(), 3, 2)).backward();
        }
    }

    @Test
    void aSharedParameterIsListedOnceUnderItsFirstName() {
        try (Sequential m = tied()) {
            assertEquals(List.of("0.weight", "0.bias"), List.copyOf(m.parameters().keySet()));
            assertEquals(Map.of("2.weight", "0.weight", "2.bias", "0.bias"), m.sharedParameters());
            // sum(p.numel() for p in m.parameters()) == 6
            assertEquals(6, m.parameterCount());
        }
    }

    @Test
    void anUntiedModelSharesNothing() {
        try (Sequential m = Sequential.of(lin(), Activation.tanh(), lin())) {
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(m.parameters().keySet()));
            assertTrue(m.sharedParameters().isEmpty());
        }
    }

    @Test
    void aNestedSequentialKeepsItsTiesUnderItsIndex() {
        Dense outer = lin();
        try (Sequential m = Sequential.of(tied(), Activation.relu(), outer, outer)) {
            assertEquals(List.of("0.0.weight", "0.0.bias", "2.weight", "2.bias"),
                    List.copyOf(m.parameters().keySet()));
            assertEquals(List.of("0.2.weight", "0.2.bias", "3.weight", "3.bias"),
                    List.copyOf(m.sharedParameters().keySet()));
            assertEquals("0.0.weight", m.sharedParameters().get("0.2.weight"));
            assertEquals("2.bias", m.sharedParameters().get("3.bias"));
        }
    }

    @Test
    void theGradientIsTheSumOfBothUsesAndTheNormCountsItOnce() {
        try (Sequential m = tied()) {
            backward(m);
            assertArrayEquals(new float[] {0.2545888722f, -0.4778406620f, -0.1519950330f, 0.6766884327f},
                    m.parameters().get("0.weight").grad().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {0.1752084792f, -0.7501038909f},
                    m.parameters().get("0.bias").grad().toFloatArray(), 1e-6f);
            // torch.nn.utils.clip_grad_norm_(m.parameters(), 1e9) returns 1.1694061756
            assertEquals(1.1694061756, GradientClipping.clipByGlobalNorm(m.parameters().values(), 1e9), 1e-6);
        }
    }

    @Test
    void sgdWithMomentumStepsTheSharedParameterOnce() {
        try (Sequential m = tied();
             Sgd sgd = Sgd.builder(m.parameters()).lr(0.1).momentum(0.9).weightDecay(0.01).build()) {
            twoSteps(m, sgd);
            // torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01), two steps
            assertArrayEquals(new float[] {0.42811906337738037f, -0.1714835911989212f, 0.23969924449920654f,
                    0.6088242530822754f}, m.parameters().get("0.weight").value().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {0.050699878484010696f, 0.002433184301480651f},
                    m.parameters().get("0.bias").value().toFloatArray(), 1e-6f);
            assertEquals(2, sgd.state().size(), "one momentum buffer per distinct parameter: " + sgd.state().keySet());
        }
    }

    @Test
    void adamStepsTheSharedParameterOnce() {
        try (Sequential m = tied(); Adam adam = Adam.builder(m.parameters()).lr(0.01).weightDecay(0.01).build()) {
            twoSteps(m, adam);
            // torch.optim.Adam(m.parameters(), lr=0.01, weight_decay=0.01), two steps
            assertArrayEquals(new float[] {0.4800126254558563f, -0.2800162732601166f, 0.21997791528701782f,
                    0.7800052762031555f}, m.parameters().get("0.weight").value().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {0.08004841953516006f, -0.18000788986682892f},
                    m.parameters().get("0.bias").value().toFloatArray(), 1e-6f);
        }
    }

    /**
     * The {@link Trainer} on the tied network, one full batch per epoch, clipping the global norm to 0.5 (both
     * steps clip: PyTorch's {@code clip_grad_norm_(m.parameters(), 0.5)} returns 1.1694 then 1.0834), as PyTorch's
     * loop of {@code zero_grad, backward, clip_grad_norm_, SGD(lr=0.1, momentum=0.9, weight_decay=0.01).step}.
     */
    @Test
    void theTrainerClipsAndStepsTheSharedParameterOnce() {
        Dataset data = Dataset.regression(X.clone(), new int[] {2}, Y.clone(), 2);
        try (Sequential m = tied();
             Sgd sgd = Sgd.builder(m.parameters()).lr(0.1).momentum(0.9).weightDecay(0.01).build()) {
            Trainer trainer = Trainer.builder(m, new SquaredError(), sgd).batchSize(3).shuffle(false)
                    .clipGradNorm(0.5).build();
            trainer.fit(data, null, 2, null);
            assertArrayEquals(new float[] {0.46681904792785645f, -0.24046704173088074f, 0.21806947886943817f,
                    0.7129234075546265f}, m.parameters().get("0.weight").value().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {0.07776235789060593f, -0.10697543621063232f},
                    m.parameters().get("0.bias").value().toFloatArray(), 1e-6f);
        }
    }

    private void twoSteps(Sequential m, Optimizer opt) {
        for (int s = 0; s < 2; s++) {
            backward(m);
            opt.step();
        }
    }

    @Test
    void aTieAcrossNestingIsFoundAtEitherLevel() {
        Dense lin = lin();
        try (Sequential m = Sequential.of(Sequential.of(lin, Activation.tanh()), lin)) {
            assertEquals(List.of("0.0.weight", "0.0.bias"), List.copyOf(m.parameters().keySet()));
            assertEquals(Map.of("1.weight", "0.0.weight", "1.bias", "0.0.bias"), m.sharedParameters());
        }
        Dense other = lin();
        try (Sequential m = Sequential.of(other, Sequential.of(other, Activation.tanh(), other))) {
            assertEquals(List.of("0.weight", "0.bias"), List.copyOf(m.parameters().keySet()));
            assertEquals(List.of("1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"),
                    List.copyOf(m.sharedParameters().keySet()));
            assertEquals("0.weight", m.sharedParameters().get("1.2.weight"));
        }
    }

    @Test
    void layersRebuildAReusedLayerAsOneAndRefuseAPlanThatCannotBe() {
        LayerSpec spec;
        try (Sequential m = tied()) {
            spec = m.spec();
        }
        ParameterFactory values = (name, shape, role, fanIn, fanOut) ->
                Tensor.of(be, name.endsWith("weight") ? W.clone() : B.clone(), shape);
        try (Sequential m = (Sequential) Layers.create(spec, values, 0, Map.of("2.", "0."))) {
            assertTrue(m.layers().get(0) == m.layers().get(2));
            assertEquals(Map.of("2.weight", "0.weight", "2.bias", "0.bias"), m.sharedParameters());
        }
        long live = be.memoryStats().liveBuffers();
        assertEquals("cannot build layer '0.' as layer '2.': '2.' is not built before it", assertThrows(
                IllegalArgumentException.class, () -> Layers.create(spec, values, 0, Map.of("0.", "2."))).getMessage());
        assertEquals("cannot build layer '2.' as layer '1.': their specs differ", assertThrows(
                IllegalArgumentException.class, () -> Layers.create(spec, values, 0, Map.of("2.", "1."))).getMessage());
        assertEquals("cannot build layer '5.' as layer '0.': no such layer", assertThrows(
                IllegalArgumentException.class, () -> Layers.create(spec, values, 0, Map.of("5.", "0."))).getMessage());
        assertEquals(live, be.memoryStats().liveBuffers(), "nothing allocated for a refused plan");
    }

    @Test
    void closingATiedModelClosesTheLayerOnce() {
        Custom layer = new Custom(Map.of("w", param()), Map.of(), Map.of());
        Sequential m = Sequential.of(layer, Activation.tanh(), layer);
        m.close();
        assertEquals(1, layer.closes);
    }

    @Test
    void aLayerWithBuffersAndNoParametersUsedTwiceIsSavedOnce(@TempDir Path dir) throws IOException {
        // A layer with running statistics and no weights, given twice: both places update one tensor, as in
        // PyTorch, and the file holds it once with the tie.
        Path file = dir.resolve("m.safetensors");
        Custom stats = new Custom(Map.of(), Map.of("running_mean", Tensor.of(be, new float[] {0.5f, 1f}, 2)), Map.of());
        try (Sequential m = Sequential.of(stats, lin(), stats)) {
            assertTrue(m.sharedParameters().isEmpty(), "no parameter is shared");
            assertEquals(Map.of("2.running_mean", "0.running_mean"), ModelFile.ties(m));
            ModelFile.save(file, m);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(List.of("1.weight", "1.bias", "0.running_mean"), List.copyOf(f.shapes().keySet()));
            assertEquals("{\"2.running_mean\":\"0.running_mean\"}", f.metadata().get(ModelFile.TIED_KEY));
        }
    }

    @Test
    void aLayerListingOneVariableTwiceIsListedOnceInASequentialAndRefusedAlone() {
        Variable w = param();
        Map<String, Variable> twice = new java.util.LinkedHashMap<>();
        twice.put("w1", w);
        twice.put("w2", w);
        try (Custom layer = new Custom(twice, Map.of(), Map.of())) {
            assertEquals(Map.of("w2", "w1"), ModelFile.ties(layer), "a model file records the tie");
            assertEquals("Sgd: the same parameter is listed as 'w1' and 'w2'", assertThrows(
                    IllegalArgumentException.class, () -> new Sgd(layer.parameters(), 0.1)).getMessage());
            Sequential m = Sequential.of(layer);
            assertEquals(List.of("0.w1"), List.copyOf(m.parameters().keySet()));
            assertEquals(Map.of("0.w2", "0.w1"), m.sharedParameters());
        }
    }

    @Test
    void aSequentialRefusesALayerWhoseTiesDoNotFitItsParameters() {
        Custom unknown = new Custom(Map.of("w", param()), Map.of(), Map.of("v", "u"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.of(lin(), Activation.tanh(), unknown));
        assertEquals("Sequential: layer 2, custom, says its 'v' is its 'u', but its parameters() do not list 'u' "
                + "(a shared name must be left out of parameters() and name one listed there)", e.getMessage());
        assertEquals(1, unknown.closes, "the layers given are closed");
        Custom listed = new Custom(Map.of("w", param()), Map.of(), Map.of("w", "w"));
        assertEquals("Sequential: layer 0, custom, says its 'w' is its 'w', but its parameters() lists 'w' too "
                + "(a shared name must be left out of parameters() and name one listed there)",
                assertThrows(IllegalArgumentException.class, () -> Sequential.of(listed)).getMessage());
    }

    private Variable param() {
        return Variable.parameter(Tensor.of(be, B.clone(), 2));
    }

    /** A hand-written layer: the identity, with the given parameters, buffers and ties; it counts its closes. */
    private static final class Custom implements Layer {
        private final Map<String, Variable> params;
        private final Map<String, Tensor> buffers;
        private final Map<String, String> shared;
        int closes;

        Custom(Map<String, Variable> params, Map<String, Tensor> buffers, Map<String, String> shared) {
            this.params = params;
            this.buffers = buffers;
            this.shared = shared;
        }

        @Override
        public Variable forward(Variable input) {
            return input;
        }

        @Override
        public Map<String, Variable> parameters() {
            return params;
        }

        @Override
        public Map<String, String> sharedParameters() {
            return shared;
        }

        @Override
        public Map<String, Tensor> buffers() {
            return buffers;
        }

        @Override
        public LayerSpec spec() {
            return LayerSpec.of("custom", Map.of());
        }

        @Override
        public void close() {
            closes++;
            Layer.super.close();
        }

        @Override
        public String toString() {
            return "custom";
        }
    }
}
