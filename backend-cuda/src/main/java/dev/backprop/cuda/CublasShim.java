package dev.backprop.cuda;

/**
 * The bundled forwarding library {@code libcublas.so.12} (built by {@code scripts/build-shim.sh} from
 * {@code src/main/shim}): it satisfies the JCublas2 native's need for cuBLAS 12 by forwarding every call
 * to cuBLAS 13. {@link CudaNatives#loadCublas} loads it with {@link System#load}, from a private directory,
 * before JCublas2's native: the dynamic linker then resolves that native's {@code libcublas.so.12} dependency to
 * it by its SONAME, with no {@code LD_LIBRARY_PATH}.
 */
final class CublasShim {
    /** The class-path resource holding the shim. */
    static final String RESOURCE = "/dev/backprop/cuda/native/linux-x86_64/libcublas.so.12";

    private CublasShim() {
    }

    /** Whether this JVM runs where the shim can load (Linux on x86-64). */
    static boolean supportedPlatform() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        return os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }
}
