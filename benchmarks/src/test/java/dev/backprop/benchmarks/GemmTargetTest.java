package dev.backprop.benchmarks;

import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The two sides of the GEMM benchmark compute the same product: OpenBLAS through JavaCPP (row-major, leading
 * dimensions and transposes as {@link GemmShape} says) against the float64 reference backend through the SPI.
 * A wrong stride or transpose flag in either harness would make a ratio compare different work.
 */
class GemmTargetTest {
    @ParameterizedTest
    @ValueSource(strings = {"17x33x9", "17x33x9:TN", "17x33x9:NT", "17x33x9:TT", "64", "128x784x10"})
    void openBlasAndTheReferenceAgree(String text) {
        GemmShape shape = GemmShape.parse(text);
        float[] blas;
        float[] ref;
        try (OpenBlasGemm g = new OpenBlasGemm(shape, 1, 5)) {
            g.run();
            blas = g.result();
        }
        try (BackendGemm g = new BackendGemm(new ReferenceBackend(), true, shape, 5)) {
            g.run();
            ref = g.result();
        }
        assertEquals(ref.length, blas.length);
        for (int i = 0; i < ref.length; i++) {
            // Each element sums k products of values in [-1, 1): float32 rounding stays far below 1e-5·k.
            assertEquals(ref[i], blas[i], 1e-5 * shape.k(), text + " element " + i);
        }
    }
}
