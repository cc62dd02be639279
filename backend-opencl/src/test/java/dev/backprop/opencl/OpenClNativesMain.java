package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.runtime.Backends;
import dev.backprop.runtime.ProviderStatus;
import dev.backprop.testing.PlantedLibrary;

/**
 * Run by {@link OpenClNativesTest} in a child JVM (a loaded library stays loaded). With {@code backend}: probes
 * every provider as automatic selection does, then creates and closes an opencl backend; prints
 * {@code available=}, {@code reason=} and {@code created=}. With {@code jocl}: lets JOCL load its native library
 * itself and prints {@code jocl=}. Then prints {@code mapped=}: the JOCL library files mapped into this process.
 */
public final class OpenClNativesMain {
    private OpenClNativesMain() {
    }

    /** Loads as {@code args[0]} says and prints. */
    public static void main(String[] args) throws Exception {
        if (args[0].equals("backend")) {
            ProviderStatus opencl = Backends.probeAll().stream()
                    .filter(s -> s.name().equals(OpenClBackendProvider.NAME)).findFirst().orElseThrow();
            System.out.println("available=" + opencl.probe().available());
            System.out.println("reason=" + opencl.probe().reason());
            if (opencl.probe().available()) {
                try (Backend backend = Backends.get(OpenClBackendProvider.NAME)) {
                    System.out.println("created=" + backend.device().name());
                }
            }
        } else {
            try {
                Class.forName("org.jocl.CL");
                System.out.println("jocl=initialized");
            } catch (Throwable t) {
                System.out.println("jocl=" + t);
            }
        }
        System.out.println("mapped=" + PlantedLibrary.mapped("libJOCL_"));
    }
}
