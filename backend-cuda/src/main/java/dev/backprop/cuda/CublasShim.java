package dev.backprop.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The bundled forwarding library {@code libcublas.so.12} (built by {@code scripts/build-shim.sh} from
 * {@code src/main/shim}): it satisfies the JCublas2 native's need for cuBLAS 12 by forwarding every call
 * to cuBLAS 13. Loaded with {@link System#load} before {@code JCublas2.initialize()}, the dynamic linker
 * then resolves JCublas2's {@code libcublas.so.12} dependency to it by its SONAME, with no
 * {@code LD_LIBRARY_PATH}.
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

    /**
     * Copies the shim into a fresh temporary folder (deleted when the JVM exits) and returns its path; the
     * file keeps the name {@code libcublas.so.12}.
     */
    static Path extract() throws IOException {
        Path dir = Files.createTempDirectory("backprop-cuda-");
        Path file = dir.resolve("libcublas.so.12");
        try (InputStream in = CublasShim.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE + " is missing from the backprop-backend-cuda jar");
            }
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        // deleteOnExit runs in reverse order of registration: the folder must come first, or its deletion is
        // attempted while the file is still in it (that left an empty folder in /tmp per JVM).
        dir.toFile().deleteOnExit();
        file.toFile().deleteOnExit();
        return file;
    }
}
