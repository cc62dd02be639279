package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.Probe;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The provider, options, capabilities, buffer accounting, lifecycle and concurrent use of the cpu backend. */
class CpuBackendTest {
    @Test
    void registeredAsAServiceAndProbedAvailable() {
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("cpu")).findFirst().orElseThrow();
        Probe probe = p.probe();
        assertTrue(probe.available(), probe.reason());
        assertEquals(Probe.RANK_HOST, probe.rank());
        assertEquals(1, probe.devices().size());
        assertEquals(DeviceType.CPU, probe.devices().get(0).type());
        Map<String, String> d = probe.devices().get(0).details();
        assertEquals(Integer.toString(Runtime.getRuntime().availableProcessors()), d.get("cores"));
        assertTrue(d.get("vector").startsWith(CpuVectorApi.modulePresent() ? "on (" : "off ("), d.toString());
        assertFalse(probe.devices().get(0).name().isBlank());
    }

    @Test
    void vectorPathStateIsReported() {
        try (CpuBackend off = CpuTesting.backend(false, 1)) {
            assertFalse(off.vectorEnabled());
            assertEquals("off (disabled by backprop.cpu.vector=false)", off.capabilities().details().get("vector"));
            assertEquals("scalar", off.capabilities().details().get("elementwise"));
            assertTrue(off.capabilities().details().get("gemm").startsWith("f32 scalar 4x4"));
            assertEquals("1", off.capabilities().details().get("threads"));
        }
        assumeTrue(CpuVectorApi.modulePresent(), "jdk.incubator.vector is not resolved in this test JVM");
        try (CpuBackend on = CpuTesting.backend(true, 2)) {
            assertTrue(on.vectorEnabled());
            String v = on.capabilities().details().get("vector");
            assertTrue(v.matches("on \\(S_\\d+_BIT: \\d+ float / \\d+ double lanes\\)"), v);
            assertTrue(on.capabilities().details().get("gemm").startsWith("f32 FloatVector 6x"));
            assertEquals("2", on.capabilities().details().get("threads"));
            assertTrue(on.capabilities().float64() && on.capabilities().threadSafe());
        }
    }

    @Test
    void systemPropertiesAreReadAndExplicitOptionsWin() {
        System.setProperty("backprop.cpu.vector", "false");
        System.setProperty("backprop.cpu.threads", "3");
        try (Backend b = new CpuBackendProvider().create(BackendOptions.defaults());
             Backend c = new CpuBackendProvider().create(BackendOptions.of(Map.of("threads", "1")))) {
            assertTrue(b.capabilities().details().get("vector").startsWith("off (disabled"));
            assertEquals("3", b.capabilities().details().get("threads"));
            assertEquals("1", c.capabilities().details().get("threads"));
            assertTrue(new CpuBackendProvider().probe().devices().get(0).details().get("vector").startsWith("off"));
        } finally {
            System.clearProperty("backprop.cpu.vector");
            System.clearProperty("backprop.cpu.threads");
        }
    }

    @Test
    void malformedOptionsAreRejectedWithTheirName() {
        CpuBackendProvider p = new CpuBackendProvider();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> p.create(BackendOptions.of(Map.of("threads", "many"))));
        assertTrue(e.getMessage().contains("backprop.cpu.threads"), e.getMessage());
        e = assertThrows(BackendUnavailableException.class, () -> p.create(BackendOptions.of(Map.of("threads", "0"))));
        assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
        // Four threads per processor at most, and 64 on any machine: 100000 would start that many threads.
        int processors = Runtime.getRuntime().availableProcessors();
        long most = Math.max(64, 4L * processors);
        e = assertThrows(BackendUnavailableException.class,
                () -> p.create(BackendOptions.of(Map.of("threads", "100000"))));
        assertTrue(e.getMessage().contains("backprop.cpu.threads must be at most " + most + " (the larger of 64 and "
                + "4 per available processor, " + processors + " here), got 100000"), e.getMessage());
        try (Backend atMost = p.create(BackendOptions.of(Map.of("threads", Long.toString(most))))) {
            assertEquals(Long.toString(most), atMost.capabilities().details().get("threads"));
        }
        e = assertThrows(BackendUnavailableException.class,
                () -> p.create(BackendOptions.of(Map.of("threads", Long.toString(most + 1)))));
        assertTrue(e.getMessage().contains("at most " + most), e.getMessage());
        // the same check for a caller that names the count its own way, before it creates a backend
        IllegalArgumentException named = assertThrows(IllegalArgumentException.class,
                () -> CpuBackend.checkThreads("--threads", 100000));
        assertEquals("--threads must be at most " + most + " (the larger of 64 and 4 per available processor, "
                + processors + " here), got 100000", named.getMessage());
        assertEquals(3, CpuBackend.checkThreads("--threads", 3));
        e = assertThrows(BackendUnavailableException.class, () -> p.create(BackendOptions.of(Map.of("vector", "yes"))));
        assertTrue(e.getMessage().contains("backprop.cpu.vector"), e.getMessage());
        e = assertThrows(BackendUnavailableException.class,
                () -> p.create(BackendOptions.of(Map.of("gemm.kc", "-4"))));
        assertTrue(e.getMessage().contains("gemm"), e.getMessage());
    }

    @Test
    void aMachineThatShowsFewProcessorsStillTakes64Threads() {
        // a container or taskset showing 1 or 2 processors (a 2-core CI machine) is not held to 4 or 8 threads
        assertEquals(64, CpuThreads.mostFor(1));
        assertEquals(64, CpuThreads.mostFor(2));
        assertEquals(64, CpuThreads.mostFor(16));
        assertEquals(68, CpuThreads.mostFor(17));
        assertEquals(4L * 512, CpuThreads.mostFor(512));
    }

    @Test
    void accountingReleaseAndClose() {
        CpuBackend b = CpuTesting.backend(true, 2);
        Buffer f = b.allocate(DType.FLOAT32, 1000), d = b.allocate(DType.FLOAT64, 10), i = b.allocate(DType.INT32, 3);
        MemoryStats s = b.memoryStats();
        assertEquals(3, s.liveBuffers());
        assertEquals(4000 + 80 + 12, s.liveBytes());
        assertTrue(s.platformBytes() > 0 && s.platformSource().contains("heap"), s.toString());
        b.release(d);
        b.release(d);
        assertTrue(d.isReleased());
        assertEquals(2, b.memoryStats().liveBuffers());
        assertEquals(4012, b.memoryStats().liveBytes());
        b.close();
        assertTrue(f.isReleased() && i.isReleased());
        b.release(f);
        b.close();
        assertThrows(IllegalStateException.class, () -> b.allocate(DType.FLOAT32, 1));
        assertThrows(IllegalStateException.class, () -> b.fill(f, 0, 1, 0));
        assertThrows(IllegalStateException.class, b::memoryStats);
    }

    @Test
    void impossibleAllocationsAreOutOfMemoryAndChangeNothing() {
        try (CpuBackend b = CpuTesting.backend(false, 1)) {
            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                    () -> b.allocate(DType.FLOAT32, 3_000_000_000L));
            assertTrue(e.getMessage().contains("int-indexed"), e.getMessage());
            long max = Runtime.getRuntime().maxMemory();
            assumeTrue(max < 16L * Integer.MAX_VALUE, "the heap could hold 2^31 doubles here");
            e = assertThrows(DeviceOutOfMemoryException.class, () -> b.allocate(DType.FLOAT64, Integer.MAX_VALUE - 8));
            assertTrue(e.getMessage().contains("-Xmx"), e.getMessage());
            assertEquals(0, b.memoryStats().liveBuffers());
            Buffer ok = b.allocate(DType.FLOAT32, 10);
            b.fill(ok, 0, 10, 2.5);
            float[] back = new float[10];
            b.download(ok, 0, back, 0, 10);
            assertEquals(2.5f, back[9]);
        }
    }

    @Test
    void platformFigureSeesTheHeapTheBuffersHold() {
        try (CpuBackend b = CpuTesting.backend(false, 1)) {
            System.gc();
            long before = b.memoryStats().platformBytes();
            Buffer big = b.allocate(DType.FLOAT64, 16 << 20);
            System.gc();
            long held = b.memoryStats().platformBytes();
            b.release(big);
            b.trimPool(); // a released block is kept for reuse (up to the pool's cap) until the pool is trimmed
            System.gc();
            long after = b.memoryStats().platformBytes();
            assertTrue(held - before > 100 << 20, "128 MiB buffer: before " + before + ", held " + held);
            assertTrue(held - after > 100 << 20, "released: held " + held + ", after " + after);
        }
    }

    /**
     * Backends created and dropped without {@code close()} do not keep their worker threads: each one's pool has
     * 3 workers started by a GEMM, and the skeleton's cleaner stops them once the backend is unreachable. Without
     * it, 30 such backends leave 90 threads running for the life of the process.
     */
    @Test
    void unclosedBackendsDoNotKeepTheirThreads() throws InterruptedException {
        int backends = 30;
        long before = cpuWorkers();
        for (int i = 0; i < backends; i++) {
            abandonWithBusyWorkers();
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
        long added;
        do {
            System.gc();
            Thread.sleep(50);
            added = cpuWorkers() - before;
        } while (added > 6 && System.nanoTime() < deadline);
        assertTrue(added <= 6, backends + " unclosed 4-thread backends left " + added + " more workers running");
    }

    /** A 4-thread backend whose 3 workers have started, unreachable once this returns. */
    private static void abandonWithBusyWorkers() {
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        CpuBackend b = CpuTesting.backend(false, 4);
        int n = 256;
        Buffer x = b.allocate(DType.FLOAT32, (long) n * n), y = b.allocate(DType.FLOAT32, (long) n * n);
        b.fill(x, 0, (long) n * n, 1);
        b.gemm(false, false, n, n, n, 1, x, 0, n, x, 0, n, 0, y, 0, n, 1, 0, 0, 0);
        assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> !before.contains(t)
                && t.getName().startsWith("backprop-cpu-")), "the GEMM started the backend's workers");
    }

    /** Live threads of cpu backends' pools. */
    private static long cpuWorkers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("backprop-cpu-") && t.isAlive()).count();
    }

    /** Four application threads share one 2-thread backend; each must get exactly its single-threaded result. */
    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        try (CpuBackend b = CpuTesting.backend(true, 2)) {
            int m = 70, n = 90, k = 110;
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                Future<?>[] done = new Future<?>[8];
                for (int t = 0; t < done.length; t++) {
                    long seed = t;
                    done[t] = callers.submit(() -> {
                        float[] expected = product(b, seed, m, n, k);
                        for (int rep = 0; rep < 20; rep++) {
                            assertArrayEquals(expected, product(b, seed, m, n, k), "caller " + seed + " rep " + rep);
                        }
                        return null;
                    });
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                callers.shutdown();
            }
            assertEquals(0, b.memoryStats().liveBuffers());
        }
    }

    /** softmax(A·B) for seeded A, B, through fresh buffers. */
    private static float[] product(CpuBackend b, long seed, int m, int n, int k) {
        Buffer a = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(seed, m * k, -1, 1, DType.FLOAT32));
        Buffer bb = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(seed + 50, k * n, -1, 1, DType.FLOAT32));
        Buffer c = b.allocate(DType.FLOAT32, (long) m * n);
        b.gemm(false, true, m, n, k, 1, a, 0, k, bb, 0, k, 0, c, 0, n, 1, 0, 0, 0);
        b.softmaxRows(false, m, n, c, 0, c, 0);
        float[] out = new float[m * n];
        b.download(c, 0, out, 0, out.length);
        b.release(a);
        b.release(bb);
        b.release(c);
        return out;
    }
}
