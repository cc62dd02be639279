package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
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
        return createOrSkip(BackendOptions.defaults());
    }

    /** A cuda backend with {@code options}; skips the calling test (class) when none can run here. */
    static Backend createOrSkip(BackendOptions options) {
        CudaBackendProvider provider = new CudaBackendProvider();
        Probe probe = provider.probe();
        if (Boolean.getBoolean(REQUIRE_GPU)) {
            Assertions.assertTrue(probe.available(), () -> REQUIRE_GPU + "=true but cuda is unavailable: "
                    + probe.reason());
        }
        Assumptions.assumeTrue(probe.available(), () -> "cuda backend unavailable here: " + probe.reason());
        return provider.create(options);
    }

    /** A new float32 buffer of {@code backend} holding {@code values}. */
    static Buffer upload(Backend backend, float[] values) {
        Buffer b = backend.allocate(DType.FLOAT32, values.length);
        backend.upload(values, 0, b, 0, values.length);
        return b;
    }

    /** The whole float32 buffer. */
    static float[] download(Backend backend, Buffer b) {
        float[] v = new float[(int) b.size()];
        backend.download(b, 0, v, 0, v.length);
        return v;
    }
}
