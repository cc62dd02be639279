package dev.backprop.tensor;

import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Broadcasting of {@link Elementwise#binary}: operands viewed as matrices, refused where PyTorch refuses although
 * the matrix views would fit.
 */
class ElementwiseBroadcastTest {
    private static float[] seq(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    @Test
    void operandsSpanningTheRowsNeedTheResultsLeadingDimensions() {
        // PyTorch: torch.zeros(2, 3, 4) + torch.zeros(3, 2, 4) raises "The size of tensor a (3) must match the
        // size of tensor b (2) at non-singleton dimension 1"; so do [6, 4] and a column [6, 1] against [2, 3, 4].
        try (ReferenceBackend be = new ReferenceBackend(); Scope s = Scope.open()) {
            Tensor a = Tensor.of(be, seq(24), 2, 3, 4);
            String[] leading = {"[3, 2]", "[6]", "[6]", "[3, 2]"};
            int[][] shapes = {{3, 2, 4}, {6, 4}, {6, 1}, {3, 2, 1}};
            for (int k = 0; k < shapes.length; k++) {
                Tensor b = Tensor.zeros(be, DType.FLOAT32, shapes[k]);
                ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> Elementwise.add(a, b));
                assertEquals("binary ADD: cannot broadcast [2, 3, 4] with " + b.shape() + ": the dimensions before "
                        + "the last differ ([2, 3] and " + leading[k] + ", leading 1s aside), as PyTorch refuses; "
                        + "reshape one operand to the other's dimensions", e.getMessage());
                assertThrows(ShapeMismatchException.class, () -> Elementwise.add(b, a), "either order");
            }
            assertEquals(0, a.version(), "nothing was written");
        }
    }

    @Test
    void pytorchBroadcastsStillWork() {
        // PyTorch: [2, 3, 4] + [1, 2, 3, 4], [2, 3, 1], [4] and [1, 1, 4] broadcast; the values are a + b with b
        // repeated along the broadcast dimensions, e.g. (a + b)[1, 2, 3] = 23 + b[1, 2, 0] = 23 + 5 for [2, 3, 1].
        try (ReferenceBackend be = new ReferenceBackend(); Scope s = Scope.open()) {
            Tensor a = Tensor.of(be, seq(24), 2, 3, 4);
            Tensor same = Elementwise.add(a, Tensor.of(be, seq(24), 1, 2, 3, 4));
            assertEquals(Shape.of(1, 2, 3, 4), same.shape(), "the operand of higher rank gives the shape");
            assertEquals(46, same.toFloatArray()[23]);
            float[] col = Elementwise.add(a, Tensor.of(be, seq(6), 2, 3, 1)).toFloatArray();
            assertEquals(23 + 5, col[23]);
            assertEquals(4 + 1, col[4], "(a + b)[0, 1, 0] = 4 + b[0, 1, 0]");
            float[] row = Elementwise.add(Tensor.of(be, seq(4), 1, 1, 4), a).toFloatArray();
            assertArrayEquals(new float[] {20, 22, 24, 26}, java.util.Arrays.copyOfRange(row, 20, 24));
            assertEquals(Shape.of(2, 3, 4), Elementwise.add(a, Tensor.of(be, seq(4), 4)).shape());
        }
    }

    @Test
    void aColumnOfRankThreeAgainstARowKeepsItsDimensions() {
        // PyTorch: torch.arange(6.).reshape(2, 3, 1) + torch.arange(4.) is [2, 3, 4] with (a + b)[i, j, k] =
        // (3i + j) + k, e.g. [1, 2, 3] = 5 + 3 = 8; against a row [1, 1, 1, 4] it is [1, 2, 3, 4].
        try (ReferenceBackend be = new ReferenceBackend(); Scope s = Scope.open()) {
            Tensor col = Tensor.of(be, seq(6), 2, 3, 1);
            Tensor sum = Elementwise.add(col, Tensor.of(be, seq(4), 4));
            assertEquals(Shape.of(2, 3, 4), sum.shape());
            assertEquals(8, sum.toFloatArray()[23]);
            assertEquals(Shape.of(2, 3, 4), Elementwise.add(Tensor.of(be, seq(4), 1, 4), col).shape(), "either order");
            assertEquals(Shape.of(1, 2, 3, 4), Elementwise.add(col, Tensor.of(be, seq(4), 1, 1, 1, 4)).shape());
            assertEquals(Shape.of(3, 4), Elementwise.add(Tensor.of(be, seq(3), 3, 1), Tensor.of(be, seq(4), 4)).shape(),
                    "a matrix column against a row gives [R, C]");
        }
    }
}
