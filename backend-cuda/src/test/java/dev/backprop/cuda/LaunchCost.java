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

import java.util.Arrays;
import java.util.Locale;

/**
 * The host's cost of one small kernel launch on the GPU, by route, in one JVM: the SPI call
 * ({@code Backend.unary}), {@link CudaLaunch} with its parameter block ({@link KernelParams}), the same kernel
 * with its parameters as nested JCuda pointers (how launches were made before the block), and a driver call
 * without kernel parameters ({@code cuMemsetD32Async}) for scale. Each: median over 5 rounds of 10,000 calls
 * after 2,000 to warm up, host time until the call returns (launches are asynchronous), then the wait for the
 * GPU at the end of the round. Run by {@code gpu-verify.sh} (step 7): {@code LaunchCost}.
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
            System.out.println("launch cost on " + backend.device().describe() + "; "
                    + backend.capabilities().details().get("launch"));
            System.out.printf(Locale.ROOT, "%-58s %14s %14s%n", "route (relu over 1024 floats unless said)",
                    "host us/call", "wall us/call");
            time(backend, "Backend.unary (the SPI call: lock, context, checks)",
                    () -> backend.unary(UnaryOp.RELU, 0, 0, x, 0, y, 0, N));
            time(backend, "CudaLaunch.elementwise with the parameter block",
                    () -> launch.elementwise(CudaKernel.UNARY_F32, N, relu, 0.0, 0.0, px, py, (long) N));
            time(backend, "cuLaunchKernel with nested JCuda pointers (before)", () -> {
                Pointer params = KernelParams.nested(CudaKernel.UNARY_F32, relu, 0.0, 0.0, px, py, (long) N);
                CudaCheck.check(JCudaDriver.cuLaunchKernel(context.modules().function(CudaKernel.UNARY_F32),
                        CudaLaunch.blocksFor(N, 4096), 1, 1, CudaLaunch.BLOCK, 1, 1, 0, context.stream, params, null),
                        "cuLaunchKernel");
            });
            time(backend, "cuCtxSetCurrent (every SPI call makes the context current)", context::makeCurrent);
            time(backend, "cuMemsetD32Async (a driver call without kernel parameters)",
                    () -> CudaCheck.check(JCudaDriver.cuMemsetD32Async(py, 0, N, context.stream), "cuMemsetD32Async"));
            backend.release(x);
            backend.release(y);
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
        System.out.printf(Locale.ROOT, "%-58s %14.2f %14.2f%n", route, host[ROUNDS / 2], wall[ROUNDS / 2]);
    }
}
