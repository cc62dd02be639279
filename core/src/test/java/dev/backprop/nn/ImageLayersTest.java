package dev.backprop.nn;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The image layers as users build them: PyTorch's initial weights, modes, buffers, specs and their messages. */
class ImageLayersTest {
    private static ReferenceBackend be;

    @BeforeAll
    static void open() {
        be = new ReferenceBackend();
    }

    @AfterAll
    static void close() {
        be.close();
    }

    /** The CNN of shared/bench/cnn_fashion.py, as {@code train --arch cnn} builds it. */
    static Sequential referenceCnn(long seed) {
        return Sequential.builder(be, DType.FLOAT32).seed(seed)
                .conv2d(Conv2d.options(1, 32, 3).padding(1)).relu().maxPool2d(2)
                .conv2d(Conv2d.options(32, 64, 3).padding(1)).relu().maxPool2d(2)
                .flatten().dense(64 * 7 * 7, 128).relu().dense(128, 10).build();
    }

    /**
     * SHA-256 of each parameter's float32 bytes after {@code torch.manual_seed(0); nn.Sequential(nn.Conv2d(1, 32, 3,
     * padding=1), ...)} (PyTorch 1.13): the builder draws PyTorch's initial weights bit for bit.
     */
    @Test
    void seedZeroGivesPyTorchsInitialWeights() throws Exception {
        Map<String, String> torch = Map.of(
                "0.weight", "039da3f0632fa1327f3eb126ca1738dc71851f595dc0c2030aced89f66e8fe20",
                "0.bias", "c632b549b1088e844021131205b357eca7cbbc994dabd4d7264a5c2b356a5a82",
                "3.weight", "6a1c57f34c354f832a5fa9b6a7a5c9254ad9a1e50fa16883d15ca9d01cbde203",
                "3.bias", "2db2452cf095766fcdc6ccb8738776f03585df0439585dc9460a6f88121e75b6",
                "7.weight", "d4a63aa03a3f95b18ea12cc2dd5ecdfd4bb8fc8cf71a0333b7ab0fb530a7a353",
                "7.bias", "47c035eeb59f424e9d26ee3844e2ae958d0bd9c9a574848bb5c5950c8c5055cb",
                "9.weight", "41a38ce347f9dc5ada10936988b7b1e05f1d098d242d71e1632476d8b2282b47",
                "9.bias", "ee73c2e9c56d5a3c5ca9b96ec91b80f2ae582253fea29312574e0d0fad26f16f");
        try (Sequential m = referenceCnn(0)) {
            assertEquals(torch.keySet(), m.parameters().keySet());
            assertEquals(421_642, m.parameterCount());
            for (Map.Entry<String, Variable> e : m.parameters().entrySet()) {
                float[] v = e.getValue().value().toFloatArray();
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
                assertEquals(torch.get(e.getKey()), sha, e.getKey());
            }
        }
    }

    @Test
    void conv2dNamesItselfAndBothShapesWhenChannelsDiffer() {
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).conv2d(Conv2d.options(3, 32, 3).padding(1)).build();
             Tensor x = Tensor.zeros(be, DType.FLOAT32, 2, 1, 28, 28)) {
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> m.forward(Variable.constant(x)));
            assertEquals("Conv2d(3->32, k=3, padding=1x1): input [2, 1, 28, 28] has 1 channel, expected 3",
                    e.getMessage());
        }
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).conv2d(Conv2d.options(1, 4, 3)).build();
             Tensor x = Tensor.zeros(be, DType.FLOAT32, 2, 784)) {
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> m.forward(Variable.constant(x)));
            assertTrue(e.getMessage().contains("[2, 784]") && e.getMessage().contains("[N, C, H, W]"), e.getMessage());
        }
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).dense(4, 2).build();
             Tensor x = Tensor.zeros(be, DType.FLOAT32, 2, 1, 2, 2)) {
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> m.forward(Variable.constant(x)));
            assertTrue(e.getMessage().contains("[2, 1, 2, 2]") && e.getMessage().contains("flatten"), e.getMessage());
        }
        IllegalArgumentException stride = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(Conv2d.options(1, 1, 3).stride(0), null));
        assertEquals("Conv2d: stride must be two values >= 1, got [0, 0]", stride.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Pool2d.max(new int[] {2, 2}, new int[] {2, 2},
                new int[] {2, 0}));
    }

    @Test
    void conv2dOptionsSetEachArgumentByNameAndLeaveTheirBaseAlone() {
        Conv2d.Options base = Conv2d.options(2, 3, 3);
        Conv2d.Options all = base.kernel(3, 5).stride(2, 1).padding(0, 2).dilation(2, 1).bias(false);
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).conv2d(all).conv2d(base).build()) {
            assertEquals(Conv2d.spec(2, 3, new int[] {3, 5}, new int[] {2, 1}, new int[] {0, 2}, new int[] {2, 1},
                    false), m.layers().get(0).spec());
            assertEquals(Conv2d.spec(2, 3, new int[] {3, 3}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1},
                    true), m.layers().get(1).spec());
            assertEquals("Conv2d(2->3, k=3x5, stride=2x1, padding=0x2, dilation=2x1, no bias)",
                    m.layers().get(0).toString());
        }
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).conv2d(base.stride(2).padding(1).dilation(3))
                .build()) {
            assertEquals(Conv2d.spec(2, 3, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {3, 3},
                    true), m.layers().get(0).spec());
        }
    }

    @Test
    void batchNormTracksRunningStatisticsInTrainingAndUsesThemInEvaluation() {
        try (Sequential m = Sequential.builder(be, DType.FLOAT64).batchNorm2d(3).build();
             Tensor x = Tensor.of(be, ramp(4 * 3 * 2 * 2), 4, 3, 2, 2)) {
            BatchNorm bn = (BatchNorm) m.layers().get(0);
            assertEquals(Map.of("0.running_mean", bn.buffers().get("running_mean"), "0.running_var",
                    bn.buffers().get("running_var")), m.buffers());
            assertArrayEquals(new double[] {1, 1, 1}, bn.parameters().get("weight").value().toDoubles());
            try (Tape t = Tape.open()) {
                Variable y = m.forward(Variable.constant(x));
                double[] out = y.value().toDoubles();
                double mean0 = 0;
                for (int i = 0; i < 4; i++) {
                    for (int k = 0; k < 4; k++) {
                        mean0 += out[i * 12 + k];
                    }
                }
                assertEquals(0, mean0 / 16, 1e-12, "channel 0 normalized to mean 0");
            }
            assertEquals(1, m.counters().get("0.num_batches_tracked")[0]);
            double[] rm = bn.buffers().get("running_mean").toDoubles();
            double[] rv = bn.buffers().get("running_var").toDoubles();
            // channel 0 holds values i*12 + k (i < 4, k < 4): mean 19.5, unbiased variance over 16 values
            double[] c0 = new double[16];
            for (int i = 0; i < 4; i++) {
                for (int k = 0; k < 4; k++) {
                    c0[i * 4 + k] = i * 12 + k;
                }
            }
            double mean = java.util.Arrays.stream(c0).average().orElseThrow();
            double var = java.util.Arrays.stream(c0).map(v -> (v - mean) * (v - mean)).sum() / 15;
            assertEquals(0.1 * mean, rm[0], 1e-12);
            assertEquals(0.9 + 0.1 * var, rv[0], 1e-12);

            m.train(false);
            assertFalse(m.isTraining());
            try (NoGrad off = NoGrad.open(); Variable y = m.forward(Variable.constant(x))) {
                double[] out = y.value().toDoubles();
                assertEquals((0 - rm[0]) / Math.sqrt(rv[0] + 1e-5), out[0], 1e-12);
            }
            assertEquals(1, m.counters().get("0.num_batches_tracked")[0], "evaluation does not count batches");
        }
    }

    @Test
    void dropoutZeroesInTrainingOnlyAndAdvancesItsStream() {
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(7).dropout(0.25).build();
             Tensor x = Tensor.full(be, DType.FLOAT32, 1.0, 4000)) {
            long[] offset = m.trainingState().get("0.dropout_offset");
            double[] first;
            try (Tape t = Tape.open()) {
                first = m.forward(Variable.constant(x)).value().toDoubles();
            }
            assertEquals(1000, offset[0], "4000 elements use 1000 Philox blocks");
            long zeros = java.util.Arrays.stream(first).filter(v -> v == 0).count();
            assertTrue(Math.abs(zeros - 1000) < 100, zeros + " of 4000 zeroed at p = 0.25");
            assertTrue(java.util.Arrays.stream(first).allMatch(v -> v == 0 || v == (float) (1 / 0.75)));
            double[] second;
            try (Tape t = Tape.open()) {
                second = m.forward(Variable.constant(x)).value().toDoubles();
            }
            assertFalse(java.util.Arrays.equals(first, second), "the next batch gets a new mask");
            offset[0] = 0;
            try (Tape t = Tape.open()) {
                assertArrayEquals(first, m.forward(Variable.constant(x)).value().toDoubles(), "restored offset");
            }
            m.train(false);
            Variable in = Variable.constant(x);
            assertSame(in, m.forward(in), "identity in evaluation mode");
        }
        try (Sequential a = Sequential.builder(be, DType.FLOAT32).seed(1).dropout(0.5).dropout(0.5).build()) {
            assertNotEquals(a.trainingState().get("0.dropout_seed")[0], a.trainingState().get("1.dropout_seed")[0]);
        }
    }

    @Test
    void specsRebuildEveryImageLayer() {
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(3)
                .conv2d(Conv2d.options(2, 4, 3).stride(2).padding(1)).batchNorm2d(4)
                .relu().maxPool2d(2).avgPool2d(1).dropout(0.125).flatten().dense(4, 3).batchNorm1d(3).build()) {
            LayerSpec spec = m.spec();
            Map<String, int[]> shapes = Layers.parameterShapes(spec);
            assertEquals(m.parameters().keySet(), shapes.keySet());
            try (Layer again = Layers.create(spec, (name, shape, role, fanIn, fanOut) ->
                    m.parameters().get(name).value().copy())) {
                assertEquals(spec, again.spec());
                assertEquals(m.toString(), again.toString());
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Layers.validate(
                new LayerSpec("sequential", Map.of(), java.util.List.of(LayerSpec.of("maxpool2d", Map.of("kernel_h", 2,
                        "kernel_w", 2, "stride_h", 0, "stride_w", 2, "pad_h", 0, "pad_w", 0))))));
        assertTrue(e.getMessage().startsWith("layer 0: Pool2d: stride"), e.getMessage());
    }

    private static double[] ramp(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }
}
