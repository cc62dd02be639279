package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Backend#runStep} on the cuda families without a GPU: {@link RecordingBackend} with graphs on (a recording
 * driver whose graph launch queues the captured work again) against the same backend with graphs off. The device
 * work of replayed steps equals the eager steps', launch for launch and address for address; a new batch shape is a
 * new graph, and memory stays flat over epochs; a step that uploads, waits or runs the multi-tensor update inside is
 * refused under capture and runs eagerly for good; the buffers a graph uses stay reserved after they are released.
 */
class CudaStepCaptureTest {
    private static final int MAX_BLOCKS = CudaLaunch.maxBlocks(4);
    private static final int IN = 784;
    private static final int HIDDEN = 64;
    private static final int OUT = 10;

    /** A 784-64-10 MLP's buffers on one backend, and its step as core issues it. */
    private static final class Mlp {
        final Backend on;
        final Buffer x;
        final Buffer labels;
        final Buffer w1;
        final Buffer b1;
        final Buffer w2;
        final Buffer b2;
        final Buffer[] grads;
        final Buffer loss;

        Mlp(Backend on, int rows) {
            this.on = on;
            x = on.allocate(DType.FLOAT32, (long) rows * IN);
            labels = on.allocate(DType.INT32, rows);
            w1 = on.allocate(DType.FLOAT32, (long) HIDDEN * IN);
            b1 = on.allocate(DType.FLOAT32, HIDDEN);
            w2 = on.allocate(DType.FLOAT32, (long) OUT * HIDDEN);
            b2 = on.allocate(DType.FLOAT32, OUT);
            grads = new Buffer[] {on.allocate(DType.FLOAT32, w1.size()), on.allocate(DType.FLOAT32, HIDDEN),
                    on.allocate(DType.FLOAT32, w2.size()), on.allocate(DType.FLOAT32, OUT)};
            loss = on.allocate(DType.FLOAT32, rows);
        }

        List<Buffer> uses() {
            List<Buffer> u = new ArrayList<>(List.of(x, labels, w1, b1, w2, b2, loss));
            u.addAll(List.of(grads));
            return u;
        }

        /** Forward, loss and backward with the step's temporaries from the pool, as a tape would hold them. */
        void work(int rows) {
            Buffer h = on.allocate(DType.FLOAT32, (long) rows * HIDDEN);
            Buffer z = on.allocate(DType.FLOAT32, (long) rows * OUT);
            Buffer probs = on.allocate(DType.FLOAT32, (long) rows * OUT);
            Buffer one = on.allocate(DType.FLOAT32, 1);
            on.gemm(false, true, rows, HIDDEN, IN, 1, x, 0, IN, w1, 0, IN, 0, h, 0, HIDDEN, 1, 0, 0, 0);
            on.biasActivation(UnaryOp.RELU, rows, HIDDEN, h, 0, b1, 0, h, 0);
            on.gemm(false, true, rows, OUT, HIDDEN, 1, h, 0, HIDDEN, w2, 0, HIDDEN, 0, z, 0, OUT, 1, 0, 0, 0);
            on.biasActivation(UnaryOp.IDENTITY, rows, OUT, z, 0, b2, 0, z, 0);
            on.softmaxCrossEntropy(rows, OUT, z, 0, labels, 0, loss, 0, probs, 0);
            on.fill(one, 0, 1, 1.0 / rows);
            on.softmaxCrossEntropyBackward(rows, OUT, probs, 0, labels, 0, one, 0, z, 0);
            on.biasActivationBackward(UnaryOp.IDENTITY, rows, OUT, z, 0, z, 0, z, 0, grads[3], 0);
            on.gemm(true, false, OUT, HIDDEN, rows, 1, z, 0, OUT, h, 0, HIDDEN, 0, grads[2], 0, HIDDEN, 1, 0, 0, 0);
            Buffer dh = on.allocate(DType.FLOAT32, (long) rows * HIDDEN);
            on.gemm(false, false, rows, HIDDEN, OUT, 1, z, 0, OUT, w2, 0, HIDDEN, 0, dh, 0, HIDDEN, 1, 0, 0, 0);
            on.biasActivationBackward(UnaryOp.RELU, rows, HIDDEN, h, 0, dh, 0, dh, 0, grads[1], 0);
            on.gemm(true, false, HIDDEN, IN, rows, 1, dh, 0, HIDDEN, x, 0, IN, 0, grads[0], 0, IN, 1, 0, 0, 0);
            for (Buffer t : List.of(dh, one, probs, z, h)) {
                on.release(t);
            }
        }

        /** One step: the work through runStep (keyed by the batch rows and the buffers), then the update. */
        boolean step(int rows) {
            boolean ran = on.runStep(List.of(rows, x, w1, w2), uses(), () -> work(rows));
            on.sgdUpdateAll(List.of(new Backend.SgdTensor(w1.size(), w1, 0, grads[0], 0, null, 0),
                    new Backend.SgdTensor(HIDDEN, b1, 0, grads[1], 0, null, 0),
                    new Backend.SgdTensor(w2.size(), w2, 0, grads[2], 0, null, 0),
                    new Backend.SgdTensor(OUT, b2, 0, grads[3], 0, null, 0)), 0.1, 0, 0, false);
            return ran;
        }
    }

    @Test
    void replayedStepsQueueTheEagerStepsWorkAddressForAddress() {
        try (RecordingBackend eager = new RecordingBackend(MAX_BLOCKS, true, false);
             RecordingBackend graphs = new RecordingBackend(MAX_BLOCKS, true, true)) {
            Mlp e = new Mlp(eager, 128), g = new Mlp(graphs, 128);
            List<Boolean> ran = new ArrayList<>();
            for (int s = 0; s < 5; s++) {
                assertTrue(e.step(128));
                ran.add(g.step(128));
            }
            assertFalse(eager.replaysSteps());
            assertTrue(graphs.replaysSteps());
            assertEquals(List.of(true, true, false, false, false), ran, "warm-up, capture, then replays");
            assertEquals(List.of("begin", "end", "launch", "launch", "launch", "launch"), graphs.driverCalls);
            assertEquals(eager.log, graphs.log, "the device work of 5 steps");
            assertEquals(1 + 5 * 13, eager.log.size(), "the table, then 12 ops and the update per step");
        }
    }

    @Test
    void theLastSmallerBatchGetsItsOwnGraphAndAThirdShapeEvictsTheOldest() {
        try (RecordingBackend graphs = new RecordingBackend(MAX_BLOCKS, true, true)) {
            Mlp g = new Mlp(graphs, 128);
            for (int rows : new int[] {128, 128, 128, 96, 96, 96, 128, 64, 64}) {
                g.step(rows);
            }
            CudaGraphs cache = graphs.stepRecorder();
            assertEquals(3, cache.captures());
            assertEquals(3, cache.replays(), "128 once, 96 once, 128 once more");
            assertEquals(2, cache.held());
            assertEquals(1, graphs.driverCalls.stream().filter("destroy"::equals).count(), "the 128 graph went");
        }
    }

    @Test
    void memoryIsFlatAcrossEpochsWithGraphs() {
        try (RecordingBackend graphs = new RecordingBackend(MAX_BLOCKS, true, true)) {
            Mlp g = new Mlp(graphs, 128);
            List<dev.backprop.backend.MemoryStats> afterEpoch = new ArrayList<>();
            for (int epoch = 0; epoch < 4; epoch++) {
                for (int rows : new int[] {128, 128, 128, 128, 96}) {
                    g.step(rows);
                }
                afterEpoch.add(graphs.memoryStats());
            }
            for (int e = 2; e < 4; e++) {
                assertEquals(afterEpoch.get(1).liveBuffers(), afterEpoch.get(e).liveBuffers(), "epoch " + (e + 1));
                assertEquals(afterEpoch.get(1).pooledBytes(), afterEpoch.get(e).pooledBytes(), "epoch " + (e + 1));
                assertEquals(afterEpoch.get(1).peakBytes(), afterEpoch.get(e).peakBytes(), "epoch " + (e + 1));
            }
            assertEquals(2, graphs.stepRecorder().captures(), "one graph per batch shape, kept");
        }
    }

    /** A step whose work does {@code inside} too: refused under capture, run eagerly every time, never captured. */
    private static void refusedInside(java.util.function.Consumer<Mlp> inside, String what) {
        try (RecordingBackend graphs = new RecordingBackend(MAX_BLOCKS, true, true)) {
            Mlp g = new Mlp(graphs, 32);
            for (int s = 0; s < 4; s++) {
                assertTrue(graphs.runStep(List.of(32), g.uses(), () -> {
                    g.work(32);
                    inside.accept(g);
                }), what + ": step " + s + " ran");
            }
            CudaGraphs cache = graphs.stepRecorder();
            assertEquals(0, cache.captures(), what);
            assertEquals(1, cache.refusals(), what + ": refused once, then never tried again");
            assertEquals(List.of("begin", "end", "destroy"), graphs.driverCalls, what);
            assertFalse(graphs.stepRecorder().recording());
        }
    }

    @Test
    void anUploadInsideTheStepIsRefusedUnderCaptureAndTheStepRunsEagerly() {
        refusedInside(g -> g.on.upload(new int[] {1, 2}, 0, g.labels, 0, 2), "an upload");
    }

    @Test
    void aWaitInsideTheStepIsRefusedUnderCapture() {
        refusedInside(g -> g.on.synchronize(), "a wait");
    }

    @Test
    void aMultiTensorUpdateInsideTheStepIsRefusedUnderCapture() {
        refusedInside(g -> g.on.sgdUpdateAll(List.of(new Backend.SgdTensor(OUT, g.b2, 0, g.grads[3], 0, null, 0)),
                0.1, 0, 0, false), "an update");
    }

    @Test
    void theRefusalNamesWhatWasRefused() {
        try (RecordingBackend graphs = new RecordingBackend(MAX_BLOCKS, true, true)) {
            Buffer a = graphs.allocate(DType.INT32, 2);
            List<String> messages = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                graphs.runStep(List.of(), List.of(a), () -> {
                    try {
                        graphs.upload(new int[] {1}, 0, a, 0, 1);
                    } catch (IllegalStateException refused) {
                        messages.add(refused.getMessage());
                        throw refused;
                    }
                });
            }
            assertEquals(List.of("cuda: an upload inside a recorded training step, which a replay would not repeat; "
                    + "do it before or after the step"), messages);
        }
    }

    @Test
    void aBufferAGraphUsesIsNotHandedOutAgainAfterItsRelease() {
        try (RecordingBackend graphs = new RecordingBackend(MAX_BLOCKS, true, true)) {
            Mlp g = new Mlp(graphs, 16);
            g.step(16);
            g.step(16);
            long address = LaunchRecorder.at((CudaBuffer) g.w2, 0);
            graphs.release(g.w2);
            Buffer next = graphs.allocate(DType.FLOAT32, g.grads[2].size());
            assertNotEquals(address, LaunchRecorder.at((CudaBuffer) next, 0), "w2's block is kept for the graph");
        }
    }

    @Test
    void usesMustBeLiveBuffersOfTheBackend() {
        try (RecordingBackend graphs = new RecordingBackend(MAX_BLOCKS, true, true);
             RecordingBackend other = new RecordingBackend(MAX_BLOCKS, true, true)) {
            Buffer theirs = other.allocate(DType.FLOAT32, 4), released = graphs.allocate(DType.FLOAT32, 4);
            graphs.release(released);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> graphs.runStep(List.of(), List.of(theirs), () -> { }));
            assertTrue(e.getMessage().contains("another backend"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> graphs.runStep(List.of(), List.of(released), () -> { }));
            assertTrue(e.getMessage().contains("released"), e.getMessage());
        }
    }

    @Test
    void withoutGraphsTheStepSimplyRuns() {
        try (RecordingBackend eager = new RecordingBackend(MAX_BLOCKS, true, false)) {
            Buffer a = eager.allocate(DType.INT32, 2);
            for (int s = 0; s < 3; s++) {
                assertTrue(eager.runStep(List.of(), List.of(), () -> eager.upload(new int[] {1}, 0, a, 0, 1)));
            }
            assertEquals(3, eager.log.size());
        }
    }
}
