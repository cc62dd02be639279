package dev.backprop.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShapeTest {

    @Test
    void anyOrderRowMajor() {
        Shape images = Shape.of(32, 28, 28, 3);
        assertEquals(4, images.rank());
        assertEquals(32L * 28 * 28 * 3, images.size());
        assertEquals(32 * 28 * 28, images.rows(), "rows: all but the last dimension");
        assertEquals(3, images.cols(), "cols: the last dimension");
        assertEquals(28, images.dim(1));
        assertEquals(3, images.dim(-1));
        assertEquals(32, images.dim(-4));
    }

    @Test
    void scalarsAndVectors() {
        Shape scalar = Shape.of();
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.size());
        assertEquals(1, scalar.rows());
        assertEquals(1, scalar.cols());
        assertEquals("[]", scalar.toString());
        Shape vector = Shape.of(7);
        assertEquals(1, vector.rows());
        assertEquals(7, vector.cols());
    }

    @Test
    void zeroDimensions() {
        assertEquals(0, Shape.of(3, 0).size());
        assertEquals(3, Shape.of(3, 0).rows(), "rows of [3, 0] (no division by the zero last dimension)");
        assertEquals(0, Shape.of(3, 0).cols());
        assertEquals(0, Shape.of(0, 5).rows());
        assertEquals(6, Shape.of(2, 3, 0).rows());
    }

    @Test
    void dimsAreCopied() {
        int[] d = {2, 3};
        Shape s = Shape.of(d);
        d[0] = 99;
        assertEquals(2, s.dim(0), "the shape copies its input");
        s.dims()[1] = 99;
        assertEquals(3, s.dim(1), "dims() returns a copy");
        assertArrayEquals(new int[] {2, 3}, s.dims());
    }

    @Test
    void badDimensions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(3, -1));
        assertTrue(e.getMessage().contains("-1") && e.getMessage().contains("axis 1"), e.getMessage());
        // PyTorch: torch.empty(2**62, 4) raises "Storage size calculation overflowed with sizes=[...]".
        ArithmeticException size = assertThrows(ArithmeticException.class, () -> Shape.of(1 << 30, 1 << 30, 1 << 30));
        assertEquals("shape [1073741824, 1073741824, 1073741824] has more than 2^63-1 elements", size.getMessage());
        ArithmeticException rows = assertThrows(ArithmeticException.class, () -> Shape.of(1 << 16, 1 << 16, 0).rows());
        assertEquals("shape [65536, 65536, 0] has more than 2^31-1 rows when viewed as a matrix", rows.getMessage());
        assertEquals(Integer.MAX_VALUE, Shape.of(Integer.MAX_VALUE, 0).rows());
        assertEquals(0, Shape.of(1 << 16, 1 << 16, 0, 5).rows());
        IllegalArgumentException axis = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 3).dim(2));
        assertTrue(axis.getMessage().contains("[2, 3]"), axis.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 3).dim(-3));
    }

    @Test
    void valueSemantics() {
        assertEquals(Shape.of(128, 784), Shape.of(128, 784));
        assertEquals(Shape.of(128, 784).hashCode(), Shape.of(128, 784).hashCode());
        assertNotEquals(Shape.of(784, 128), Shape.of(128, 784));
        assertNotEquals(Shape.of(6), Shape.of(2, 3), "same size, different shape");
        assertEquals("[128, 784]", Shape.of(128, 784).toString(), "the form error messages use");
    }
}
