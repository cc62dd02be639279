package dev.backprop.tensor;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The result shape of {@link Elementwise#binary} is PyTorch's broadcast shape, rank included, for every pair the
 * SPI can broadcast, and the values are those of broadcasting by index.
 */
class BroadcastShapeTest {
    /**
     * {a, b, PyTorch's result}, from torch 1.13: {@code list(torch.broadcast_shapes(torch.Size(a), torch.Size(b)))}
     * printed for each pair.
     */
    private static final int[][][] TABLE = {
        {{5, 3}, {3}, {5, 3}},
        {{5, 3}, {1, 3}, {5, 3}},
        {{5, 3}, {1, 1, 3}, {1, 5, 3}},
        {{5, 3}, {}, {5, 3}},
        {{5, 3}, {1}, {5, 3}},
        {{5, 3}, {1, 1}, {5, 3}},
        {{5, 3}, {1, 1, 1}, {1, 5, 3}},
        {{3}, {5, 3}, {5, 3}},
        {{1, 1, 3}, {5, 3}, {1, 5, 3}},
        {{1, 1, 1}, {5, 3}, {1, 5, 3}},
        {{}, {5, 3}, {5, 3}},
        {{2, 5, 3}, {3}, {2, 5, 3}},
        {{2, 5, 3}, {1, 1, 1, 3}, {1, 2, 5, 3}},
        {{2, 5, 3}, {1, 1, 1, 1}, {1, 2, 5, 3}},
        {{2, 5, 3}, {2, 5, 1}, {2, 5, 3}},
        {{2, 5, 1}, {1, 1, 1, 3}, {1, 2, 5, 3}},
        {{5, 1}, {3}, {5, 3}},
        {{5, 1}, {1, 1, 3}, {1, 5, 3}},
        {{5, 1}, {1, 1, 1}, {1, 5, 1}},
        {{3}, {1, 1, 1}, {1, 1, 3}},
        {{1, 3}, {1, 1}, {1, 3}},
        {{1}, {}, {1}},
        {{}, {1}, {1}},
        {{1, 5, 3}, {5, 3}, {1, 5, 3}},
        {{5, 3}, {1, 5, 3}, {1, 5, 3}},
        {{5, 3}, {1, 5, 1}, {1, 5, 3}},
        {{0, 3}, {1, 3}, {0, 3}},
        {{0, 3}, {1, 1, 1}, {1, 0, 3}},
        {{5, 0}, {1}, {5, 0}},
    };

    @Test
    void resultShapesAreTorchs() {
        for (int[][] row : TABLE) {
            Shape a = Shape.of(row[0]), b = Shape.of(row[1]);
            assertEquals(Shape.of(row[2]), Elementwise.resultShape("add", a, b), a + " with " + b);
        }
    }

    @Test
    void valuesAreBroadcastByIndex() {
        try (ReferenceBackend be = new ReferenceBackend()) {
            for (int[][] row : TABLE) {
                Shape sa = Shape.of(row[0]), sb = Shape.of(row[1]), sr = Shape.of(row[2]);
                try (Scope s = Scope.open()) {
                    Tensor a = Tensor.of(be, seq(sa.size(), 1), row[0]);
                    Tensor b = Tensor.of(be, seq(sb.size(), 100), row[1]);
                    Tensor sum = Elementwise.add(a, b);
                    assertEquals(sr, sum.shape(), sa + " + " + sb);
                    assertArrayEquals(byIndex(sa, sb, sr), sum.toFloatArray(), sa + " + " + sb);
                }
            }
        }
    }

    @Test
    void gradientsKeepTheOperandsShapes() {
        // PyTorch: a = torch.ones(2, 3, requires_grad=True); b = torch.ones(1, 1, 3, requires_grad=True); ab = a * b;
        // (ab + ab).sum().backward() gives ab of [1, 2, 3], a.grad = 2s of [2, 3], b.grad = [[[4., 4., 4.]]].
        try (ReferenceBackend be = new ReferenceBackend(); Scope s = Scope.open();
             Variable a = Variable.parameter(Tensor.of(be, new float[] {1, 1, 1, 1, 1, 1}, 2, 3));
             Variable b = Variable.parameter(Tensor.of(be, new float[] {1, 1, 1}, 1, 1, 3))) {
            try (Tape tape = Tape.open()) {
                Variable ab = Ops.mul(a, b);
                assertEquals(Shape.of(1, 2, 3), ab.value().shape());
                Ops.sum(Ops.add(ab, ab)).backward();
            }
            assertEquals(Shape.of(2, 3), a.grad().shape());
            assertArrayEquals(new float[] {2, 2, 2, 2, 2, 2}, a.grad().toFloatArray());
            assertEquals(Shape.of(1, 1, 3), b.grad().shape());
            assertArrayEquals(new float[] {4, 4, 4}, b.grad().toFloatArray());
        }
    }

    private static float[] seq(long n, int from) {
        float[] v = new float[(int) n];
        for (int i = 0; i < n; i++) {
            v[i] = from + i;
        }
        return v;
    }

    /** a + b by PyTorch's rule: each result index maps to index 0 along an operand's dimensions of 1. */
    private static float[] byIndex(Shape sa, Shape sb, Shape sr) {
        float[] a = seq(sa.size(), 1), b = seq(sb.size(), 100), r = new float[(int) sr.size()];
        int n = sr.rank();
        for (int flat = 0; flat < r.length; flat++) {
            int[] idx = new int[n];
            for (int d = n - 1, rest = flat; d >= 0; d--) {
                idx[d] = rest % sr.dim(d);
                rest /= sr.dim(d);
            }
            r[flat] = a[offset(sa, idx)] + b[offset(sb, idx)];
        }
        return r;
    }

    private static int offset(Shape s, int[] resultIndex) {
        int off = 0;
        for (int d = 0; d < s.rank(); d++) {
            int i = resultIndex[resultIndex.length - s.rank() + d];
            off = off * s.dim(d) + (s.dim(d) == 1 ? 0 : i);
        }
        return off;
    }
}
