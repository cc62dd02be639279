package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.contract.BackendContractTest;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The shared backend contract on {@code cpu} with the scalar kernels ({@code backprop.cpu.vector=false}). */
class CpuScalarBackendContractTest extends BackendContractTest {
    @Override
    protected Backend createBackend() {
        return new CpuBackendProvider().create(BackendOptions.of(Map.of("vector", "false")));
    }

    @Test
    void runsTheScalarKernels() {
        assertFalse(((CpuBackend) backend()).vectorEnabled());
        assertEquals("off (disabled by backprop.cpu.vector=false)", backend().capabilities().details().get("vector"));
    }
}
