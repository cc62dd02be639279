package dev.backprop.examples;

import dev.backprop.runtime.Backends;
import dev.backprop.runtime.ProviderStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TensorExample} on every backend that can run here, and with automatic selection. */
class TensorExampleTest {
    @Test
    void computesTheSameOnEveryAvailableBackend() throws Exception {
        List<String> names = Backends.probeAll().stream().filter(s -> s.probe().available())
                .map(ProviderStatus::name).toList();
        assertTrue(names.contains("cpu"), names.toString());
        for (String name : names) {
            check(ExampleRun.run(TensorExample::main, name), name);
        }
        check(ExampleRun.run(TensorExample::main), "");
    }

    private static void check(String out, String backend) {
        assertTrue(out.startsWith(backend), out);
        assertTrue(out.contains("a·a     = [7.0, 10.0, 15.0, 22.0]"), out);
        assertTrue(out.contains("a·a + a = [8.0, 12.0, 18.0, 26.0]"), out);
        assertTrue(out.contains("row sums = [20.0, 44.0]"), out);
        assertFalse(out.contains("NaN"), out);
    }
}
