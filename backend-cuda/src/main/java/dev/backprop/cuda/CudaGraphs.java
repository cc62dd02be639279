package dev.backprop.cuda;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.backend.base.OpFamilies;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Training steps captured as CUDA graphs and replayed: the cuda backend's {@link OpFamilies.StepRecorder}, behind
 * {@link dev.backprop.backend.Backend#runStep}. One graph per key (what core's step depends on: the batch shape,
 * the buffers it reads and writes), at most {@link #MAX_GRAPHS} kept (the full batch and the last, smaller one), the
 * oldest destroyed first.
 *
 * <p>A key's first step runs eagerly (it warms the pool: a capture must not allocate device memory for the first
 * time); its second is captured on the backend's stream ({@code cuStreamBeginCapture} in relaxed mode, then
 * {@code cuStreamEndCapture} and {@code cuGraphInstantiate}) and launched, and every later one is a single
 * {@code cuGraphLaunch}. The graph's device addresses stay valid because its blocks are {@link MemoryPool#pin pinned}:
 * what the capture allocates, and the buffers the step names as used, are handed out to no one else until the graph
 * is destroyed. A different key (a parameter replaced, another batch shape) never replays an old graph.
 *
 * <p>The captured step must be a fixed sequence of device work. While capturing, the skeleton refuses uploads (the
 * staging ring's host memory changes between replays), downloads and waits ({@link #recording}); a step that fails
 * under capture for that or any other reason is abandoned (the partial graph destroyed, its blocks unpinned), run
 * eagerly instead, and its key is never captured again, so capture never changes a result. cuBLAS gets a workspace
 * of its own ({@code cublasSetWorkspace}, {@link #CUBLAS_WORKSPACE_BYTES}) so that it allocates nothing inside a
 * capture.
 *
 * <p>Off unless {@code backprop.cuda.graphs=true}: it becomes the default once verified on a GPU.
 */
final class CudaGraphs implements OpFamilies.StepRecorder<CUdeviceptr>, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CudaGraphs.class.getName());
    /** Graphs kept: the full batch's and the last batch's. */
    static final int MAX_GRAPHS = 2;
    /** Keys remembered as warmed up or refused (one seen more than this many keys ago is seen afresh). */
    private static final int MAX_KEYS = 8;
    /** cuBLAS's workspace under capture: NVIDIA's recommendation for Hopper (32 MiB), enough for older GPUs. */
    static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;

    /** The driver calls of a capture, on the backend's stream (a seam, so the cache is tested without a GPU). */
    interface Driver {
        void beginCapture();

        /** Ends the capture and instantiates its graph. */
        Object endCapture();

        void launch(Object graph);

        void destroy(Object graph);
    }

    private record Entry(Object graph, MemoryPool.Pin<CUdeviceptr> pin) {
    }

    private final Driver driver;
    private final MemoryPool<CUdeviceptr> pool;
    private final Map<Object, Entry> graphs = new LinkedHashMap<>();
    private final Map<Object, Boolean> warmed = bounded();
    private final Map<Object, Boolean> refused = bounded();
    private boolean recording;
    private int captures;
    private int replays;
    private int refusals;

    CudaGraphs(Driver driver, MemoryPool<CUdeviceptr> pool) {
        this.driver = driver;
        this.pool = pool;
    }

    private static Map<Object, Boolean> bounded() {
        return new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, Boolean> eldest) {
                return size() > MAX_KEYS;
            }
        };
    }

    /** Whether {@code backprop.cuda.graphs} asks for captured steps (default off until verified on a GPU). */
    static boolean enabled(BackendOptions options) {
        return options.getBoolean("cuda", "graphs", false);
    }

    /**
     * Runs one step for {@code key}: eagerly the first time, captured and launched the second, replayed after;
     * eagerly for good once a capture of the key failed.
     *
     * @param uses the live blocks the step reads or writes that were allocated before it (parameters, batch
     *             buffers, the step's results): pinned with the graph
     * @param work queues the step's device work (no upload, download or synchronize)
     * @return false when the step was a replay
     */
    @Override
    public boolean run(Object key, List<MemoryPool.Block<CUdeviceptr>> uses, Runnable work) {
        Entry e = graphs.get(key);
        if (e != null) {
            driver.launch(e.graph());
            replays++;
            return false;
        }
        if (refused.containsKey(key) || warmed.put(key, Boolean.TRUE) == null || !capture(key, uses, work)) {
            work.run();
        }
        return true;
    }

    @Override
    public boolean recording() {
        return recording;
    }

    /** Captures and launches the step; false when it could not be captured (then nothing of it ran). */
    private boolean capture(Object key, List<MemoryPool.Block<CUdeviceptr>> uses, Runnable work) {
        while (graphs.size() >= MAX_GRAPHS) {
            Iterator<Map.Entry<Object, Entry>> oldest = graphs.entrySet().iterator();
            Map.Entry<Object, Entry> first = oldest.next();
            oldest.remove();
            warmed.remove(first.getKey());
            destroy(first.getValue());
        }
        MemoryPool.Pin<CUdeviceptr> pin = pool.pin();
        Object graph;
        try {
            uses.forEach(pin::add);
            graph = record(work);
        } catch (RuntimeException | Error failure) {
            pin.seal();
            pin.close();
            warmed.remove(key);
            if (failure instanceof Error e) { // not a step that cannot be captured: the JVM or the test is failing
                throw e;
            }
            refused.put(key, Boolean.TRUE);
            refusals++;
            LOG.log(Level.WARNING, "cuda: a training step could not be captured as a CUDA graph; it runs eagerly "
                    + "from now on: " + failure.getMessage(), failure);
            return false;
        }
        pin.seal();
        graphs.put(key, new Entry(graph, pin));
        captures++;
        driver.launch(graph);
        return true;
    }

    /** The graph of {@code work}; on a failure the capture is ended and its partial graph destroyed. */
    private Object record(Runnable work) {
        driver.beginCapture();
        recording = true;
        try {
            work.run();
        } catch (RuntimeException | Error failure) {
            recording = false;
            try {
                driver.destroy(driver.endCapture());
            } catch (RuntimeException ended) {
                failure.addSuppressed(ended);
            }
            throw failure;
        } finally {
            recording = false;
        }
        return driver.endCapture();
    }

    private void destroy(Entry e) {
        try {
            driver.destroy(e.graph());
        } finally {
            e.pin().close();
        }
    }

    /** Graphs captured so far (a rebuild after a key change counts again). */
    int captures() {
        return captures;
    }

    /** Steps that were replays of a captured graph. */
    int replays() {
        return replays;
    }

    /** Steps whose capture failed, which then ran eagerly. */
    int refusals() {
        return refusals;
    }

    /** Graphs held now. */
    int held() {
        return graphs.size();
    }

    /** Destroys every graph and unpins its blocks; reports the first failure. */
    @Override
    public void close() {
        List<Entry> all = new ArrayList<>(graphs.values());
        graphs.clear();
        warmed.clear();
        refused.clear();
        RuntimeException first = null;
        for (Entry e : all) {
            try {
                destroy(e);
            } catch (RuntimeException failure) {
                if (first == null) {
                    first = failure;
                } else {
                    first.addSuppressed(failure);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * The JCuda driver on {@code context}'s stream; gives cuBLAS its own {@code workspace} of
     * {@link #CUBLAS_WORKSPACE_BYTES} (a block the caller keeps for the context's life).
     */
    static Driver of(CudaContext context, CUdeviceptr workspace) {
        CudaCheck.checkCublas(JCublas2.cublasSetWorkspace(context.cublas, workspace, CUBLAS_WORKSPACE_BYTES),
                "cublasSetWorkspace");
        return new Driver() {
            @Override
            public void beginCapture() {
                CudaCheck.check(JCudaDriver.cuStreamBeginCapture(context.stream,
                        CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED), "cuStreamBeginCapture");
            }

            @Override
            public Object endCapture() {
                CUgraph graph = new CUgraph();
                CudaCheck.check(JCudaDriver.cuStreamEndCapture(context.stream, graph), "cuStreamEndCapture");
                try {
                    CUgraphExec exec = new CUgraphExec();
                    CudaCheck.check(JCudaDriver.cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate");
                    return exec;
                } finally {
                    CudaCheck.check(JCudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
                }
            }

            @Override
            public void launch(Object graph) {
                CudaCheck.check(JCudaDriver.cuGraphLaunch((CUgraphExec) graph, context.stream), "cuGraphLaunch");
            }

            @Override
            public void destroy(Object graph) {
                CudaCheck.check(JCudaDriver.cuGraphExecDestroy((CUgraphExec) graph), "cuGraphExecDestroy");
            }
        };
    }
}
