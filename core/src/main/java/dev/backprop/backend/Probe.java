package dev.backprop.backend;

import java.util.List;

/**
 * The outcome of {@link BackendProvider#probe()}: whether the backend can run here, on which devices, and
 * if not, exactly why.
 *
 * @param available whether {@link BackendProvider#create} is expected to succeed
 * @param reason    why it is unavailable, phrased for a user (what is missing and what to install);
 *                  a short summary when available
 * @param devices   the devices found (possibly empty when unavailable)
 * @param rank      the automatic-selection rank: higher wins. Use {@link #RANK_GPU} for a GPU,
 *                  {@link #RANK_HOST} for the plain-Java CPU backend and {@link #RANK_EMULATED} for a
 *                  portable runtime on the CPU (OpenCL on PoCL), plus a small tie-breaker
 */
public record Probe(boolean available, String reason, List<DeviceInfo> devices, int rank) {
    /** A GPU: always preferred. CUDA adds 10 so it wins over OpenCL on the same GPU. */
    public static final int RANK_GPU = 300;
    /** The project's own CPU backend. */
    public static final int RANK_HOST = 200;
    /** OpenCL (or similar) on a CPU device: for testing the portable path, not for speed. */
    public static final int RANK_EMULATED = 100;

    /**
     * Copies {@code devices}.
     *
     * @param available whether {@link BackendProvider#create} is expected to succeed
     * @param reason    why it is unavailable, or a short summary when available
     * @param devices   the devices found
     * @param rank      the automatic-selection rank: higher wins
     */
    public Probe {
        devices = List.copyOf(devices);
    }

    /**
     * A backend that can run here.
     *
     * @param summary a short summary for {@code backprop backends}
     * @param devices the devices found
     * @param rank    the automatic-selection rank ({@link #RANK_GPU}, {@link #RANK_HOST}, {@link #RANK_EMULATED}
     *                plus a small tie-breaker)
     * @return the probe's answer
     */
    public static Probe available(String summary, List<DeviceInfo> devices, int rank) {
        return new Probe(true, summary, devices, rank);
    }

    /**
     * A backend that cannot run here.
     *
     * @param reason what is missing and what to install, phrased for a user
     * @return the probe's answer, with no devices and rank 0
     */
    public static Probe unavailable(String reason) {
        return new Probe(false, reason, List.of(), 0);
    }
}
