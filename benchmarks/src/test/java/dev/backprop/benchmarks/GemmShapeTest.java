package dev.backprop.benchmarks;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GemmShapeTest {
    @Test
    void squareAndRectangularShapes() {
        assertEquals(new GemmShape(512, 512, 512, false, false), GemmShape.parse("512"));
        GemmShape s = GemmShape.parse("784x128x256:TN");
        assertEquals(new GemmShape(784, 128, 256, true, false), s);
        assertEquals(784, s.lda(), "A stored k×m when transposed");
        assertEquals(256, s.ldb());
        assertEquals(2.0 * 784 * 128 * 256, s.flops());
        assertEquals(128, GemmShape.parse("128x128x256:nt").ldb(), "B stored n×k when transposed");
    }

    @Test
    void malformedShapesAreNamed() {
        for (String bad : new String[] {"", "12x3", "axbxc", "0", "4x4x4:XY", "-5"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmShape.parse(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'") || e.getMessage().contains("positive"),
                    e.getMessage());
        }
    }
}
