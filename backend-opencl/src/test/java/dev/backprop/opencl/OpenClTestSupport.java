package dev.backprop.opencl;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Probe;
import org.junit.jupiter.api.Assumptions;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * How the OpenCL tests get a backend. Where the probe says OpenCL is unavailable, a test fails with the probe's
 * reason when the environment variable {@code CI} is {@code true} (CI installs PoCL, so OpenCL tests must never
 * skip there) and is skipped with that reason elsewhere.
 */
final class OpenClTestSupport {
    private OpenClTestSupport() {
    }

    /** Fails (CI) or skips (elsewhere) unless the probe reports OpenCL available. */
    static Probe requireOpenCl() {
        Probe probe = new OpenClBackendProvider().probe();
        if (!probe.available()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("OpenCL tests must run in CI, but the opencl probe says: " + probe.reason());
            }
            Assumptions.assumeTrue(false, "OpenCL unavailable here: " + probe.reason());
        }
        return probe;
    }

    /** A backend with default options (after {@link #requireOpenCl()}). */
    static OpenClBackend create() {
        return create(Map.of());
    }

    /** A backend with explicit options such as {@code gemm=tiled}. */
    static OpenClBackend create(Map<String, String> options) {
        requireOpenCl();
        return (OpenClBackend) new OpenClBackendProvider().create(BackendOptions.of(options));
    }
}
