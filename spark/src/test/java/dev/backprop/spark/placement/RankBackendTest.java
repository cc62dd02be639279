package dev.backprop.spark.placement;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.Probe;
import dev.backprop.runtime.Backends;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rank's backend comes from core's selection, with Spark's GPU as the device option and its CPUs as the cpu
 * threads; the spark module adds no names or fallback rules of its own.
 */
class RankBackendTest {
    /** A GPU provider that records the options it was created with and hands out a cpu backend. */
    private static final class FakeGpu implements BackendProvider {
        final List<Map<String, String>> created = new ArrayList<>();
        final boolean available;

        FakeGpu(boolean available) {
            this.available = available;
        }

        @Override
        public String name() {
            return "fakegpu";
        }

        @Override
        public Probe probe() {
            return available ? Probe.available("a test GPU", List.of(new DeviceInfo("test GPU", DeviceType.GPU,
                    1L << 30, Map.of())), Probe.RANK_GPU) : Probe.unavailable("no test GPU here");
        }

        @Override
        public Backend create(BackendOptions options) {
            created.add(Map.of("device", options.get(name(), "device").orElse("-"),
                    "threads", options.get(name(), "threads").orElse("-")));
            return Backends.get("cpu", BackendOptions.of(Map.of("threads", "1")));
        }
    }

    /**
     * A GPU provider whose device is there but does not open the first {@code failures} times (held by another
     * process, as a GPU in exclusive process mode is while a lost executor's process releases it).
     */
    private static final class BusyGpu implements BackendProvider {
        final int failures;
        int tries;

        BusyGpu(int failures) {
            this.failures = failures;
        }

        @Override
        public String name() {
            return "busygpu";
        }

        @Override
        public Probe probe() {
            return Probe.available("a test GPU", List.of(new DeviceInfo("test GPU", DeviceType.GPU, 1L << 30,
                    Map.of())), Probe.RANK_GPU);
        }

        @Override
        public Backend create(BackendOptions options) {
            if (++tries <= failures) {
                throw new BackendUnavailableException("busygpu failed to start on test GPU: all CUDA-capable devices "
                        + "are busy or unavailable (try " + tries + ")");
            }
            return Backends.get("cpu", BackendOptions.of(Map.of("threads", "1")));
        }
    }

    /** The wait before the retry, short for the tests. */
    private static final Duration WAIT = Duration.ofMillis(20);

    private static Backends.Registry registry(BackendProvider gpu) {
        List<BackendProvider> all = new ArrayList<>(Backends.providers());
        all.add(gpu);
        return Backends.withProviders(all);
    }

    @Test
    void aBackendThatFailsToOpenOnceOpensOnTheRetry() {
        BusyGpu gpu = new BusyGpu(1);
        RankBackend.Opened o = RankBackend.open(registry(gpu), "busygpu", List.of("0"), 1, null, WAIT);
        o.backend().close();
        assertEquals(2, gpu.tries);
        assertEquals("busygpu requested; Spark assigned GPU 0 to this task (device 0); cpu threads 1 "
                + "(spark.task.cpus=1); cpu chosen on a retry after 20 ms (the first try: busygpu failed to start on "
                + "test GPU: all CUDA-capable devices are busy or unavailable (try 1))", o.reason());
    }

    @Test
    void aBackendThatFailsTwiceIsRetriedOnceAndRefusedWithBothReasons() {
        for (String requested : new String[] {"busygpu", "auto"}) {
            BusyGpu gpu = new BusyGpu(2);
            System.setProperty("backprop.fallback", "fail");
            BackendUnavailableException e;
            try {
                e = assertThrows(BackendUnavailableException.class,
                        () -> RankBackend.open(registry(gpu), requested, List.of("0"), 1, null, WAIT));
            } finally {
                System.clearProperty("backprop.fallback");
            }
            assertEquals(2, gpu.tries, requested + ": one retry, no more");
            assertTrue(e.getMessage().startsWith(requested + " requested; Spark assigned GPU 0 to this task (device "
                    + "0); cpu threads 1 (spark.task.cpus=1), but: "), e.getMessage());
            assertTrue(e.getMessage().contains("busygpu failed to start on test GPU: all CUDA-capable devices are busy "
                    + "or unavailable (try 2)"), e.getMessage());
            assertTrue(e.getMessage().contains("on a retry after 20 ms; the first try: busygpu failed to start on "
                    + "test GPU: all CUDA-capable devices are busy or unavailable (try 1)"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    @Test
    void aNameNoBackendHasIsRefusedWithoutARetry() {
        BusyGpu gpu = new BusyGpu(0);
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> RankBackend.open(registry(gpu), "nonsense", List.of(), 1, null, WAIT));
        assertTrue(e.getMessage().startsWith("nonsense requested; no GPU assigned to this task by Spark; cpu threads 1 "
                + "(spark.task.cpus=1), but: unknown backend 'nonsense'; known backends: "), e.getMessage());
        assertFalse(e.getMessage().contains("retry"), e.getMessage());
        assertEquals(0, gpu.tries);
    }

    @Test
    void autoSelectsThroughCoreWithTheAssignedGpuAsTheDevice() {
        FakeGpu gpu = new FakeGpu(true);
        RankBackend.Opened o = RankBackend.open(registry(gpu), "auto", List.of("3", "4"), 2, null);
        o.backend().close();
        assertEquals(List.of(Map.of("device", "3", "threads", "2")), gpu.created, "the GPU ranks first");
        assertEquals("auto requested; Spark assigned GPU 3 to this task (device 3); cpu threads 2 (spark.task.cpus=2); "
                + "cpu chosen", o.reason());
        RankBackend.Opened none = RankBackend.open(registry(gpu), null, List.of(), 4, 7);
        none.backend().close();
        assertEquals(Map.of("device", "-", "threads", "7"), gpu.created.get(1), "no GPU assigned: no device option");
        assertTrue(none.reason().startsWith("auto requested; no GPU assigned to this task by Spark; cpu threads 7 "
                + "(--threads)"), none.reason());
    }

    @Test
    void aNamedBackendRunsWithTheTaskCpusAndIsNeverReplaced() {
        FakeGpu gpu = new FakeGpu(false);
        RankBackend.Opened cpu = RankBackend.open(registry(gpu), "cpu", List.of("0"), 3, null);
        try (Backend b = cpu.backend()) {
            assertEquals("cpu", b.name());
            assertEquals(3, cpu.threads());
            assertTrue(b.device().describe().contains("threads=3"), b.device().describe());
        }
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> RankBackend.open(registry(gpu), "fakegpu", List.of("0"), 1, null, WAIT));
        assertEquals("fakegpu requested; Spark assigned GPU 0 to this task (device 0); cpu threads 1 "
                + "(spark.task.cpus=1), but: backend 'fakegpu' is unavailable: no test GPU here", e.getMessage(),
                "a probe that finds no device finds none on a retry: refused at once");
        assertTrue(gpu.created.isEmpty());
    }

    @Test
    void autoFollowsCoresFallbackPolicy() {
        FakeGpu gpu = new FakeGpu(false);
        RankBackend.Opened o = RankBackend.open(registry(gpu), "auto", List.of("0"), 1, null);
        o.backend().close();
        assertTrue(o.reason().endsWith("; cpu chosen"), o.reason());
        System.setProperty("backprop.fallback", "fail");
        try {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                    () -> RankBackend.open(registry(gpu), "auto", List.of("0"), 1, null, WAIT));
            assertTrue(e.getMessage().contains("backprop.fallback=fail"), e.getMessage());
            assertFalse(e.getMessage().contains("retry"), "an unavailable probe is not retried: " + e.getMessage());
        } finally {
            System.clearProperty("backprop.fallback");
        }
        assertFalse(gpu.available);
    }

    @Test
    void aGpuAddressThatIsNotADeviceIndexIsRejectedClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RankBackend.open(registry(new FakeGpu(true)), "auto", List.of("GPU-5f3a"), 1, null));
        assertTrue(e.getMessage().contains("'GPU-5f3a', which is not a device index"), e.getMessage());
    }
}
