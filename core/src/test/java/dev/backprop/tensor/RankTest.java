package dev.backprop.tensor;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tensors of any rank can be made. The ops that take fixed ranks (matrix products 2-3, images 4, batch norm 2-4,
 * permute 1-4, the dense layer and cross-entropy 2) refuse others naming the shape; the ops on the matrix view
 * (elementwise, row and column reductions, softmax along the last dimension) work at any rank.
 */
class RankTest {
    @Test
    void opsOfFixedRankRefuseRankFiveNamingTheShape() {
        try (ReferenceBackend be = new ReferenceBackend(); Tensor x = Tensor.zeros(be, DType.FLOAT32, 1, 2, 1, 2, 3);
             Tensor w4 = Tensor.zeros(be, DType.FLOAT32, 1, 2, 1, 1); Tensor bias = Tensor.zeros(be, DType.FLOAT32, 3);
             Tensor stats = Tensor.zeros(be, DType.FLOAT32, 2); Tensor labels = Tensor.of(be, new int[] {0}, 1)) {
            Variable v = Variable.constant(x);
            Map<String, Executable> calls = new LinkedHashMap<>();
            calls.put("matmul", () -> MatMul.matmul(x, x));
            calls.put("conv2d", () -> Convolution.window(x, w4, 1, 1, 0, 0, 1, 1));
            calls.put("pool2d", () -> Pooling.window(x, 1, 1, 1, 1, 0, 0));
            calls.put("batchNormStats", () -> Normalization.batchNormStats(x, stats, stats));
            calls.put("permute", () -> Layout.permute(x, 0, 1, 2, 3, 4));
            calls.put("transpose", () -> Elementwise.transpose(x));
            calls.put("biasActivation", () -> Fused.biasActivation(UnaryOp.RELU, x, bias, x));
            calls.put("block", () -> x.block(0, 0, 1, 1));
            calls.put("linear", () -> Ops.linear(v, Variable.constant(w4.reshape(2, 1)), null));
            calls.put("cross_entropy", () -> SoftmaxCrossEntropy.builder().build().compute(v, labels));
            for (Map.Entry<String, Executable> call : calls.entrySet()) {
                RuntimeException e = assertThrows(RuntimeException.class, call.getValue(), call.getKey());
                assertTrue(e instanceof ShapeMismatchException || e instanceof IllegalArgumentException,
                        call.getKey() + ": " + e);
                assertTrue(e.getMessage().contains(call.getKey()) || call.getKey().equals("block"), e.getMessage());
                assertTrue(e.getMessage().contains("[1, 2, 1, 2, 3]"), call.getKey() + ": " + e.getMessage());
            }
            assertEquals(0, x.version(), "no refused op wrote anything");
        }
    }

    @Test
    void opsOnTheMatrixViewWorkAtRankFive() {
        // PyTorch: torch.softmax(torch.tensor([0., 1, 2]), -1) = [0.0900306, 0.2447285, 0.6652410], the same for
        // every last-dimension row of a rank-5 tensor; x + [3] broadcasts along the last dimension.
        try (ReferenceBackend be = new ReferenceBackend(); Scope s = Scope.open()) {
            float[] rows = new float[12];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = i % 3;
            }
            Tensor x = Tensor.of(be, rows, 1, 2, 1, 2, 3);
            float[] p = Softmax.softmax(x).toFloatArray();
            for (int r = 0; r < 4; r++) {
                assertArrayEquals(new float[] {0.0900306f, 0.2447285f, 0.6652410f},
                        java.util.Arrays.copyOfRange(p, 3 * r, 3 * r + 3), 1e-6f, "row " + r);
            }
            Tensor sum = Elementwise.add(x, Tensor.of(be, new float[] {10, 20, 30}, 3));
            assertEquals(x.shape(), sum.shape());
            assertEquals(32, sum.toFloatArray()[11], "x[0, 1, 0, 1, 2] + 30");
            assertArrayEquals(new float[] {3, 3, 3, 3}, Reductions.sumPerRow(x).toFloatArray());
            assertEquals(12, Reductions.sum(x).item());
        }
    }
}
