package dev.backprop.backend.base;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The skeleton's side of {@link dev.backprop.backend.Backend#runStep}: without a recorder the work just runs; with
 * one, the recorder gets the key and the pool blocks behind the buffers the step uses, the lock is held for the
 * whole step (another thread's call waits), transfers and waits are refused while it records, and only live buffers
 * of the backend can be named.
 */
class StepRecorderTest {
    /** Runs the work, recording (as far as the skeleton can tell) while {@link #records} says so. */
    private static final class Recorder implements OpFamilies.StepRecorder<double[]> {
        final List<Object> keys = new ArrayList<>();
        final List<List<MemoryPool.Block<double[]>>> uses = new ArrayList<>();
        boolean records;
        private boolean recording;

        @Override
        public boolean run(Object key, List<MemoryPool.Block<double[]>> blocks, Runnable work) {
            keys.add(key);
            uses.add(blocks);
            recording = records;
            try {
                work.run();
            } finally {
                recording = false;
            }
            return !records;
        }

        @Override
        public boolean recording() {
            return recording;
        }
    }

    @Test
    void withoutARecorderTheWorkRuns() {
        try (TestBackend be = new TestBackend(new TestBackend.Probe())) {
            int[] runs = {0};
            assertTrue(be.runStep("k", List.of(), () -> runs[0]++));
            assertEquals(1, runs[0]);
            assertFalse(be.replaysSteps());
        }
    }

    @Test
    void theRecorderGetsTheKeyAndTheBlocksBehindTheBuffers() {
        Recorder r = new Recorder();
        try (TestBackend be = new TestBackend(new TestBackend.Probe(), r)) {
            assertTrue(be.replaysSteps());
            Buffer a = be.allocate(DType.FLOAT64, 3), b = be.allocate(DType.FLOAT32, 5);
            assertTrue(be.runStep(List.of(7, a), List.of(a, b), () -> { }));
            assertEquals(List.of(List.of(7, a)), r.keys);
            assertSame(((TestBackend.TestBuffer) a).values(), r.uses.get(0).get(0).raw());
            assertSame(((TestBackend.TestBuffer) b).values(), r.uses.get(0).get(1).raw());
        }
    }

    @Test
    void transfersAndWaitsAreRefusedWhileRecordingAndReachNoFamily() {
        TestBackend.Probe probe = new TestBackend.Probe();
        Recorder r = new Recorder();
        r.records = true;
        try (TestBackend be = new TestBackend(probe, r)) {
            Buffer a = be.allocate(DType.FLOAT64, 2);
            int calls = probe.familyCalls.get();
            List<String> refused = new ArrayList<>();
            be.runStep("k", List.of(a), () -> {
                for (Runnable transfer : List.<Runnable>of(() -> be.upload(new double[] {1}, 0, a, 0, 1),
                        () -> be.download(a, 0, new double[1], 0, 1), be::synchronize)) {
                    refused.add(assertThrows(IllegalStateException.class, transfer::run).getMessage());
                }
                be.fill(a, 0, 2, 3.0); // device work is what a step is made of
            });
            assertEquals(List.of("test: an upload inside a recorded training step, which a replay would not repeat; "
                            + "do it before or after the step",
                    "test: a download inside a recorded training step, which a replay would not repeat; do it "
                            + "before or after the step",
                    "test: a wait for the device inside a recorded training step, which a replay would not repeat; "
                            + "do it before or after the step"), refused);
            assertEquals(calls + 1, probe.familyCalls.get(), "only the fill reached a family");
            double[] out = new double[2];
            be.download(a, 0, out, 0, 2);
            assertEquals(3.0, out[1], "transfers work again after the step");
        }
    }

    @Test
    void anotherThreadsCallWaitsForTheWholeStep() throws Exception {
        TestBackend.Probe probe = new TestBackend.Probe();
        try (TestBackend be = new TestBackend(probe, new Recorder())) {
            Buffer a = be.allocate(DType.FLOAT64, 1);
            be.fill(a, 0, 1, 0);
            AtomicReference<Thread> other = new AtomicReference<>();
            List<Double> seenInStep = new ArrayList<>();
            be.runStep("k", List.of(a), () -> {
                Thread t = new Thread(() -> be.fill(a, 0, 1, 5.0));
                other.set(t);
                t.start();
                while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TERMINATED) {
                    Thread.onSpinWait(); // until it is parked on the backend's lock (or, wrongly, done)
                }
                double[] v = new double[1];
                be.download(a, 0, v, 0, 1);
                seenInStep.add(v[0]);
                be.fill(a, 0, 1, 1.0);
            });
            other.get().join();
            double[] v = new double[1];
            be.download(a, 0, v, 0, 1);
            assertEquals(List.of(0.0), seenInStep, "the other thread's fill did not land inside the step");
            assertEquals(5.0, v[0], "it ran after the step");
        }
    }

    @Test
    void aStepNamesLiveBuffersOfItsBackendOnly() {
        try (TestBackend be = new TestBackend(new TestBackend.Probe(), new Recorder());
             TestBackend other = new TestBackend(new TestBackend.Probe(), new Recorder())) {
            Buffer theirs = other.allocate(DType.FLOAT64, 1), released = be.allocate(DType.FLOAT64, 1);
            be.release(released);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> be.runStep("k", List.of(theirs), () -> { }));
            assertTrue(e.getMessage().startsWith("test: a step uses a buffer of another backend"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> be.runStep("k", List.of(released), () -> { }));
            assertTrue(e.getMessage().startsWith("test: a step uses a released buffer"), e.getMessage());
            assertThrows(NullPointerException.class, () -> be.runStep(null, List.of(), () -> { }));
        }
    }
}
