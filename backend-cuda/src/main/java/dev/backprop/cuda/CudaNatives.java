package dev.backprop.cuda;

import dev.backprop.runtime.NativeLoader;
import jcuda.JCudaVersion;
import jcuda.LibUtils;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.runtime.JCuda;

/**
 * Loads the JCuda natives through {@link NativeLoader}, from a private directory: JCuda's own loader would load
 * {@code libJCudaDriver-12.6.0-<os>-<arch>.so} (and the runtime's and JCublas2's) from a fixed path in
 * {@code java.io.tmpdir}, whoever put it there. Each method runs before the first use of its binding class,
 * whose static initializer loads the library.
 */
final class CudaNatives {
    private CudaNatives() {
    }

    /** Loads the driver API's native ({@link JCudaDriver}); it needs the NVIDIA driver's {@code libcuda.so.1}. */
    static void loadDriver() {
        NativeLoader.initialize(JCudaDriver.class, resource(JCudaDriver.class, "JCudaDriver"));
    }

    /** Loads the runtime API's native ({@link JCuda}). */
    static void loadRuntime() {
        NativeLoader.initialize(JCuda.class, resource(JCuda.class, "JCudaRuntime"));
    }

    /**
     * Loads JCublas2's native, after the bundled {@code libcublas.so.12} shim when {@code viaShim} (which then
     * satisfies the native's dependency on {@code libcublas.so.12}). The chosen cuBLAS must be loaded already.
     */
    static void loadCublas(boolean viaShim) {
        NativeLoader.Resource jcublas2 = resource(JCublas2.class, "JCublas2");
        if (viaShim) {
            NativeLoader.initialize(JCublas2.class, jcublas2, new NativeLoader.Resource(CublasShim.class,
                    CublasShim.RESOURCE));
        } else {
            NativeLoader.initialize(JCublas2.class, jcublas2);
        }
    }

    /** The native of {@code base} in the JCuda jars for this platform, under the name JCuda's loader looks for. */
    static NativeLoader.Resource resource(Class<?> binding, String base) {
        return new NativeLoader.Resource(binding, "/lib/" + LibUtils.createLibraryFileName(
                LibUtils.createPlatformLibraryName(base + "-" + JCudaVersion.get())));
    }
}
