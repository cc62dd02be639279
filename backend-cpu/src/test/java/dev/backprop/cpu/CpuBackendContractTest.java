package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.contract.BackendContractTest;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared backend contract on {@code cpu} with the Vector API kernels (surefire resolves the module). */
class CpuBackendContractTest extends BackendContractTest {
    @Override
    protected Backend createBackend() {
        return new CpuBackendProvider().create(BackendOptions.of(Map.of("vector", "true")));
    }

    @Test
    void runsTheVectorKernels() {
        assertTrue(((CpuBackend) backend()).vectorEnabled(), "expected the Vector API path in this JVM: "
                + backend().capabilities().details());
    }
}
