package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Probe;
import org.junit.jupiter.api.Assumptions;

/** Creates the backend for the GPU tests, or skips them with the probe's reason. */
final class CudaTestSupport {
    private CudaTestSupport() {
    }

    /** A cuda backend with default options; skips the calling test (class) when none can run here. */
    static Backend createOrSkip() {
        CudaBackendProvider provider = new CudaBackendProvider();
        Probe probe = provider.probe();
        Assumptions.assumeTrue(probe.available(), () -> "cuda backend unavailable here: " + probe.reason());
        return provider.create(BackendOptions.defaults());
    }
}
