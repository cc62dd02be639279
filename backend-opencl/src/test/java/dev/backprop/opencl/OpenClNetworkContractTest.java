package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.contract.network.NetworkContractTest;

/**
 * The shared network-layer contract (autodiff, layers, losses, optimizers, model files, training) on the
 * {@code opencl} backend. Fails instead of skipping in CI when OpenCL is unavailable (see
 * {@link OpenClTestSupport}).
 */
class OpenClNetworkContractTest extends NetworkContractTest {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.create();
    }
}
