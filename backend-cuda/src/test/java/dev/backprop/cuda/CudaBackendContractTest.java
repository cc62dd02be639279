package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.contract.BackendContractTest;

/**
 * The shared backend contract on {@code cuda}. Without a usable GPU every case is skipped with the probe's
 * reason (CudaProbeTest checks that reason on machines without a GPU).
 */
class CudaBackendContractTest extends BackendContractTest {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.createOrSkip();
    }
}
