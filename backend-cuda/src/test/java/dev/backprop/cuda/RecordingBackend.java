package dev.backprop.cuda;

import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.DType;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.OpFamilies;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The cuda backend's op families on core's skeleton with their device work recorded instead of run, for tests that
 * go through the {@link dev.backprop.backend.Backend} SPI without a GPU: kernels through a {@link CudaLaunch} that
 * checks every argument list against its kernel's parameters ({@link KernelParams#check}), cuBLAS calls and
 * transfers as {@link Call}s, all in one {@link #log} in queue order; buffers from a pool on {@link AddressedDevice},
 * so every address is traceable. Downloads are refused: nothing is computed. With graphs, {@link CudaGraphs} records
 * steps on a driver whose capture collects the work queued meanwhile as the graph, and whose launch of a graph
 * queues that work again, so the log shows what the device would run.
 */
final class RecordingBackend extends BaseBackend<CUdeviceptr, CudaBuffer> {
    /** A queued transfer or cuBLAS call: its name and arguments, pointers as addresses. */
    record Call(String op, List<Object> args) {
    }

    /** A graph: the work queued while it was captured. */
    record Graph(List<Object> work) {
    }

    /** Launches, calls and table uploads in queue order (a graph's launch queues its work). */
    final List<Object> log = new ArrayList<>();
    /** The driver calls of captures: begin, end, launch and destroy. */
    final List<String> driverCalls = new ArrayList<>();
    private final CudaLaunch launch;
    private final CudaGraphs graphs;
    /** Where work is queued: the log, or the graph being captured. */
    private List<Object> queue = log;

    /**
     * @param maxBlocks the grid limit of grid-stride launches
     * @param fused     whether to install {@link CudaFused} (else the SPI's defaults run on the other families)
     * @param graphs    whether steps are captured ({@link CudaGraphs} on the recording driver)
     */
    RecordingBackend(int maxBlocks, boolean fused, boolean graphs) {
        super("cuda", CudaBuffer.class, CudaBuffer::new, new CudaMemory(new AddressedDevice()), Long.MAX_VALUE);
        launch = new CudaLaunch(maxBlocks, (kernel, shape, args) -> {
            KernelParams.check(kernel, args);
            queue.add(new LaunchRecorder.Launch(kernel, shape, Arrays.asList(args)));
        });
        CudaElementwise elementwise = new CudaElementwise(launch);
        CudaFused family = fused ? own(new CudaFused(launch, pool(), (words, dst) -> queue.add(new Call("table",
                List.of(LaunchRecorder.address(dst), Arrays.stream(words).boxed().toList()))), this::recording))
                : null;
        install(new OpFamilies<>(new Transfers(), this::gemm, elementwise, new CudaReductions(launch, pool()),
                new CudaSoftmax(launch), new CudaUpdates(launch), new CudaImages(launch),
                new CudaNormalization(launch, pool()), null, family),
                new DeviceInfo("recording fake GPU", DeviceType.GPU, 1L << 34, Map.of()),
                new Capabilities(true, true, Map.of()));
        this.graphs = graphs ? own(new CudaGraphs(new Driver(), pool())) : null;
    }

    /** Without graphs. */
    RecordingBackend(int maxBlocks, boolean fused) {
        this(maxBlocks, fused, false);
    }

    @Override
    protected CudaGraphs stepRecorder() {
        return graphs;
    }

    private boolean recording() {
        return graphs != null && graphs.recording();
    }

    private final class Driver implements CudaGraphs.Driver {
        @Override
        public void beginCapture() {
            driverCalls.add("begin");
            queue = new ArrayList<>();
        }

        @Override
        public Object endCapture() {
            driverCalls.add("end");
            Graph graph = new Graph(List.copyOf(queue));
            queue = log;
            return graph;
        }

        @Override
        public void launch(Object graph) {
            driverCalls.add("launch");
            log.addAll(((Graph) graph).work());
        }

        @Override
        public void destroy(Object graph) {
            driverCalls.add("destroy");
        }
    }

    /** Kernels launched so far. */
    long kernelLaunches() {
        return launch.launches();
    }

    /** The recorded kernel launches, in order. */
    List<LaunchRecorder.Launch> launches() {
        return log.stream().filter(e -> e instanceof LaunchRecorder.Launch).map(e -> (LaunchRecorder.Launch) e)
                .toList();
    }

    private void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, CudaBuffer a, long aOffset,
                      int lda, CudaBuffer b, long bOffset, int ldb, double beta, CudaBuffer c, long cOffset, int ldc,
                      int batch, long strideA, long strideB, long strideC) {
        queue.add(new Call("gemm", List.of(transA, transB, m, n, k, alpha, LaunchRecorder.at(a, aOffset), lda,
                LaunchRecorder.at(b, bOffset), ldb, beta, LaunchRecorder.at(c, cOffset), ldc, batch, strideA, strideB,
                strideC)));
    }

    private final class Transfers implements OpFamilies.Transfers<CudaBuffer> {
        @Override
        public void upload(HostArray src, CudaBuffer dst, long dstOffset) {
            queue.add(new Call("upload", List.of(LaunchRecorder.at(dst, dstOffset), src.length())));
        }

        @Override
        public void download(CudaBuffer src, long srcOffset, HostArray dst) {
            throw new UnsupportedOperationException("a recording backend computes nothing to download");
        }

        @Override
        public void copy(CudaBuffer src, long srcOffset, CudaBuffer dst, long dstOffset, long length) {
            queue.add(new Call("copy", List.of(LaunchRecorder.at(src, srcOffset), LaunchRecorder.at(dst, dstOffset),
                    length)));
        }

        @Override
        public void fill(CudaBuffer dst, long offset, long length, double value) {
            if (dst.dtype() == DType.FLOAT64) { // a kernel, as CudaTransfers does
                launch.elementwise(CudaKernel.FILL_F64, length, dst.at(offset), length, value);
            } else {
                queue.add(new Call("fill", List.of(LaunchRecorder.at(dst, offset), length, value)));
            }
        }

        @Override
        public void synchronize() {
            queue.add(new Call("synchronize", List.of()));
        }
    }
}
