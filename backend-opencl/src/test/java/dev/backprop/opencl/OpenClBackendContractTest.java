package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.contract.BackendContractTest;

/**
 * The shared backend contract on the {@code opencl} backend (PoCL in CI). Fails instead of skipping in CI
 * when OpenCL is unavailable (see {@link OpenClTestSupport}).
 */
class OpenClBackendContractTest extends BackendContractTest {
    @Override
    protected Backend createBackend() {
        return OpenClTestSupport.create();
    }
}
