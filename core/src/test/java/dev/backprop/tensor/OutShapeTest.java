package dev.backprop.tensor;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every op that writes into a caller's {@code out} refuses one of the right size but other dimensions, before
 * anything is written. PyTorch: {@code torch.add(torch.zeros(2, 3, 4), torch.zeros(4), out=torch.zeros(6, 4))}
 * resizes {@code out} to [2, 3, 4] with "UserWarning: An output with one or more elements was resized since it had
 * shape [6, 4], which does not match the required output shape [2, 3, 4]. This behavior is deprecated"; a tensor
 * here cannot be resized, so it is refused with both shapes named. Dimensions of 1 do not matter: {@code [1, 2, 3,
 * 4]} holds a [2, 3, 4] result in the same layout.
 */
class OutShapeTest {
    private final ReferenceBackend be = new ReferenceBackend();

    private void refused(String message, Tensor out, Executable call) {
        long live = be.memoryStats().liveBuffers();
        float[] before = out.toFloatArray();
        long version = out.version();
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class, call);
        assertEquals(message, e.getMessage());
        assertEquals(version, out.version(), "nothing written");
        assertArrayEquals(before, out.toFloatArray());
        assertEquals(live, be.memoryStats().liveBuffers(), "nothing allocated and left behind");
    }

    private Tensor filled(int... dims) {
        Tensor t = Tensor.zeros(be, DType.FLOAT32, dims);
        Elementwise.fill(t, 7);
        return t;
    }

    @Test
    void binaryRefusesOtherLeadingDimensions() {
        try (be; Scope s = Scope.open()) {
            Tensor a = filled(2, 3, 4), b = filled(4);
            for (int[] dims : new int[][] {{6, 4}, {3, 2, 4}, {2, 12}}) {
                Tensor out = filled(dims);
                refused("binary ADD: out is " + out.shape() + ", expected [2, 3, 4] for [2, 3, 4] ADD [4]", out,
                        () -> Elementwise.binary(BinaryOp.ADD, a, b, out));
            }
            Tensor ones = filled(1, 2, 3, 4);
            Elementwise.binary(BinaryOp.ADD, a, b, ones);
            assertEquals(14f, ones.toFloatArray()[23], "[1, 2, 3, 4] is the same layout");
        }
    }

    @Test
    void elementwiseMapsRefuseOtherDimensions() {
        try (be; Scope s = Scope.open()) {
            Tensor x = filled(2, 3, 4), g = filled(2, 3, 4), out = filled(6, 4);
            String tail = " is [6, 4], expected [2, 3, 4] for input [2, 3, 4]";
            refused("unary RELU: out" + tail, out, () -> Elementwise.unary(UnaryOp.RELU, 0, 0, x, out));
            refused("unaryBackward RELU: dx" + tail, out,
                    () -> Elementwise.unaryBackward(UnaryOp.RELU, 0, 0, x, g, out));
            refused("unaryBackward RELU: g" + tail, g,
                    () -> Elementwise.unaryBackward(UnaryOp.RELU, 0, 0, x, out, g));
            refused("axpby: y" + tail, out, () -> Elementwise.axpby(1, x, 1, out));
            refused("dropout: y" + tail, out, () -> Regularization.dropout(x, 0.5, 1, 0, out));
            refused("softmax: shapes differ: [2, 3, 4] and [6, 4]", out, () -> Softmax.softmaxRows(false, x, out));
        }
    }

    @Test
    void reductionsRefuseOtherDimensions() {
        // PyTorch: x.sum(-1) of a [2, 3, 4] is [2, 3] (keepdim=True: [2, 3, 1]); x.sum() is []; summing the rows of
        // a [3, 4] matrix, x.sum(0), is [4].
        try (be; Scope s = Scope.open()) {
            Tensor x = filled(2, 3, 4), m = filled(3, 4);
            Tensor perRow = filled(3, 2), perColumn = filled(2, 2), all = filled(1, 1);
            refused("reduce SUM PER_ROW: out is [3, 2], expected [6] or [2, 3] for input [2, 3, 4]", perRow,
                    () -> Reductions.reduce(ReduceOp.SUM, ReduceAxis.PER_ROW, x, perRow));
            refused("reduce SUM PER_COLUMN: out is [2, 2], expected [4] for input [3, 4]", perColumn,
                    () -> Reductions.reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, m, perColumn));
            refused("reduce SUM ALL: out is [3, 2], expected [] for input [3, 4]", perRow,
                    () -> Reductions.reduce(ReduceOp.SUM, ReduceAxis.ALL, m, perRow));
            Tensor indices = Tensor.zeros(be, DType.INT32, 3, 2);
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> Reductions.argmaxRows(x, indices));
            assertEquals("argmaxRows: out is [3, 2], expected [6] or [2, 3] for input [2, 3, 4]", e.getMessage());
            Tensor column = filled(2, 2);
            refused("reduce MAX PER_ROW: out is [2, 2], expected [3] for input [3, 4]", column,
                    () -> Reductions.reduce(ReduceOp.MAX, ReduceAxis.PER_ROW, m, column));
            for (int[] dims : new int[][] {{6}, {2, 3}, {2, 3, 1}, {1, 6}}) {
                Tensor out = filled(dims);
                Reductions.reduce(ReduceOp.SUM, ReduceAxis.PER_ROW, x, out);
                assertEquals(28f, out.toFloatArray()[5], out.shape() + " holds one sum per row");
            }
            Reductions.reduce(ReduceOp.SUM, ReduceAxis.ALL, m, all);
            assertEquals(84f, all.toFloatArray()[0]);
            Tensor row = filled(1, 4);
            Reductions.reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, m, row);
            assertEquals(21f, row.toFloatArray()[3]);
        }
    }
}
