package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.contract.network.NetworkContractTest;

/** The shared network-layer contract on {@code cuda}; skipped with the probe's reason without a usable GPU. */
class CudaNetworkContractTest extends NetworkContractTest {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.createOrSkip();
    }
}
