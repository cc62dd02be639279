package dev.backprop.nn;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The geometry arguments of Conv2d and Pool2d: each layer's own message, and the spec's names in order. */
class Geometry2dTest {
    @Test
    void eachLayerNamesItselfAndTheBadArgument() {
        IllegalArgumentException pool = assertThrows(IllegalArgumentException.class,
                () -> Pool2d.check(new int[] {2, 2}, new int[] {2}, new int[] {0, 0}));
        assertEquals("Pool2d: stride must be two values >= 1, got [2]", pool.getMessage());
        IllegalArgumentException conv = assertThrows(IllegalArgumentException.class,
                () -> Conv2d.check(1, 2, new int[] {3, 3}, new int[] {1, 1}, new int[] {-1, 0}, new int[] {1, 1}));
        assertEquals("Conv2d: padding must be two values >= 0, got [-1, 0]", conv.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Pool2d.check(null, new int[] {1, 1}, new int[] {0, 0}));
        assertEquals("Pool2d: kernel must be two values >= 1, got null", missing.getMessage());
    }

    @Test
    void specsSpellEachArgumentAsRowsThenColumns() {
        LayerSpec conv = Conv2d.options(1, 2, 3).kernel(3, 5).stride(1, 2).padding(0, 1).dilation(2, 1).spec();
        assertEquals(List.of("in", "out", "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w",
                "dilation_h", "dilation_w", "bias"), List.copyOf(conv.args().keySet()));
        assertEquals(List.of(1, 2, 3, 5, 1, 2, 0, 1, 2, 1, 1), List.copyOf(conv.args().values()));
        LayerSpec pool = Pool2d.spec(false, new int[] {2, 3}, new int[] {1, 2}, new int[] {1, 0}, false);
        assertEquals(List.of("kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w", "count_include_pad"),
                List.copyOf(pool.args().keySet()));
        assertEquals(List.of(2, 3, 1, 2, 1, 0, 0), List.copyOf(pool.args().values()));
    }
}
