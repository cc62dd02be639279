package dev.backprop.nn;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.random.Philox;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Mlp} with a dropout probability: PyTorch's {@code nn.Sequential(Linear, act, Dropout(p), ..., Linear)} with
 * its names, forward and gradients ({@code torch-mlp-dropout.safetensors}, written by
 * {@code core/src/test/python/mlp_dropout_vectors.py}), and with p = 0 the network without dropout layers.
 */
class MlpDropoutTest {
    private static final int[] SIZES = {784, 256, 128, 10};
    private static ReferenceBackend be;

    @BeforeAll
    static void open() {
        be = new ReferenceBackend();
    }

    @AfterAll
    static void close() {
        be.close();
    }

    @Test
    void zeroDropoutIsTheNetworkWithoutDropoutLayers() {
        Mlp plain = new Mlp(SIZES, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 3);
        Mlp zero = new Mlp(SIZES, Activation.Kind.RELU, 0, Init.PYTORCH_DEFAULT, 3);
        assertEquals(plain, zero);
        assertEquals(plain.hashCode(), zero.hashCode());
        assertEquals("784-256-128-10 relu", zero.describe());
        assertEquals(List.of("dense", "relu", "dense", "relu", "dense"),
                zero.spec().layers().stream().map(LayerSpec::type).toList());
        try (Sequential m = zero.build(be)) {
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"),
                    List.copyOf(m.parameters().keySet()));
            assertEquals(Map.of(), m.trainingState());
        }
    }

    /** {@code -0.0} is no dropout too: the same record as 0 (a record compares doubles as Double.compare does). */
    @Test
    void negativeZeroDropoutIsZero() {
        Mlp plain = new Mlp(SIZES, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 3);
        Mlp negativeZero = new Mlp(SIZES, Activation.Kind.RELU, -0.0, Init.PYTORCH_DEFAULT, 3);
        assertEquals(plain, negativeZero);
        assertEquals(plain.hashCode(), negativeZero.hashCode());
        assertEquals(0, Double.compare(0.0, negativeZero.dropout()));
        Cnn cnn = new Cnn(1, 28, 28, 10, 0, Init.PYTORCH_DEFAULT, 3);
        assertEquals(cnn, new Cnn(1, 28, 28, 10, -0.0, Init.PYTORCH_DEFAULT, 3));
        assertEquals(0.0, Dropout.checkRecordedProbability(-0.0), 0.0);
        assertEquals(0, Double.compare(0.0, Dropout.checkRecordedProbability(-0.0)));
    }

    @Test
    void dropoutFollowsEachHiddenActivationWithPyTorchsNames() {
        Mlp mlp = new Mlp(SIZES, Activation.Kind.TANH, 0.2, Init.PYTORCH_DEFAULT, 3);
        assertEquals(List.of("dense", "tanh", "dropout", "dense", "tanh", "dropout", "dense"),
                mlp.spec().layers().stream().map(LayerSpec::type).toList());
        assertEquals(200_000, mlp.spec().layers().get(2).arg("p_ppm"));
        assertEquals("dense(784->256) tanh dropout(0.2) dense(256->128) tanh dropout(0.2) dense(128->10)",
                mlp.describe());
        assertNotEquals(new Mlp(SIZES, Activation.Kind.TANH, 0.3, Init.PYTORCH_DEFAULT, 3), mlp);
        try (Sequential m = mlp.build(be)) {
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"),
                    List.copyOf(m.parameters().keySet()));
            assertEquals(mlp.spec(), m.spec());
            // Each layer's stream is keyed by the run's seed and its position, as Sequential.Builder#dropout keys it.
            assertEquals(Dropout.streamSeed(3, 2), m.trainingState().get("2.dropout_seed")[0]);
            assertEquals(Dropout.streamSeed(3, 5), m.trainingState().get("5.dropout_seed")[0]);
        }
    }

    @Test
    void refusesAProbabilityOutsideZeroToOneOrFinerThanMillionths() {
        for (double p : new double[] {-0.1, 1, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Mlp(SIZES, Activation.Kind.RELU, p, Init.PYTORCH_DEFAULT, 0));
            assertEquals("dropout probability must be in [0, 1), got " + p, e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Mlp(SIZES, Activation.Kind.RELU, 0.1234567, Init.PYTORCH_DEFAULT, 0));
        assertEquals("dropout probability 0.1234567 is not a whole number of millionths, which the model file "
                + "records", e.getMessage());
        Dropout.checkRecordedProbability(0.123456);
    }

    @Test
    void evaluationGivesTheNetworkWithoutDropoutExactly() {
        float[] x = new float[3 * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37);
        }
        try (Sequential with = new Mlp(SIZES, Activation.Kind.RELU, 0.5, Init.PYTORCH_DEFAULT, 9).build(be);
             Sequential without = new Mlp(SIZES, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 9).build(be);
             Tensor in = Tensor.of(be, x, 3, 784); NoGrad off = NoGrad.open()) {
            with.train(false);
            without.train(false);
            for (String name : without.parameters().keySet()) {
                String shifted = Integer.parseInt(name.substring(0, 1)) / 2 * 3 + name.substring(1);
                assertArrayEquals(without.parameters().get(name).value().toFloatArray(),
                        with.parameters().get(shifted).value().toFloatArray(), "dropout draws no weights: " + name);
            }
            assertArrayEquals(without.forward(Variable.constant(in)).value().toFloatArray(),
                    with.forward(Variable.constant(in)).value().toFloatArray());
        }
    }

    @Test
    void trainingForwardAndGradientsArePyTorchsForTheSameMasks() throws Exception {
        Path p = Path.of(MlpDropoutTest.class.getResource("/dev/backprop/nn/torch-mlp-dropout.safetensors").toURI());
        try (SafeTensorsFile f = SafeTensorsFile.open(p);
             Sequential m = new Mlp(new int[] {6, 5, 4, 3}, Activation.Kind.RELU, 0.25, Init.PYTORCH_DEFAULT, 11)
                     .build(be)) {
            // The fixture's Philox is written from the paper: its masks must be the ones Backprop's layers draw.
            for (int position : new int[] {2, 5}) {
                float[] mask = read(f, "mask." + position);
                int[] words = new int[mask.length];
                Philox.words(Dropout.streamSeed(11, position), 0, words, words.length);
                for (int i = 0; i < mask.length; i++) {
                    assertEquals(mask[i], (words[i] >>> 8) >= Philox.threshold(0.25) ? 1f : 0f, "mask." + position);
                }
            }
            for (Map.Entry<String, Variable> e : m.parameters().entrySet()) {
                assertArrayEquals(read(f, e.getKey()), e.getValue().value().toFloatArray(),
                        "torch.manual_seed(11)'s initial " + e.getKey());
            }
            try (Tensor x = f.read("x", be, DType.FLOAT32); Tensor g = f.read("grad_out", be, DType.FLOAT32);
                 Tape t = Tape.open()) {
                Variable in = Variable.parameter(x);
                Variable out = m.forward(in);
                close(read(f, "out"), out.value().toFloatArray(), "out");
                out.backward(g);
                close(read(f, "grad_x"), in.grad().toFloatArray(), "grad_x");
                for (Map.Entry<String, Variable> e : m.parameters().entrySet()) {
                    close(read(f, "grad." + e.getKey()), e.getValue().grad().toFloatArray(), "grad." + e.getKey());
                }
            }
        }
    }

    private static float[] read(SafeTensorsFile f, String name) throws java.io.IOException {
        try (Tensor t = f.read(name, be, DType.FLOAT32)) {
            return t.toFloatArray();
        }
    }

    /** Equal to float32 rounding: the sums are accumulated in another order than torch's. */
    private static void close(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), what + "[" + i + "]");
        }
    }
}
