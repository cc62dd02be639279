package dev.backprop.backend.base;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The skeleton's promises, on a minimal module ({@link TestBackend}): one lock serializes every call, a closed
 * backend refuses calls but takes late releases, calls that write nothing never reach a family, transfers are
 * checked against their buffer, close frees buffers before resources, and an unreachable backend that was never
 * closed is closed by the cleaner with a warning.
 */
class BaseBackendTest {
    @Test
    void callsFromSeveralThreadsAreSerialized() throws Exception {
        TestBackend.Probe probe = new TestBackend.Probe();
        try (TestBackend be = new TestBackend(probe)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    double start = t * 1000;
                    done.add(pool.submit(() -> {
                        Buffer x = be.allocate(DType.FLOAT64, 64);
                        double[] v = new double[64];
                        java.util.Arrays.fill(v, start);
                        be.upload(v, 0, x, 0, 64);
                        for (int i = 0; i < 200; i++) {
                            be.unary(UnaryOp.IDENTITY, 0, 0, x, 0, x, 0, 64);
                        }
                        be.download(x, 0, v, 0, 64);
                        be.release(x);
                        for (double d : v) {
                            assertEquals(start + 200, d, "each thread's own result");
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(2, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(1, probe.mostInside.get(), "never two threads inside the families at once");
            assertEquals(0, be.memoryStats().liveBuffers());
        }
    }

    @Test
    void aReleaseFromAnotherThreadWaitsForTheCallInProgress() throws Exception {
        TestBackend.Probe probe = new TestBackend.Probe();
        try (TestBackend be = new TestBackend(probe)) {
            Buffer x = be.allocate(DType.FLOAT64, 8);
            Buffer other = be.allocate(DType.FLOAT64, 8);
            probe.holdUnary = new CountDownLatch(1);
            probe.unaryEntered = new CountDownLatch(1);
            Thread caller = new Thread(() -> be.unary(UnaryOp.IDENTITY, 0, 0, x, 0, x, 0, 8));
            caller.start();
            assertTrue(probe.unaryEntered.await(1, TimeUnit.MINUTES), "the op started");
            Thread releaser = new Thread(() -> be.release(other));
            releaser.start();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (releaser.getState() != Thread.State.WAITING && releaser.isAlive() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(Thread.State.WAITING, releaser.getState(), "the release waits for the backend's lock");
            assertFalse(other.isReleased(), "not released while the op runs");
            probe.holdUnary.countDown();
            caller.join();
            releaser.join();
            assertTrue(other.isReleased());
            be.release(x);
        }
    }

    @Test
    void aClosedBackendRefusesCallsButTakesLateReleases() {
        TestBackend.Probe probe = new TestBackend.Probe();
        TestBackend be = new TestBackend(probe);
        Buffer x = be.allocate(DType.FLOAT32, 10);
        Buffer empty = be.allocate(DType.INT32, 0);
        be.close();
        assertTrue(be.isClosed() && x.isReleased() && empty.isReleased(), "close releases every buffer");
        assertEquals(probe.allocated.get() - 1, probe.freed.get(), "every non-empty block went back");
        assertEquals(1, probe.closed.get(), "the owned resource was closed");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> be.fill(x, 0, 1, 0));
        assertTrue(e.getMessage().contains("test: the backend is closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> be.allocate(DType.FLOAT32, 1));
        assertThrows(IllegalStateException.class, be::memoryStats);
        assertThrows(IllegalStateException.class, () -> be.unary(UnaryOp.RELU, 0, 0, x, 0, x, 0, 0),
                "even a call with nothing to do");
        assertDoesNotThrow(() -> be.release(x), "a cleaner may release after close");
        be.close();
        assertEquals(1, probe.closed.get(), "close is idempotent");
    }

    @Test
    void callsThatWriteNothingNeverReachAFamily() {
        TestBackend.Probe probe = new TestBackend.Probe();
        try (TestBackend be = new TestBackend(probe)) {
            Buffer a = be.allocate(DType.FLOAT64, 4);
            Buffer none = be.allocate(DType.FLOAT64, 0);
            be.gemm(false, false, 0, 3, 2, 1, a, 0, 2, a, 0, 3, 0, a, 0, 3, 1, 0, 0, 0);
            be.gemm(false, false, 2, 2, 2, 1, a, 0, 2, a, 0, 2, 0, a, 0, 2, 0, 0, 0, 0);
            be.unaryBackward(UnaryOp.RELU, 0, 0, a, 0, a, 0, a, 0, 0);
            be.binary(dev.backprop.backend.BinaryOp.ADD, 0, 4, a, 0, dev.backprop.backend.Broadcast.FULL, a, 0,
                    dev.backprop.backend.Broadcast.FULL, a, 0);
            be.axpby(0, 1, a, 0, 1, a, 0);
            be.transpose(4, 0, a, 0, a, 0);
            be.gatherRows(0, 4, a, 0, 1, a, 0, a, 0);
            be.reduce(ReduceOp.SUM, ReduceAxis.PER_ROW, 0, 4, a, 0, a, 0);
            be.argmaxRows(0, 4, a, 0, a, 0);
            be.softmaxRows(false, 3, 0, a, 0, a, 0);
            be.softmaxCrossEntropy(0, 4, a, 0, a, 0, a, 0, a, 0);
            be.softmaxCrossEntropyBackward(2, 0, a, 0, a, 0, a, 0, a, 0);
            be.sgdUpdate(0, a, 0, a, 0, null, 0, 0.1, 0, 0, false);
            be.adamUpdate(0, a, 0, a, 0, a, 0, a, 0, 0.1, 0.9, 0.99, 1e-8, 0, false, 1);
            be.copy(a, 1, a, 1, 3);
            be.copy(a, 0, a, 2, 0);
            be.fill(none, 0, 0, 1);
            be.upload(new double[0], 0, none, 0, 0);
            be.download(none, 0, new double[0], 0, 0);
            assertEquals(0, probe.familyCalls.get(), "no family was called");
            assertThrows(AssertionError.class, () -> be.reduce(ReduceOp.SUM, ReduceAxis.ALL, 0, 0, a, 0, a, 0),
                    "a sum over nothing still writes its one result");
            be.release(a);
            be.release(none);
        }
    }

    @Test
    void transfersAreCheckedAgainstTheirBuffer() {
        try (TestBackend be = new TestBackend(new TestBackend.Probe())) {
            Buffer x = be.allocate(DType.FLOAT64, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> be.upload(new float[4], 0, x, 0, 4));
            assertTrue(e.getMessage().contains("FLOAT32 array range [0, 4)") && e.getMessage().contains("FLOAT64"),
                    e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> be.upload(new double[4], 0, x, 1, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> be.download(x, 0, new double[4], 2, 3),
                    "the host range is checked too");
            be.upload(HostArray.of(new double[] {9, 1, 2, 3}, 1, 3), x, 1);
            double[] back = new double[4];
            be.download(x, 1, back, 0, 3);
            assertArrayEquals(new double[] {1, 2, 3, 0}, back);
            assertThrows(IllegalArgumentException.class, () -> be.release(new TestBackend(new TestBackend.Probe())
                    .allocate(DType.FLOAT64, 1)), "a buffer of another backend");
        }
    }

    @Test
    void aBackendThatIsNeverClosedIsClosedByTheCleanerWithAWarning() throws InterruptedException {
        Logger log = Logger.getLogger(BaseBackend.class.getName());
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(handler);
        try {
            TestBackend.Probe probe = new TestBackend.Probe();
            abandon(probe);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while ((probe.closed.get() == 0 || records.isEmpty()) && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(1, probe.closed.get(), "the cleaner closed the unreachable backend");
            assertEquals(2, probe.freed.get(), "and gave its two blocks back");
            assertTrue(records.stream().anyMatch(r -> r.getLevel() == Level.WARNING
                    && r.getMessage().contains("a test backend was never closed")
                    && r.getMessage().contains("2 live buffers")), "a warning says so: " + records);
        } finally {
            log.removeHandler(handler);
        }
    }

    /** A backend with two live buffers, all unreachable once this returns. */
    private static void abandon(TestBackend.Probe probe) {
        TestBackend be = new TestBackend(probe);
        be.allocate(DType.FLOAT32, 100);
        be.allocate(DType.INT32, 5);
    }
}
