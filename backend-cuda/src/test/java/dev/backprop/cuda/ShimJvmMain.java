package dev.backprop.cuda;

import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.cudaStream_t;

/**
 * Run by {@link CublasShimJvmTest} in a JVM of its own (loading native libraries cannot be undone): loads
 * cuBLAS exactly as the backend does ({@link CublasLoader}, with {@code backprop.cuda.cublas} naming a fake
 * libcublas.so.13), then calls through the real JCublas2 native. Prints {@code key=value} lines.
 */
public final class ShimJvmMain {
    private ShimJvmMain() {
    }

    /** Loads and calls; the driver version argument is the one the probe would pass. */
    public static void main(String[] args) {
        CublasLoader.Outcome outcome = CublasLoader.load(Integer.parseInt(args[0]));
        System.out.println("reason=" + outcome.reason());
        System.out.println("description=" + outcome.description());
        if (!outcome.ok()) {
            return;
        }
        cublasHandle handle = new cublasHandle();
        System.out.println("create=" + JCublas2.cublasCreate(handle));
        int[] version = new int[1];
        System.out.println("version_status=" + JCublas2.cublasGetVersion(handle, version));
        System.out.println("version=" + version[0]);
        System.out.println("set_stream=" + JCublas2.cublasSetStream(handle, new cudaStream_t()));
    }
}
