package dev.backprop.cuda;

import dev.backprop.backend.Probe;
import dev.backprop.testing.PlantedLibrary;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.runtime.JCuda;

/**
 * Run by {@link CudaNativesTest} in a child JVM (a loaded library stays loaded). With {@code backend}: the cuda
 * probe ({@code probe_available=}, {@code probe_reason=}), then, since without a GPU the probe stops at the
 * driver, cuBLAS loaded as the probe loads it for the driver version {@code args[1]} ({@code cublas_reason=},
 * {@code cublas=}) and the runtime's native as the probe loads it ({@code runtime=}). With {@code jcuda}: lets
 * JCuda load each of those natives itself. Then prints {@code mapped=}: the JCuda natives mapped into this
 * process.
 */
public final class CudaNativesMain {
    private CudaNativesMain() {
    }

    /** Loads as {@code args[0]} says and prints. */
    public static void main(String[] args) throws Exception {
        if (args[0].equals("backend")) {
            Probe probe = new CudaBackendProvider().probe();
            System.out.println("probe_available=" + probe.available());
            System.out.println("probe_reason=" + probe.reason());
            CublasLoader.Outcome cublas = CublasLoader.load(Integer.parseInt(args[1]));
            System.out.println("cublas_reason=" + cublas.reason());
            System.out.println("cublas=" + cublas.description());
            CudaNatives.loadRuntime();
            int[] version = new int[1];
            System.out.println("runtime=" + JCuda.cudaRuntimeGetVersion(version) + "/" + version[0]);
        } else {
            attempt("driver", () -> JCudaDriver.cuInit(0));
            attempt("runtime", () -> JCuda.cudaRuntimeGetVersion(new int[1]));
            attempt("cublas", JCublas2::initialize);
        }
        System.out.println("mapped=" + PlantedLibrary.mapped("libJCu"));
    }

    private static void attempt(String what, Runnable r) {
        try {
            r.run();
            System.out.println(what + "=loaded");
        } catch (Throwable t) {
            System.out.println(what + "=" + t.toString().lines().findFirst().orElse(""));
        }
    }
}
