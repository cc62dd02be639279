package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.contract.network.NetworkContractTest;

import java.util.Map;

/**
 * The shared network-layer contract (worked examples, gradient checks, optimizers, model files, training) on
 * {@code cpu} with the Vector API kernels.
 */
class CpuNetworkContractTest extends NetworkContractTest {
    @Override
    protected Backend createBackend() {
        return new CpuBackendProvider().create(BackendOptions.of(Map.of("vector", "true")));
    }
}
