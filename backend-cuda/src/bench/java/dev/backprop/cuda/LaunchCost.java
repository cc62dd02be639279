package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.runtime.Backends;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasOperation;

import java.util.Arrays;
import java.util.Locale;

/**
 * The host's cost of one small kernel launch on the GPU, by route, in one JVM: the SPI call
 * ({@code Backend.unary}), {@link CudaLaunch} with its parameter block ({@link KernelParams}), the same kernel
 * with its parameters as nested JCuda pointers (how launches were made before the block), and a driver call
 * without kernel parameters ({@code cuMemsetD32Async}) for scale. Each: median over 5 rounds of 10,000 calls
 * after 2,000 to warm up, host time until the call returns (launches are asynchronous), then the wait for the
 * GPU at the end of the round. Then the same for the step's first GEMM ({@link #gemms}). Run by
 * {@code gpu-verify.sh} (step 7, and the {@code profile} stage): {@code LaunchCost}.
 */
public final class LaunchCost {
    private static final int N = 1024;
    private static final int CALLS = 10_000;
    private static final int ROUNDS = 5;

    private LaunchCost() {
    }

    public static void main(String[] args) {
        try (Backend backend = Backends.create("cuda", BackendOptions.defaults())) {
            CudaBackend cuda = (CudaBackend) backend;
            CudaContext context = cuda.context();
            Buffer x = backend.allocate(DType.FLOAT32, N);
            Buffer y = backend.allocate(DType.FLOAT32, N);
            backend.fill(x, 0, N, -1.0);
            CUdeviceptr px = ((CudaBuffer) x).at(0);
            CUdeviceptr py = ((CudaBuffer) y).at(0);
            int relu = CudaOpCodes.unary(UnaryOp.RELU);
            CudaLaunch launch = new CudaLaunch(context);
            System.out.println("launch cost on " + backend.device().describe());
            System.out.printf(Locale.ROOT, "%-64s %14s %14s%n", "route (relu over 1024 floats unless said)",
                    "host us/call", "wall us/call");
            time(backend, "Backend.unary (the SPI call: lock, context, checks)",
                    () -> backend.unary(UnaryOp.RELU, 0, 0, x, 0, y, 0, N));
            time(backend, "CudaLaunch.elementwise with the parameter block",
                    () -> launch.elementwise(CudaKernel.UNARY_F32, N, relu, 0.0, 0.0, px, py, (long) N));
            time(backend, "cuLaunchKernel with nested JCuda pointers (before)", () -> {
                Pointer params = Pointer.to(Pointer.to(new int[] {relu}), Pointer.to(new double[] {0.0}),
                        Pointer.to(new double[] {0.0}), Pointer.to(px), Pointer.to(py), Pointer.to(new long[] {N}));
                CudaCheck.check(JCudaDriver.cuLaunchKernel(context.modules().function(CudaKernel.UNARY_F32),
                        CudaLaunch.blocksFor(N, 4096), 1, 1, CudaLaunch.BLOCK, 1, 1, 0, context.stream, params, null),
                        "cuLaunchKernel");
            });
            time(backend, "cuCtxSetCurrent (every SPI call makes the context current)", context::makeCurrent);
            time(backend, "cuMemsetD32Async (a driver call without kernel parameters)",
                    () -> CudaCheck.check(JCudaDriver.cuMemsetD32Async(py, 0, N, context.stream), "cuMemsetD32Async"));
            backend.release(x);
            backend.release(y);
            gemms(backend, context);
        }
    }

    /**
     * The step's first GEMM (a batch of 128 through the 784-256 layer: {@code X·Wᵀ}) by route: the SPI call, then
     * cuBLAS through JCublas2 with alpha and beta as Java arrays (what {@link CudaGemm} passes) and from pinned
     * host memory (a plain address), then the same call at 1x1x1, where cuBLAS's own fixed cost is all there is.
     */
    private static void gemms(Backend backend, CudaContext context) {
        int m = 128;
        int n = 256;
        int k = 784;
        Buffer a = backend.allocate(DType.FLOAT32, (long) m * k);
        Buffer b = backend.allocate(DType.FLOAT32, (long) n * k);
        Buffer c = backend.allocate(DType.FLOAT32, (long) m * n);
        backend.fill(a, 0, (long) m * k, 0.5);
        backend.fill(b, 0, (long) n * k, 0.25);
        CUdeviceptr pa = ((CudaBuffer) a).at(0);
        CUdeviceptr pb = ((CudaBuffer) b).at(0);
        CUdeviceptr pc = ((CudaBuffer) c).at(0);
        Pinned scalars = new Pinned();
        CudaCheck.check(JCudaDriver.cuMemAllocHost(scalars, 8), "cuMemAllocHost");
        try {
            scalars.getByteBuffer(0, 8).putFloat(0, 1f).putFloat(4, 0f);
            Pointer alphaPinned = scalars.at(0);
            Pointer betaPinned = scalars.at(4);
            time(backend, "Backend.gemm 128x256x784, B transposed (the SPI call)",
                    () -> backend.gemm(false, true, m, n, k, 1.0, a, 0, k, b, 0, k, 0.0, c, 0, n, 1, 0, 0, 0));
            // Row-major C = A·Bᵀ is column-major Cᵀ = B·Aᵀ: first operand B (transposed), second A.
            time(backend, "cublasSgemm, alpha and beta as Java arrays", () -> CudaCheck.checkCublas(
                    JCublas2.cublasSgemm(context.cublas, cublasOperation.CUBLAS_OP_T, cublasOperation.CUBLAS_OP_N,
                            n, m, k, Pointer.to(new float[] {1f}), pb, k, pa, k, Pointer.to(new float[] {0f}), pc, n),
                    "cublasSgemm"));
            time(backend, "cublasSgemm, alpha and beta from pinned host memory", () -> CudaCheck.checkCublas(
                    JCublas2.cublasSgemm(context.cublas, cublasOperation.CUBLAS_OP_T, cublasOperation.CUBLAS_OP_N,
                            n, m, k, alphaPinned, pb, k, pa, k, betaPinned, pc, n), "cublasSgemm"));
            time(backend, "cublasSgemm 1x1x1, pinned alpha and beta (cuBLAS's fixed cost)", () -> CudaCheck.checkCublas(
                    JCublas2.cublasSgemm(context.cublas, cublasOperation.CUBLAS_OP_N, cublasOperation.CUBLAS_OP_N,
                            1, 1, 1, alphaPinned, pb, 1, pa, 1, betaPinned, pc, 1), "cublasSgemm"));
        } finally {
            backend.synchronize();
            CudaCheck.check(JCudaDriver.cuMemFreeHost(scalars), "cuMemFreeHost");
            backend.release(a);
            backend.release(b);
            backend.release(c);
        }
    }

    /** Pinned host memory; {@link #at} gives a plain address into it (JCuda passes those through untouched). */
    private static final class Pinned extends Pointer {
        Pointer at(long byteOffset) {
            return new Address(getNativePointer() + getByteOffset() + byteOffset);
        }
    }

    private static final class Address extends Pointer {
        Address(long address) {
            super(address);
        }
    }

    private static void time(Backend backend, String route, Runnable call) {
        for (int i = 0; i < 2_000; i++) {
            call.run();
        }
        backend.synchronize();
        double[] host = new double[ROUNDS];
        double[] wall = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < CALLS; i++) {
                call.run();
            }
            long queued = System.nanoTime();
            backend.synchronize();
            long done = System.nanoTime();
            host[r] = (queued - start) / 1e3 / CALLS;
            wall[r] = (done - start) / 1e3 / CALLS;
        }
        Arrays.sort(host);
        Arrays.sort(wall);
        System.out.printf(Locale.ROOT, "%-64s %14.2f %14.2f%n", route, host[ROUNDS / 2], wall[ROUNDS / 2]);
    }
}
