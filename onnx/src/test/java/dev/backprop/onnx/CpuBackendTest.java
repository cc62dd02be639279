package dev.backprop.onnx;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.runtime.Backends;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A test class whose tests share one cpu backend, opened before them and closed after. */
abstract class CpuBackendTest {
    static Backend cpu;

    @BeforeAll
    static void openBackend() {
        cpu = Backends.create("cpu", BackendOptions.defaults());
    }

    @AfterAll
    static void closeBackend() {
        cpu.close();
    }
}
