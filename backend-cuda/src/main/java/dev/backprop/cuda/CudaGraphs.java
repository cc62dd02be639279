package dev.backprop.cuda;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.base.MemoryPool;
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

/**
 * Training steps captured as CUDA graphs and replayed: one graph per {@link Key} (the batch shape and the parameter
 * set), at most {@link #MAX_GRAPHS} kept (the full batch and the last, smaller one), the oldest destroyed first.
 *
 * <p>A key's first step runs eagerly (it warms the pool: a capture must not allocate device memory for the first
 * time); its second is captured on the backend's stream ({@code cuStreamBeginCapture} in relaxed mode, then
 * {@code cuStreamEndCapture} and {@code cuGraphInstantiate}) and launched, and every later one is a single
 * {@code cuGraphLaunch}. The graph's device addresses stay valid because its blocks are {@link MemoryPool#pin pinned}:
 * what the capture allocates, and the parameters and batch buffers it reads, are handed out to no one else until the
 * graph is destroyed. A different key (a parameter replaced, another batch shape) never replays an old graph.
 *
 * <p>The captured step must be a fixed sequence of device work: no upload (the staging ring's host memory changes
 * between replays: upload the batch's indices before {@link #step}), no download, no synchronize. cuBLAS gets a
 * workspace of its own ({@code cublasSetWorkspace}, {@link #CUBLAS_WORKSPACE_BYTES}) so that it allocates nothing
 * inside a capture.
 *
 * <p>Off unless {@code backprop.cuda.graphs=true}: it becomes the default once verified on a GPU.
 */
final class CudaGraphs implements AutoCloseable {
    /** Graphs kept: the full batch's and the last batch's. */
    static final int MAX_GRAPHS = 2;
    /** Keys remembered as warmed up (a key seen once more than this many keys ago is warmed up again). */
    private static final int MAX_WARMED = 8;
    /** cuBLAS's workspace under capture: NVIDIA's recommendation for Hopper (32 MiB), enough for older GPUs. */
    static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;

    /** What a captured step depends on: the batch shape and each parameter's device address and length. */
    record Key(List<Integer> batchShape, List<Long> parameters) {
        Key {
            batchShape = List.copyOf(batchShape);
            parameters = List.copyOf(parameters);
        }
    }

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
    private final Map<Key, Entry> graphs = new LinkedHashMap<>();
    private final Map<Key, Boolean> warmed = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
            return size() > MAX_WARMED;
        }
    };
    private int captures;
    private int replays;

    CudaGraphs(Driver driver, MemoryPool<CUdeviceptr> pool) {
        this.driver = driver;
        this.pool = pool;
    }

    /** Whether {@code backprop.cuda.graphs} asks for captured steps (default off until verified on a GPU). */
    static boolean enabled(BackendOptions options) {
        return options.getBoolean("cuda", "graphs", false);
    }

    /**
     * Runs one step for {@code key}: eagerly the first time, captured and launched the second, replayed after.
     *
     * @param reads the live blocks the step reads or writes that were allocated before it (parameters, optimizer
     *              state, batch buffers): pinned with the graph
     * @param step  queues the step's device work (no upload, download or synchronize)
     */
    void step(Key key, List<MemoryPool.Block<CUdeviceptr>> reads, Runnable step) {
        Entry e = graphs.get(key);
        if (e != null) {
            driver.launch(e.graph());
            replays++;
            return;
        }
        if (warmed.put(key, Boolean.TRUE) == null) {
            step.run();
            return;
        }
        capture(key, reads, step);
    }

    private void capture(Key key, List<MemoryPool.Block<CUdeviceptr>> reads, Runnable step) {
        while (graphs.size() >= MAX_GRAPHS) {
            Iterator<Map.Entry<Key, Entry>> oldest = graphs.entrySet().iterator();
            Map.Entry<Key, Entry> first = oldest.next();
            oldest.remove();
            warmed.remove(first.getKey());
            destroy(first.getValue());
        }
        MemoryPool.Pin<CUdeviceptr> pin = pool.pin();
        Object graph;
        try {
            reads.forEach(pin::add);
            driver.beginCapture();
            try {
                step.run();
            } catch (RuntimeException | Error failure) {
                try {
                    driver.destroy(driver.endCapture());
                } catch (RuntimeException ended) {
                    failure.addSuppressed(ended);
                }
                throw failure;
            }
            graph = driver.endCapture();
        } catch (RuntimeException | Error failure) {
            pin.close();
            warmed.remove(key);
            throw failure;
        } finally {
            pin.seal();
        }
        graphs.put(key, new Entry(graph, pin));
        captures++;
        driver.launch(graph);
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
