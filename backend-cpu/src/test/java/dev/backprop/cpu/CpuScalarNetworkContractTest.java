package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.contract.network.NetworkContractTest;

import java.util.Map;

/** The shared network-layer contract on {@code cpu} with the scalar kernels ({@code backprop.cpu.vector=false}). */
class CpuScalarNetworkContractTest extends NetworkContractTest {
    @Override
    protected Backend createBackend() {
        return new CpuBackendProvider().create(BackendOptions.of(Map.of("vector", "false")));
    }
}
