package dev.backprop.runtime;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.Probe;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Selection by name and by rank, fallback policies and broken providers, over fake providers. */
class BackendsTest {
    private final List<LogRecord> logged = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger log = Logger.getLogger(Backends.class.getName());
    private final List<Backend> created = new ArrayList<>();

    @BeforeEach
    void capture() {
        // Captured here, not printed: the fallback warnings are expected.
        log.setUseParentHandlers(false);
        log.addHandler(handler);
        System.clearProperty("backprop.backend");
        System.clearProperty("backprop.fallback");
    }

    @AfterEach
    void release() {
        log.removeHandler(handler);
        log.setUseParentHandlers(true);
        System.clearProperty("backprop.backend");
        System.clearProperty("backprop.fallback");
        created.forEach(Backend::close);
    }

    /** A provider with a fixed probe; create() hands out reference backends and records them. */
    private class Fake implements BackendProvider {
        final String name;
        final Probe probe;
        final RuntimeException createFailure;
        int creations;
        int probes;

        Fake(String name, Probe probe, RuntimeException createFailure) {
            this.name = name;
            this.probe = probe;
            this.createFailure = createFailure;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Probe probe() {
            probes++;
            return probe;
        }

        @Override
        public Backend create(BackendOptions options) {
            creations++;
            if (createFailure != null) {
                throw createFailure;
            }
            Backend b = new ReferenceBackend();
            created.add(b);
            return b;
        }
    }

    private Fake available(String name, int rank) {
        return new Fake(name, Probe.available(name + " ok", List.of(), rank), null);
    }

    private Fake unavailable(String name, String reason) {
        return new Fake(name, Probe.unavailable(reason), null);
    }

    private final Fake gpu = available("cuda", Probe.RANK_GPU + 10);
    private final Fake cpu = available("cpu", Probe.RANK_HOST);
    private final Fake pocl = available("opencl", Probe.RANK_EMULATED);

    private Backends.Registry registry(BackendProvider... providers) {
        return Backends.withProviders(List.of(providers)).withEnvironment(k -> null);
    }

    @Test
    void rankingPrefersGpuThenHostThenEmulated() {
        Backends.Registry r = registry(pocl, cpu, gpu);
        Backends.Plan plan = r.plan();
        assertEquals(List.of("cuda", "cpu", "opencl"), plan.candidates().stream().map(ProviderStatus::name).toList());
        r.auto(BackendOptions.defaults(), FallbackPolicy.ALLOW);
        assertEquals(1, gpu.creations);
        assertEquals(0, cpu.creations + pocl.creations, "only the winner is created");
        assertEquals(List.of("cpu", "cuda", "opencl"), r.names(), "providers listed in name order");
    }

    @Test
    void choosingByNameProbesOnlyThatProvider() {
        Fake broken = new Fake("opencl", null, null) {
            @Override
            public Probe probe() {
                throw new AssertionError("a backend chosen by name must not probe the others");
            }
        };
        registry(gpu, cpu, broken).get("cpu", BackendOptions.defaults());
        assertEquals(1, cpu.probes);
        assertEquals(0, gpu.probes, "cuda was not asked");
        assertEquals(1, cpu.creations);
    }

    @Test
    void equalRanksBreakTiesByName() {
        Fake b = available("bravo", 200), a = available("alpha", 200);
        assertEquals("alpha", registry(b, a).plan().choice().name());
    }

    @Test
    void nameFromCodeWinsOverPropertyAndEnvironment() {
        System.setProperty("backprop.backend", "opencl");
        Backends.Registry r = registry(gpu, cpu, pocl)
                .withEnvironment(k -> k.equals("BACKPROP_BACKEND") ? "cuda" : null);
        r.create("CPU", BackendOptions.defaults());
        assertEquals(1, cpu.creations, "code's name, case-insensitive");
        r.create(null, BackendOptions.defaults());
        assertEquals(1, pocl.creations, "then backprop.backend");
        System.clearProperty("backprop.backend");
        r.create("auto", BackendOptions.defaults());
        assertEquals(1, gpu.creations, "then BACKPROP_BACKEND");
        assertEquals("cuda", r.configuredName());
    }

    @Test
    void autoInConfigurationMeansAutomatic() {
        System.setProperty("backprop.backend", " Auto ");
        Backends.Registry r = registry(cpu, pocl).withEnvironment(k -> "opencl");
        assertNull(r.configuredName(), "'auto' in the property stops the lookup");
        r.create(null, BackendOptions.defaults());
        assertEquals(1, cpu.creations, "automatic selection picked the host backend");
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> registry(gpu, cpu, pocl).get("tpu", BackendOptions.defaults()));
        assertEquals("unknown backend 'tpu'; known backends: cpu, cuda, opencl", e.getMessage());
        BackendUnavailableException none = assertThrows(BackendUnavailableException.class,
                () -> registry().get("cpu", BackendOptions.defaults()));
        assertTrue(none.getMessage().contains("known backends: none")
                && none.getMessage().contains("backprop-backend-cpu"), none.getMessage());
        System.setProperty("backprop.backend", "tpu");
        assertThrows(BackendUnavailableException.class, () -> registry(cpu).create(null, BackendOptions.defaults()),
                "a configured unknown name fails too");
        assertEquals(0, cpu.creations, "a name is never silently replaced");
    }

    /** A name checked ahead (for other machines to open) is refused in get's words, and nothing is probed. */
    @Test
    void aNameCheckedAheadIsRefusedAsGetRefusesItWithoutProbing() {
        Fake cuda = unavailable("cuda", "no cuBLAS found");
        Backends.Registry r = registry(cuda, cpu, pocl);
        r.checkKnown("cuda");
        r.checkKnown("CPU");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> r.checkKnown("tpu"));
        assertEquals(assertThrows(BackendUnavailableException.class,
                () -> r.get("tpu", BackendOptions.defaults())).getMessage(), e.getMessage());
        assertEquals(0, cuda.probes + cpu.probes + pocl.probes, "nothing probed");
    }

    @Test
    void namedButUnavailableCarriesTheReason() {
        Fake cuda = unavailable("cuda", "no cuBLAS found (looked for libcublas.so.12)");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> registry(cuda, cpu).get("cuda", BackendOptions.defaults()));
        assertEquals("backend 'cuda' is unavailable: no cuBLAS found (looked for libcublas.so.12)", e.getMessage());
        assertEquals(0, cpu.creations + cuda.creations);
    }

    @Test
    void allowFallsBackAndLogsTheReasonAtInfo() {
        Fake cuda = unavailable("cuda", "no GPU");
        registry(cuda, cpu).auto(BackendOptions.defaults(), FallbackPolicy.ALLOW);
        assertEquals(1, cpu.creations);
        LogRecord r = selection();
        assertEquals(Level.INFO, r.getLevel());
        assertTrue(r.getMessage().contains("'cpu'") && r.getMessage().contains("cuda: no GPU"), r.getMessage());
    }

    @Test
    void warnFallsBackAndLogsAtWarning() {
        System.setProperty("backprop.fallback", "WARN");
        registry(unavailable("cuda", "no GPU"), cpu).auto(BackendOptions.defaults());
        assertEquals(1, cpu.creations);
        assertEquals(Level.WARNING, selection().getLevel());
    }

    @Test
    void warnWithNothingPassedOverLogsAtInfo() {
        registry(cpu).auto(BackendOptions.defaults(), FallbackPolicy.WARN);
        assertEquals(Level.INFO, selection().getLevel());
    }

    @Test
    void failRefusesToFallBack() {
        System.setProperty("backprop.fallback", "fail");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> registry(unavailable("cuda", "no GPU"), cpu).auto(BackendOptions.defaults()));
        assertTrue(e.getMessage().contains("backprop.fallback=fail") && e.getMessage().contains("cuda: no GPU"),
                e.getMessage());
        assertEquals(0, cpu.creations, "nothing created under fail");
        Fake broken = new Fake("cuda", Probe.available("gpu", List.of(), Probe.RANK_GPU),
                new BackendUnavailableException("context creation failed"));
        assertThrows(BackendUnavailableException.class, () -> registry(broken, cpu).auto(BackendOptions.defaults()));
        assertEquals(0, cpu.creations, "a failed creation is not replaced under fail");
    }

    @Test
    void allowMovesPastAFailedCreation() {
        Fake broken = new Fake("cuda", Probe.available("gpu", List.of(), Probe.RANK_GPU),
                new IllegalStateException("driver too old"));
        registry(broken, cpu).auto(BackendOptions.defaults(), FallbackPolicy.ALLOW);
        assertEquals(1, broken.creations);
        assertEquals(1, cpu.creations);
        assertTrue(selection().getMessage().contains("failed to start")
                && selection().getMessage().contains("driver too old"), selection().getMessage());
    }

    @Test
    void creationFailureByNameIsExplained() {
        Fake broken = new Fake("cuda", Probe.available("gpu", List.of(), Probe.RANK_GPU),
                new IllegalStateException("boom"));
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> registry(broken).get("cuda", BackendOptions.defaults()));
        assertTrue(e.getMessage().contains("'cuda' failed to start") && e.getMessage().contains("boom"),
                e.getMessage());
    }

    @Test
    void throwingOrSilentProbesCountAsUnavailable() {
        BackendProvider throwing = new Fake("opencl", null, null) {
            @Override
            public Probe probe() {
                throw new UnsatisfiedLinkError("no OpenCL in java.library.path");
            }
        };
        Fake silent = new Fake("cuda", null, null);
        Backends.Registry r = registry(throwing, silent, cpu);
        Map<String, Probe> probes = new java.util.HashMap<>();
        r.probeAll().forEach(s -> probes.put(s.name(), s.probe()));
        assertFalse(probes.get("opencl").available());
        assertTrue(probes.get("opencl").reason().contains("probe failed")
                && probes.get("opencl").reason().contains("OpenCL"), probes.get("opencl").reason());
        assertEquals("probe returned nothing", probes.get("cuda").reason());
        r.auto(BackendOptions.defaults(), FallbackPolicy.ALLOW);
        assertEquals(1, cpu.creations, "broken probes do not stop selection");
    }

    @Test
    void nothingAvailableSaysWhy() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> registry(unavailable("cuda", "no GPU"), unavailable("cpu", "no Vector API")).auto(
                        BackendOptions.defaults(), FallbackPolicy.ALLOW));
        assertTrue(e.getMessage().contains("cuda: no GPU") && e.getMessage().contains("cpu: no Vector API"),
                e.getMessage());
        BackendUnavailableException empty = assertThrows(BackendUnavailableException.class,
                () -> registry().auto(BackendOptions.defaults(), FallbackPolicy.ALLOW));
        assertTrue(empty.getMessage().contains("backprop-backend-cpu"), empty.getMessage());
    }

    @Test
    void fallbackPolicyFromProperty() {
        assertEquals(FallbackPolicy.ALLOW, FallbackPolicy.fromSystemProperty(), "allow by default");
        System.setProperty("backprop.fallback", " Fail ");
        assertEquals(FallbackPolicy.FAIL, FallbackPolicy.fromSystemProperty());
        System.setProperty("backprop.fallback", "sometimes");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, FallbackPolicy::fromSystemProperty);
        assertTrue(e.getMessage().contains("allow, warn or fail") && e.getMessage().contains("sometimes"),
                e.getMessage());
    }

    @Test
    void theReferenceBackendIsNotAServiceProvider() {
        assertFalse(Backends.names().contains("reference"), "the test-jar must not register the reference backend");
    }

    /** The last selection message logged. */
    private LogRecord selection() {
        for (int i = logged.size() - 1; i >= 0; i--) {
            if (logged.get(i).getMessage().contains("selected automatically")) {
                return logged.get(i);
            }
        }
        throw new AssertionError("no selection was logged: " + logged);
    }
}
