package dev.backprop.cuda;

import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.Probe;

/**
 * Prints what the cuda provider's probe finds (availability, reason, devices with compute capability,
 * memory, driver, runtime and cuBLAS). Run first by {@code gpu-verify.sh}; exits with status 1 when the
 * backend is unavailable, so the script stops with the reason.
 */
public final class CudaProbeMain {
    private CudaProbeMain() {
    }

    /** Probes and prints. */
    public static void main(String[] args) {
        Probe probe = new CudaBackendProvider().probe();
        System.out.println("cuda available: " + probe.available());
        System.out.println("cuda " + (probe.available() ? "summary" : "reason") + ": " + probe.reason());
        for (DeviceInfo d : probe.devices()) {
            System.out.println("  device: " + d.describe());
        }
        if (!probe.available()) {
            System.exit(1);
        }
    }
}
