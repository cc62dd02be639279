package dev.backprop.cuda;

import dev.backprop.backend.BackendOptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The {@code precision} option: names, the default, the older {@code tf32} flag, and clear errors. */
class CudaPrecisionTest {
    private static CudaPrecision of(Map<String, String> values) {
        return CudaPrecision.of(BackendOptions.of(values));
    }

    @Test
    void fp32UnlessAskedOtherwise() {
        assertEquals(CudaPrecision.FP32, of(Map.of()));
        assertEquals(CudaPrecision.TF32, of(Map.of("precision", "TF32")));
        assertEquals(CudaPrecision.BF16, of(Map.of("precision", " bf16 ")));
        assertEquals(CudaPrecision.TF32, of(Map.of("tf32", "true")), "the older flag");
        assertEquals(CudaPrecision.TF32, of(Map.of("tf32", "true", "precision", "tf32")));
        assertEquals("bf16", CudaPrecision.BF16.key());
    }

    @Test
    void anUnknownNameOrAContradictionIsRefused() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> of(Map.of("precision", "fp16")));
        assertEquals("backprop.cuda.precision must be fp32, tf32 or bf16, got 'fp16'", bad.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> of(Map.of("tf32", "true", "precision", "bf16")));
        assertEquals("backprop.cuda.tf32=true contradicts backprop.cuda.precision=bf16; set one of them",
                both.getMessage());
    }
}
