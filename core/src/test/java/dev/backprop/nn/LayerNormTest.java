package dev.backprop.nn;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LayerNorm}'s settings, refusals, spec and model file; its numbers against PyTorch and by finite differences
 * are {@code LayerNormCases} of the network contract test, run on every backend.
 */
@SuppressWarnings("try") // scopes free memory on close; the bodies need no reference
class LayerNormTest {
    private static ReferenceBackend be;

    @BeforeAll
    static void open() {
        be = new ReferenceBackend();
    }

    @AfterAll
    static void close() {
        be.close();
    }

    /** A spec of {@code layernorm} with the arguments as given, in the model file's order. */
    private static LayerSpec spec(int features, int mantissa, int exponent, int affine) {
        Map<String, Integer> args = new LinkedHashMap<>();
        args.put("features", features);
        args.put("eps_mantissa", mantissa);
        args.put("eps_exponent", exponent);
        args.put("affine", affine);
        return LayerSpec.of("layernorm", args);
    }

    @Test
    void theSpecRecordsEpsAsItsShortestDecimal() {
        assertEquals(spec(64, 1, -5, 1), LayerNorm.spec(64, 1e-5, true));
        assertEquals(spec(8, 1, -12, 0), LayerNorm.spec(8, 1e-12, false));
        assertEquals(spec(8, 25, -2, 1), LayerNorm.spec(8, 0.25, true));
        assertEquals(spec(8, 3, 0, 1), LayerNorm.spec(8, 3, true));
        // ONNX stores epsilon as a float: its shortest decimal is what a model file keeps.
        assertEquals(spec(8, 1, -5, 1), LayerNorm.spec(8, Double.parseDouble(Float.toString(1e-5f)), true));
        for (double eps : new double[] {1e-5, 1e-6, 1e-12, 0.25, 3, 1.2345e-7, Double.MIN_VALUE, 1e300}) {
            assertEquals(eps, LayerNorm.eps(LayerNorm.spec(5, eps, true)), "eps " + eps);
        }
    }

    @Test
    void badSettingsAreRefusedInOneLineNamingTheValue() {
        ParameterFactory never = (name, shape, role, fanIn, fanOut) -> {
            throw new AssertionError("nothing is allocated for a refused layer norm");
        };
        for (double eps : new double[] {0, -1e-5, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new LayerNorm(4, eps, true, never));
            assertEquals("LayerNorm: eps must be positive and finite, got " + eps, e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LayerNorm(0, 1e-5, true, never));
        assertEquals("LayerNorm: features (normalized shape) must be positive, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LayerNorm(4, 1.2345678901e-5, true, never));
        assertEquals("LayerNorm: eps 1.2345678901E-5 has more significant digits than a model file records (a "
                + "significand up to 2147483647)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder(be, DType.FLOAT64).layerNorm(3, Double.NaN, true));
        assertEquals("LayerNorm: eps must be positive and finite, got NaN", e.getMessage());
        Sequential.Builder b = Sequential.builder(be, DType.FLOAT64).dense(4, 5);
        long before = be.memoryStats().liveBuffers();
        e = assertThrows(IllegalArgumentException.class, () -> b.layerNorm(6));
        assertTrue(e.getMessage().contains("layerNorm(6)") && e.getMessage().contains("5"), e.getMessage());
        assertEquals(before, be.memoryStats().liveBuffers(), "a refused layer left buffers");
        b.build().close();
    }

    @Test
    void aWeightOrBiasOfAnotherShapeIsRefusedNamingTheAffineLayerAndFreed() {
        for (String wrong : new String[] {"weight", "bias"}) {
            long before = be.memoryStats().liveBuffers();
            ParameterFactory factory = (name, shape, role, fanIn, fanOut) ->
                    Tensor.zeros(be, DType.FLOAT64, name.equals(wrong) ? 3 : shape[0]);
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> new LayerNorm(4, LayerNorm.EPS, true, factory));
            assertEquals("LayerNorm(4, eps=1.0E-5): " + wrong + " is [3], expected [4]", e.getMessage());
            assertEquals(before, be.memoryStats().liveBuffers(), "buffers left when the " + wrong + " is refused");
            e = assertThrows(ShapeMismatchException.class, () -> new BatchNorm(4, false, factory));
            assertEquals("BatchNorm1d(4): " + wrong + " is [3], expected [4]", e.getMessage(), "the shared check");
            assertEquals(before, be.memoryStats().liveBuffers(), "buffers left by BatchNorm's " + wrong);
        }
    }

    @Test
    void anInputOfAnotherWidthIsRefusedNamingItsShape() {
        try (Scope s = Scope.open(); LayerNorm ln = new LayerNorm(4, LayerNorm.EPS, true,
                Init.PYTORCH_DEFAULT.factory(be, DType.FLOAT64, new java.util.Random(0)))) {
            for (int[] dims : new int[][] {{3, 5}, {2, 4, 3}, {4}}) {
                Variable x = Variable.constant(Tensor.zeros(be, DType.FLOAT64, dims));
                ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> ln.forward(x));
                assertEquals("LayerNorm(4, eps=1.0E-5): input " + x.shape() + " is not [N, ..., 4] (its last "
                        + "dimension is the one normalized)", e.getMessage());
            }
        }
    }

    @Test
    void parametersAreOnesAndZerosUnderPyTorchsNames() {
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(3).dense(3, 4).layerNorm(4).relu()
                .layerNorm(4, 1e-6, false).dense(4, 2).build()) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"),
                    List.copyOf(m.parameters().keySet()));
            assertArrayEquals(new float[] {1, 1, 1, 1}, m.parameters().get("1.weight").value().toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0, 0}, m.parameters().get("1.bias").value().toFloatArray());
            assertEquals(Layers.parameterShapes(m.spec()).keySet(), m.parameters().keySet());
            assertEquals("dense(3->4) layernorm(4) relu layernorm(4,eps=1.0E-6,noaffine) dense(4->2)",
                    Layers.describe(m.spec()));
            assertEquals(2, Layers.outputFeatures(m.spec()));
            assertArrayEquals(new int[] {2}, OutputShape.of(m.spec(), new int[] {3}));
            assertEquals(4, Layers.inputFeatures(LayerNorm.spec(4, 1e-5, true)));
            assertArrayEquals(new int[] {3, 5, 4}, OutputShape.of(LayerNorm.spec(4, 1e-5, true), new int[] {3, 5, 4}));
            assertEquals(null, OutputShape.of(LayerNorm.spec(4, 1e-5, true), new int[] {4, 3}));
        }
        // The same seed draws the same dense weights with or without layer norms between them: they draw nothing.
        try (Sequential with = Sequential.builder(be, DType.FLOAT32).seed(3).dense(3, 4).layerNorm(4).dense(4, 2)
                .build(); Sequential without = Sequential.builder(be, DType.FLOAT32).seed(3).dense(3, 4).dense(4, 2)
                .build()) {
            assertArrayEquals(without.parameters().get("1.weight").value().toFloatArray(),
                    with.parameters().get("2.weight").value().toFloatArray());
        }
    }

    @Test
    void badSpecsAreRefusedNamingTheLayerAndValues() {
        String[][] bad = {
            {"features 0", "layer 0: layernorm needs features > 0, got {features=0, eps_mantissa=1, eps_exponent=-5, "
                    + "affine=1}"},
            {"affine 2", "layer 0: layernorm needs affine 0 or 1, got {features=4, eps_mantissa=1, eps_exponent=-5, "
                    + "affine=2}"},
            {"mantissa 0", "layer 0: layernorm eps 0e-5 (eps_mantissa, eps_exponent) is not a positive finite double"},
            {"mantissa -1", "layer 0: layernorm eps -1e-5 (eps_mantissa, eps_exponent) is not a positive finite "
                    + "double"},
            {"exponent 400", "layer 0: layernorm eps 1e400 (eps_mantissa, eps_exponent) is not a positive finite "
                    + "double"},
            {"not shortest", "layer 0: layernorm eps 10e-6 is 1.0E-5, to be written as eps_mantissa 1, eps_exponent "
                    + "-5"},
        };
        LayerSpec[] specs = {spec(0, 1, -5, 1), spec(4, 1, -5, 2), spec(4, 0, -5, 1), spec(4, -1, -5, 1),
            spec(4, 1, 400, 1), spec(4, 10, -6, 1)};
        for (int i = 0; i < specs.length; i++) {
            LayerSpec net = new LayerSpec("sequential", Map.of(), List.of(specs[i]));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Layers.validate(net),
                    bad[i][0]);
            assertEquals(bad[i][1], e.getMessage(), bad[i][0]);
        }
        LayerSpec missing = LayerSpec.of("layernorm", Map.of("features", 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Layers.validate(missing));
        assertTrue(e.getMessage().startsWith("model: 'layernorm' takes arguments [features, eps_mantissa, "
                + "eps_exponent, affine], got [features]"), e.getMessage());
    }

    @Test
    void aModelFileRoundTripKeepsTheLayerAndItsWeights(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ln.safetensors");
        try (Scope s = Scope.open(); Sequential m = Sequential.builder(be, DType.FLOAT32).seed(5).dense(3, 4)
                .layerNorm(4, 1e-3, true).tanh().layerNorm(4, 2.5e-7, false).dense(4, 2).build()) {
            Elementwise.copy(Tensor.of(be, new float[] {0.5f, 1.5f, 2, -1}, 4), m.parameters().get("1.weight").value());
            Elementwise.copy(Tensor.of(be, new float[] {0.25f, -0.5f, 0, 3}, 4), m.parameters().get("1.bias").value());
            ModelFile.save(file, m);
            try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
                String arch = f.metadata().get(ModelFile.ARCHITECTURE_KEY);
                assertTrue(arch.contains("{\"type\":\"layernorm\",\"features\":4,\"eps_mantissa\":1,"
                        + "\"eps_exponent\":-3,\"affine\":1}"), arch);
                assertTrue(arch.contains("{\"type\":\"layernorm\",\"features\":4,\"eps_mantissa\":25,"
                        + "\"eps_exponent\":-8,\"affine\":0}"), arch);
            }
            try (Layer loaded = ModelFile.load(file, be, DType.FLOAT32)) {
                assertEquals(m.spec(), loaded.spec());
                assertEquals(m.parameters().keySet(), loaded.parameters().keySet());
                for (String name : m.parameters().keySet()) {
                    assertArrayEquals(m.parameters().get(name).value().toFloatArray(),
                            loaded.parameters().get(name).value().toFloatArray(), name);
                }
                LayerNorm ln = (LayerNorm) ((Sequential) loaded).layers().get(3);
                assertEquals(2.5e-7, ln.eps());
                assertFalse(ln.affine());
                Tensor x = Tensor.of(be, new float[] {1, -2, 0.5f, 3, 0, 0.25f}, 2, 3);
                assertArrayEquals(m.forward(Variable.constant(x)).value().toFloatArray(),
                        loaded.forward(Variable.constant(x)).value().toFloatArray());
            }
        }
    }

    @Test
    void aModelFileWithAnEpsNotInItsShortestFormIsRefusedBeforeAnythingIsMade(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ln.safetensors");
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(5).dense(3, 4).layerNorm(4).build()) {
            ModelFile.save(file, m);
        }
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        String good = "\\\"eps_mantissa\\\":1,\\\"eps_exponent\\\":-5";
        assertTrue(text.contains(good), text.substring(0, Math.min(400, text.length())));
        // The same length, so the header's size stays right and only the architecture is wrong.
        Files.write(file, text.replace(good, "\\\"eps_mantissa\\\":0,\\\"eps_exponent\\\":-5")
                .getBytes(StandardCharsets.ISO_8859_1));
        long before = be.memoryStats().liveBuffers();
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(file, be));
        assertTrue(e.getMessage().contains("architecture metadata: layer 1: layernorm eps 0e-5 (eps_mantissa, "
                + "eps_exponent) is not a positive finite double"), e.getMessage());
        assertEquals(before, be.memoryStats().liveBuffers(), "buffers left by a refused file");
    }
}
