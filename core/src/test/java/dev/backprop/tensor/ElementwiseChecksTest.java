package dev.backprop.tensor;

import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The elementwise maps ({@code unary}, {@code axpby}, {@code dropout}) check their operands in one order, so
 * operands wrong in several ways get the same first message from each.
 */
class ElementwiseChecksTest {
    private static String message(Class<? extends RuntimeException> type, Executable call) {
        return assertThrows(type, call).getMessage();
    }

    @Test
    void dtypeComesBeforeContiguityAndSize() {
        try (ReferenceBackend be = new ReferenceBackend(); Tensor x = Tensor.zeros(be, DType.FLOAT32, 3, 4);
             Tensor y = Tensor.zeros(be, DType.FLOAT64, 5)) {
            Tensor view = x.block(0, 1, 3, 2);
            assertEquals("unary EXP: mixed dtypes FLOAT32 and FLOAT64 (tensor [5])", message(
                    DTypeMismatchException.class, () -> Elementwise.unary(UnaryOp.EXP, 0, 0, view, y)));
            assertEquals("axpby: mixed dtypes FLOAT32 and FLOAT64 (tensor [5])", message(
                    DTypeMismatchException.class, () -> Elementwise.axpby(1, view, 0, y)));
            assertEquals("dropout: mixed dtypes FLOAT32 and FLOAT64 (tensor [5])", message(
                    DTypeMismatchException.class, () -> Regularization.dropout(view, 0.5, 1, 0, y)));
        }
    }

    @Test
    void contiguityComesBeforeSizeAndSizeBeforeOverlap() {
        try (ReferenceBackend be = new ReferenceBackend(); Tensor x = Tensor.zeros(be, DType.FLOAT32, 3, 4);
             Tensor y = Tensor.zeros(be, DType.FLOAT32, 5)) {
            Tensor view = x.block(0, 1, 3, 2);
            String strided = ": needs a contiguous tensor; [3, 2] is a strided view (copy() it first)";
            assertEquals("unary EXP" + strided, message(ShapeMismatchException.class,
                    () -> Elementwise.unary(UnaryOp.EXP, 0, 0, view, y)));
            assertEquals("axpby" + strided, message(ShapeMismatchException.class,
                    () -> Elementwise.axpby(1, view, 0, y)));
            assertEquals("dropout" + strided, message(ShapeMismatchException.class,
                    () -> Regularization.dropout(view, 0.5, 1, 0, y)));
            Tensor overlapping = x.reshape(12).rows(2, 7);
            assertEquals("axpby: y is [5], expected [12] for input [12]", message(ShapeMismatchException.class,
                    () -> Elementwise.axpby(1, x.reshape(12), 0, overlapping)));
        }
    }

    @Test
    void int32FillRefusesValuesPastTheIntRange() {
        // PyTorch: torch.zeros(3, dtype=torch.int32).fill_(v) raises "value cannot be converted to type int without
        // overflow" for v = inf, nan, 3e9 and -3e9, and fills 2147483647.0 exactly.
        try (ReferenceBackend be = new ReferenceBackend(); Tensor t = Tensor.zeros(be, DType.INT32, 3)) {
            double[] bad = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 3e9, -3e9, 0.5};
            for (double v : bad) {
                assertEquals("fill: INT32 tensor [3] cannot hold " + v,
                        message(IllegalArgumentException.class, () -> Elementwise.fill(t, v)));
            }
            assertEquals(0, t.version(), "nothing written");
            Elementwise.fill(t, Integer.MAX_VALUE);
            Elementwise.fill(t.rows(0, 1), Integer.MIN_VALUE);
            assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, t.toIntArray());
        }
    }
}
