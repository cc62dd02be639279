package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Probe;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Creates the backend for the GPU tests, or skips them with the probe's reason. On a GPU machine the
 * verification script sets {@code -Dbackprop.cuda.requireGpu=true}, which turns that skip into a failure, so a
 * broken installation cannot pass as "skipped".
 */
final class CudaTestSupport {
    /** System property that makes an unavailable backend fail the GPU tests instead of skipping them. */
    static final String REQUIRE_GPU = "backprop.cuda.requireGpu";

    private CudaTestSupport() {
    }

    /** A cuda backend with default options; skips the calling test (class) when none can run here. */
    static Backend createOrSkip() {
        CudaBackendProvider provider = new CudaBackendProvider();
        Probe probe = provider.probe();
        if (Boolean.getBoolean(REQUIRE_GPU)) {
            Assertions.assertTrue(probe.available(), () -> REQUIRE_GPU + "=true but cuda is unavailable: "
                    + probe.reason());
        }
        Assumptions.assumeTrue(probe.available(), () -> "cuda backend unavailable here: " + probe.reason());
        return provider.create(BackendOptions.defaults());
    }
}
