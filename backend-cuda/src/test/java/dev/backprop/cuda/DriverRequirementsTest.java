package dev.backprop.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which drivers run the shipped PTX and each cuBLAS major, and which devices the PTX targets. */
class DriverRequirementsTest {
    @Test
    void versionsRoundTrip() {
        assertEquals(12040, DriverRequirements.parse("12.4"));
        assertEquals("13.0", DriverRequirements.format(13000));
        assertEquals("11.8", DriverRequirements.format(11080));
    }

    @Test
    void ptxIsaNeedsTheCudaReleaseThatIntroducedIt() {
        assertEquals(10000, DriverRequirements.driverForIsa("6.3"));
        assertEquals(11080, DriverRequirements.driverForIsa("7.8"));
        assertEquals(13000, DriverRequirements.driverForIsa("9.0"));
        assertThrows(IllegalArgumentException.class, () -> DriverRequirements.driverForIsa("5.0"));
        assertNull(DriverRequirements.ptxProblem(13000, "9.0"));
        String reason = DriverRequirements.ptxProblem(12040, "9.0");
        assertTrue(reason.contains("CUDA 12.4") && reason.contains("ISA 9.0") && reason.contains("CUDA 13.0"), reason);
    }

    @Test
    void theShippedPtxRunsOnEveryDriverCublas12Supports() {
        String isa = PtxModule.newestIsa();
        assertNull(DriverRequirements.ptxProblem(DriverRequirements.CUBLAS_12_DRIVER, isa),
                "PTX ISA " + isa + " must not need a newer driver than cuBLAS 12 does");
    }

    @Test
    void cublasMajorsNeedTheirDrivers() {
        assertNull(DriverRequirements.cublasProblem(12000, 12, "x"));
        assertNull(DriverRequirements.cublasProblem(13000, 13, "x"));
        String old13 = DriverRequirements.cublasProblem(12080, 13, "/lib/libcublas.so.13");
        assertTrue(old13.contains("cuBLAS 13") && old13.contains("R580"), old13);
        String old12 = DriverRequirements.cublasProblem(11080, 12, "/lib/libcublas.so.12");
        assertTrue(old12.contains("CUDA 12.0") && old12.contains("11.8"), old12);
    }

    @Test
    void devicesOlderThanTuringAreRejected() {
        assertNull(DriverRequirements.deviceProblem("H100", 9, 0));
        assertNull(DriverRequirements.deviceProblem("T4", 7, 5));
        String reason = DriverRequirements.deviceProblem("device 0 (Tesla V100)", 7, 0);
        assertTrue(reason.contains("7.0") && reason.contains("7.5"), reason);
    }
}
