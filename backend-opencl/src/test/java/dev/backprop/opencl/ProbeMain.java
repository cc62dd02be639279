package dev.backprop.opencl;

import dev.backprop.backend.Probe;

/**
 * Prints the opencl probe of this JVM, for {@link OpenClProviderTest}'s child JVMs that run with a changed
 * OpenCL environment ({@code OCL_ICD_VENDORS}, {@code POCL_DEVICES}): {@code available=...}, {@code rank=...},
 * {@code reason=...}, one per line.
 */
public final class ProbeMain {
    private ProbeMain() {
    }

    public static void main(String[] args) {
        Probe p = new OpenClBackendProvider().probe();
        System.out.println("available=" + p.available());
        System.out.println("rank=" + p.rank());
        System.out.println("reason=" + p.reason());
    }
}
