package dev.backprop.cpu;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Decides between the Vector API kernels and the scalar ones, without ever breaking on a JVM that lacks the
 * incubator module.
 *
 * <p>{@code jdk.incubator.vector} is not resolved unless the JVM was started with
 * {@code --add-modules jdk.incubator.vector}. The check is therefore done on the boot module layer first, and only
 * when the module is there is {@link VectorKernelFactory} (the one class that links against it) loaded, by name;
 * any {@link LinkageError} or reflective failure on the way turns into the scalar kernels with the reason.
 */
final class CpuVectorApi {
    static final String MODULE = "jdk.incubator.vector";
    private static final String FACTORY = "dev.backprop.cpu.VectorKernelFactory";
    private static final Logger LOG = Logger.getLogger(CpuBackend.class.getName());
    /** Set by the first backend that runs the scalar kernels without being told to: the line is logged once. */
    private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();

    private CpuVectorApi() {
    }

    /** Whether the incubator module is resolved in this JVM (cheap: no class is loaded). */
    static boolean modulePresent() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }

    /**
     * The kernels to use: Vector API when {@code wanted} and available, scalar otherwise, with
     * {@link CpuKernels#species()} saying which shape is in use or why the Vector API is off.
     */
    static CpuKernels load(boolean wanted) {
        if (!wanted) {
            return CpuKernels.scalar("disabled by backprop.cpu.vector=false");
        }
        Optional<String> missing = whyUnavailable();
        if (missing.isPresent()) {
            return CpuKernels.scalar(missing.get());
        }
        try {
            @SuppressWarnings("unchecked")
            Supplier<CpuKernels> factory = (Supplier<CpuKernels>) Class.forName(FACTORY)
                    .getDeclaredConstructor().newInstance();
            return factory.get();
        } catch (LinkageError | ReflectiveOperationException | RuntimeException e) {
            return CpuKernels.scalar("the Vector API failed to load (" + e + ")");
        }
    }

    /**
     * Logs once per JVM, at INFO, that a backend runs the scalar kernels although nobody turned the Vector API off,
     * with the reason (for a JVM started without the module: the flag to add). A program that forgot the flag
     * still computes correctly, only slower, so nothing else would tell its author.
     */
    static void announceScalar(CpuKernels kernels, boolean wanted) {
        if (wanted && !kernels.vector() && ANNOUNCED.compareAndSet(false, true)) {
            LOG.info("cpu: the Vector API is off, so the scalar kernels run (slower): " + kernels.species());
        }
    }

    /** Empty when the module is resolved; otherwise what is missing and what to do. */
    static Optional<String> whyUnavailable() {
        if (modulePresent()) {
            return Optional.empty();
        }
        return Optional.of("module " + MODULE + " is not resolved in this JVM; start it with --add-modules "
                + MODULE);
    }
}
