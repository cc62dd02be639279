package dev.backprop.cpu;

import dev.backprop.backend.BackendOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scalar-path log line is for a JVM that lacks the Vector API module (see {@link NoVectorModuleTest}); a
 * backend on the Vector API, or one told to run scalar ({@code vector=false}), logs nothing about it.
 */
class CpuVectorApiTest {
    @Test
    void logsNothingWhenTheVectorApiRunsOrIsTurnedOffOnPurpose() {
        assertTrue(CpuVectorApi.modulePresent(), "the test JVMs run with --add-modules jdk.incubator.vector");
        Logger log = Logger.getLogger(CpuBackend.class.getName());
        List<String> messages = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                messages.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try (CpuBackend on = new CpuBackend(BackendOptions.defaults());
             CpuBackend off = new CpuBackend(BackendOptions.of(Map.of("vector", "false")))) {
            assertTrue(on.vectorEnabled());
            assertFalse(off.vectorEnabled());
        } finally {
            log.removeHandler(capture);
        }
        assertEquals(List.of(), messages);
    }
}
