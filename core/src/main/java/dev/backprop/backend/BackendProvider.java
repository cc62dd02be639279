package dev.backprop.backend;

/**
 * The {@link java.util.ServiceLoader} service a backend module registers in
 * {@code META-INF/services/dev.backprop.backend.BackendProvider}.
 *
 * <p>Implementations must have a public no-argument constructor that does nothing expensive and touches no
 * native library: the registry instantiates every provider on the class path, available or not.
 */
public interface BackendProvider {
    /** {@return the backend's name as users spell it: {@code cpu}, {@code opencl}, {@code cuda}} Lower case. */
    String name();

    /**
     * Checks, cheaply (no kernel compilation, well under a second), whether the backend can run here.
     * Must never throw and never crash the JVM: a missing native library, driver or device is reported as
     * {@link Probe#unavailable(String)} with a reason that says what is missing and what to do.
     *
     * @return available, with the devices and rank; or unavailable, with the reason
     */
    Probe probe();

    /**
     * Creates a ready-to-use backend: may compile kernels and run a smoke test.
     *
     * @param options the settings (see {@link BackendOptions})
     * @return the backend, open
     * @throws BackendUnavailableException when the backend cannot run here, with the same kind of reason as
     *                                     {@link #probe()}
     */
    Backend create(BackendOptions options);
}
