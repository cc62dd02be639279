package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.MemoryPool;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The graph cache without a GPU: a recording driver stands in for stream capture. Checks when a step runs eagerly,
 * is captured or replayed, that a new key never replays an old graph, eviction, that a step failing under capture
 * runs eagerly and is never captured again, and that the blocks a graph refers to stay out of the pool until the
 * graph is destroyed.
 */
class CudaGraphsTest {
    /** Records the driver calls; a graph is the list of "kernels" queued while capturing. */
    private static final class RecordingDriver implements CudaGraphs.Driver {
        final List<String> calls = new ArrayList<>();
        final List<Object> destroyed = new ArrayList<>();
        List<String> capturing;

        @Override
        public void beginCapture() {
            calls.add("begin");
            capturing = new ArrayList<>();
        }

        @Override
        public Object endCapture() {
            calls.add("end");
            List<String> graph = capturing;
            capturing = null;
            return graph;
        }

        @Override
        public void launch(Object graph) {
            calls.add("launch " + graph);
        }

        @Override
        public void destroy(Object graph) {
            destroyed.add(graph);
        }

        /** The step's work: recorded into the graph under capture, else run ("eager"). */
        void kernel(String name) {
            if (capturing != null) {
                capturing.add(name);
            } else {
                calls.add("eager " + name);
            }
        }
    }

    private final RecordingDriver driver = new RecordingDriver();
    private final MemoryPool<CUdeviceptr> pool = new MemoryPool<>("cuda", new CudaMemory(new AddressedDevice()),
            Long.MAX_VALUE);
    private final CudaGraphs graphs = new CudaGraphs(driver, pool);

    private static List<Object> key(int batch, long... params) {
        List<Object> k = new ArrayList<>(List.of(batch, 784));
        for (long x : params) {
            k.add(x);
        }
        return k;
    }

    @Test
    void firstStepRunsEagerlySecondIsCapturedThenReplayed() {
        List<Object> k = key(128, 0x1000, 784 * 64);
        for (int i = 0; i < 4; i++) {
            graphs.run(k, List.of(), () -> driver.kernel("gemm"));
        }
        assertEquals(List.of("eager gemm", "begin", "end", "launch [gemm]", "launch [gemm]", "launch [gemm]"),
                driver.calls);
        assertEquals(1, graphs.captures());
        assertEquals(2, graphs.replays());
    }

    @Test
    void aReplacedParameterIsANewKeyAndNeverReplaysTheOldGraph() {
        List<Object> before = key(128, 0x1000), after = key(128, 0x2000);
        assertNotEquals(before, after);
        graphs.run(before, List.of(), () -> driver.kernel("old"));
        graphs.run(before, List.of(), () -> driver.kernel("old"));
        graphs.run(after, List.of(), () -> driver.kernel("new"));
        graphs.run(after, List.of(), () -> driver.kernel("new"));
        graphs.run(after, List.of(), () -> driver.kernel("new"));
        assertEquals(List.of("eager old", "begin", "end", "launch [old]", "eager new", "begin", "end",
                "launch [new]", "launch [new]"), driver.calls);
        assertEquals(2, graphs.held());
    }

    @Test
    void aThirdKeyEvictsTheOldestGraphAndUnpinsItsBlocks() {
        List<MemoryPool.Block<CUdeviceptr>> temps = new ArrayList<>();
        for (int batch : new int[] {128, 96, 64}) {
            for (int i = 0; i < 2; i++) {
                graphs.run(key(batch), List.of(), () -> {
                    MemoryPool.Block<CUdeviceptr> t = pool.allocate(DType.FLOAT32, 1000);
                    temps.add(t);
                    driver.kernel("b" + batch);
                    pool.free(t);
                });
            }
        }
        assertEquals(2, graphs.held());
        assertEquals(List.of(List.of("b128")), driver.destroyed);
        // The 96 graph's temporary (captured 4th) is held; the 128 graph's went back to the pool and is reused.
        MemoryPool.Block<CUdeviceptr> next = pool.allocate(DType.FLOAT32, 1000);
        assertNotEquals(KernelParams.DeviceAddress.of(temps.get(3).raw()), KernelParams.DeviceAddress.of(next.raw()));
        assertNotEquals(KernelParams.DeviceAddress.of(temps.get(5).raw()), KernelParams.DeviceAddress.of(next.raw()));
        graphs.close();
        assertEquals(3, driver.destroyed.size());
    }

    @Test
    void aPinnedParameterFreedWhileAGraphLivesIsNotHandedOutAgain() {
        MemoryPool.Block<CUdeviceptr> weight = pool.allocate(DType.FLOAT32, 4096);
        List<Object> k = key(128, KernelParams.DeviceAddress.of(weight.raw()));
        graphs.run(k, List.of(weight), () -> driver.kernel("sgd"));
        graphs.run(k, List.of(weight), () -> driver.kernel("sgd"));
        pool.free(weight);
        MemoryPool.Block<CUdeviceptr> other = pool.allocate(DType.FLOAT32, 4096);
        assertNotEquals(KernelParams.DeviceAddress.of(weight.raw()), KernelParams.DeviceAddress.of(other.raw()));
        graphs.close();
        assertSame(weight.raw(), pool.allocate(DType.FLOAT32, 4096).raw(), "unpinned with the graph");
    }

    @Test
    void aStepFailingUnderCaptureRunsEagerlyAndItsKeyIsNeverCapturedAgain() {
        List<Object> k = key(32);
        int[] attempts = {0};
        Runnable step = () -> {
            driver.kernel("half");
            if (attempts[0]++ == 1) { // the capture's run: as the skeleton refuses an upload while recording
                assertTrue(graphs.recording());
                throw new IllegalStateException("an upload inside a recorded training step");
            }
            MemoryPool.Block<CUdeviceptr> t = pool.allocate(DType.FLOAT32, 100);
            driver.kernel("rest");
            pool.free(t);
        };
        assertTrue(graphs.run(k, List.of(), step));
        assertTrue(graphs.run(k, List.of(), step), "the failed capture ran eagerly");
        assertTrue(graphs.run(k, List.of(), step));
        assertEquals(List.of("eager half", "eager rest", "begin", "end", "eager half", "eager rest", "eager half",
                "eager rest"), driver.calls);
        assertEquals(List.of(List.of("half")), driver.destroyed, "the partial graph is destroyed");
        assertEquals(0, graphs.held());
        assertEquals(0, graphs.captures());
        assertEquals(1, graphs.refusals());
        assertFalse(graphs.recording());
        MemoryPool.Pin<CUdeviceptr> next = pool.pin(); // the failed capture's pin is no longer recording
        next.close();
    }

    @Test
    void anErrorUnderCaptureIsNotTakenForARefusal() {
        List<Object> k = key(16);
        graphs.run(k, List.of(), () -> driver.kernel("ok"));
        assertThrows(OutOfMemoryError.class, () -> graphs.run(k, List.of(), () -> {
            throw new OutOfMemoryError("host");
        }));
        assertEquals(List.of(List.of()), driver.destroyed, "the capture was ended");
        assertFalse(graphs.recording());
        assertEquals(0, graphs.refusals());
    }

    @Test
    void replaysSayTheWorkDidNotRun() {
        List<Object> k = key(8);
        List<Boolean> ran = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ran.add(graphs.run(k, List.of(), () -> driver.kernel("k")));
        }
        assertEquals(List.of(true, true, false, false), ran);
    }
}
