package dev.backprop.cuda;

import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasStatus;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads the cuBLAS library {@link CublasLocator} chose, then the JCublas2 native on top of it, once per JVM.
 *
 * <p>Order matters: the chosen {@code libcublas.so.N} is loaded by absolute path first (after its
 * {@code libcublasLt.so.N} neighbour, so no library path is needed), then for cuBLAS 13 the bundled
 * {@code libcublas.so.12} shim, and only then JCublas2's native ({@link CudaNatives#loadCublas}), whose
 * dependency on {@code libcublas.so.12} is then satisfied by a library already in the process.
 */
final class CublasLoader {
    /**
     * The outcome.
     *
     * @param description what was loaded and its version, for the device line; null on failure
     * @param reason      why cuBLAS is unusable; null on success
     */
    record Outcome(String description, String reason) {
        boolean ok() {
            return reason == null;
        }
    }

    private CublasLoader() {
    }

    /** Locates and loads cuBLAS for a driver of version {@code driverVersion}. Never throws. */
    static Outcome load(int driverVersion) {
        CublasLocator.Result found = CublasLocator.locate();
        if (found.choice() == null) {
            return new Outcome(null, found.reason());
        }
        CublasLocator.Choice choice = found.choice();
        String tooOld = DriverRequirements.cublasProblem(driverVersion, choice.major(), choice.path().toString());
        if (tooOld != null) {
            return new Outcome(null, tooOld);
        }
        if (choice.viaShim() && !CublasShim.supportedPlatform()) {
            return new Outcome(null, "cuBLAS 13 needs the bundled libcublas.so.12 shim, which exists for "
                    + "Linux x86-64 only; install cuBLAS 12");
        }
        try {
            loadWithNeighbour(choice.path());
            CudaNatives.loadCublas(choice.viaShim());
        } catch (Throwable t) {
            return new Outcome(null, NativeFailures.cublas(t, choice.describe()));
        }
        return version(choice);
    }

    private static void loadWithNeighbour(Path library) {
        Path lt = library.resolveSibling("libcublasLt.so." + majorFollowingLinks(library));
        if (Files.isRegularFile(lt)) {
            System.load(lt.toAbsolutePath().toString());
        }
        System.load(library.toAbsolutePath().toString());
    }

    private static int majorFollowingLinks(Path library) {
        int major = CublasLocator.majorOf(library);
        if (major < 0) {
            try {
                major = CublasLocator.majorOf(library.toRealPath());
            } catch (java.io.IOException e) {
                major = -1;
            }
        }
        return major;
    }

    /** Asks the loaded library for its version (no GPU work) and checks its major. */
    private static Outcome version(CublasLocator.Choice choice) {
        int[] parts = new int[3];
        try {
            for (int i = 0; i < 3; i++) {
                int[] v = new int[1];
                int status = JCublas2.cublasGetProperty(i, v);
                if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
                    return new Outcome(null, "cuBLAS was loaded (" + choice.describe()
                            + ") but cublasGetProperty failed: " + cublasStatus.stringFor(status));
                }
                parts[i] = v[0];
            }
        } catch (Throwable t) {
            return new Outcome(null, NativeFailures.cublas(t, choice.describe()));
        }
        if (parts[0] != choice.major()) {
            return new Outcome(null, "cuBLAS of the wrong major version: " + choice.path() + " reports "
                    + parts[0] + "." + parts[1] + "." + parts[2] + ", expected " + choice.major());
        }
        String version = parts[0] + "." + parts[1] + "." + parts[2];
        return new Outcome(version + " (" + choice.path() + (choice.viaShim() ? ", via libcublas.so.12 shim" : "")
                + ")", null);
    }
}
