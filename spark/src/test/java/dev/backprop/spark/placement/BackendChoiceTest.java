package dev.backprop.spark.placement;

import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.runtime.FallbackPolicy;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendChoiceTest {
    @Test
    void autoTakesTheAssignedGpuWithCudaElseCpuWithTheTaskCpus() {
        BackendChoice gpu = BackendChoice.decide("auto", List.of("3", "4"), 2, null);
        assertEquals("cuda", gpu.backend());
        assertEquals(Map.of("device", "3"), gpu.options());
        assertEquals("auto: Spark assigned GPU 3 to this task, so cuda on device 3", gpu.reason());
        BackendChoice cpu = BackendChoice.decide("auto", List.of(), 4, null);
        assertEquals("cpu", cpu.backend());
        assertEquals(4, cpu.threads());
        assertEquals("auto: no GPU assigned to this task by Spark, so cpu with 4 thread(s) (spark.task.cpus=4)",
                cpu.reason());
    }

    @Test
    void explicitNamesAreKeptAndThreadsCanBeOverridden() {
        assertEquals("cpu", BackendChoice.decide("cpu", List.of("0"), 2, null).backend());
        BackendChoice t = BackendChoice.decide("CPU", List.of(), 2, 7);
        assertEquals(7, t.threads());
        assertTrue(t.reason().contains("7 thread(s) (--threads)"), t.reason());
        BackendChoice cl = BackendChoice.decide("opencl", List.of("1"), 1, null);
        assertEquals(Map.of("device", "1"), cl.options());
        BackendChoice cuda = BackendChoice.decide("cuda", List.of(), 1, null);
        assertEquals(Map.of(), cuda.options());
        assertTrue(cuda.reason().contains("no GPU assigned by Spark"), cuda.reason());
    }

    @Test
    void badRequestsAreRejectedClearly() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BackendChoice.decide("tpu", List.of(), 1, null))
                .getMessage().contains("choose auto, cpu, cuda or opencl"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> BackendChoice.decide("auto", List.of("GPU-5f3a"), 1, null)).getMessage()
                .contains("'GPU-5f3a', which is not a device index"));
    }

    @Test
    void autoFallsBackToCpuWhenCudaCannotStartUnlessFallbackIsFail() {
        // No cuda module on this class path, so opening cuda fails the way a machine without CUDA would.
        BackendChoice auto = BackendChoice.decide("auto", List.of("0"), 1, null);
        BackendChoice.Opened opened = auto.open(FallbackPolicy.ALLOW, 2);
        try (var b = opened.backend()) {
            assertEquals("cpu", b.name());
            assertTrue(opened.choice().reason().startsWith("auto: Spark assigned GPU 0 to this task, so cuda on "
                    + "device 0, but unknown backend 'cuda'"), opened.choice().reason());
            assertTrue(opened.choice().reason().endsWith("fell back to cpu with 2 thread(s)"));
        }
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> auto.open(FallbackPolicy.FAIL, 2));
        assertTrue(e.getMessage().endsWith("(backprop.fallback=fail)"), e.getMessage());
        assertThrows(BackendUnavailableException.class,
                () -> BackendChoice.decide("cuda", List.of("0"), 1, null).open(FallbackPolicy.ALLOW, 1),
                "an explicit name is never replaced");
    }
}
