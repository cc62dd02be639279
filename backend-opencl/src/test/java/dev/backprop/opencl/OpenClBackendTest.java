package dev.backprop.opencl;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * A test class's one OpenCL backend with default options ({@link OpenClTestSupport#create()}: it fails in CI, and
 * skips elsewhere, with the probe's reason where OpenCL is unavailable), made before its tests and closed after them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OpenClBackendTest {
    /** The backend under test. */
    protected OpenClBackend be;

    @BeforeAll
    void createBackend() {
        be = OpenClTestSupport.create();
    }

    @AfterAll
    void closeBackend() {
        if (be != null) {
            be.close();
        }
    }
}
