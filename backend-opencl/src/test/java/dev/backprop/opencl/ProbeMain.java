package dev.backprop.opencl;

import dev.backprop.backend.Probe;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

/**
 * Prints the opencl probe of this JVM, for {@link OpenClProviderTest}'s child JVMs that run with a changed
 * OpenCL environment ({@code OCL_ICD_VENDORS}, {@code POCL_DEVICES}): {@code available=...}, {@code rank=...},
 * {@code reason=...}, one per line. With the argument {@code threads=N}, N threads make this JVM's first OpenCL
 * calls at the same moment (as Spark's local ranks do) and it prints the first thread's probe plus
 * {@code agree=true|false}: whether every thread saw the same probe.
 */
public final class ProbeMain {
    private ProbeMain() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 && args[0].startsWith("threads=")
                ? Integer.parseInt(args[0].substring("threads=".length())) : 1;
        Probe[] probes = new Probe[threads];
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> running = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int slot = i;
            Thread t = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                probes[slot] = new OpenClBackendProvider().probe();
            });
            t.start();
            running.add(t);
        }
        for (Thread t : running) {
            t.join();
        }
        boolean agree = true;
        for (Probe p : probes) {
            agree &= p != null && p.available() == probes[0].available() && p.reason().equals(probes[0].reason());
        }
        System.out.println("available=" + probes[0].available());
        System.out.println("rank=" + probes[0].rank());
        System.out.println("reason=" + probes[0].reason());
        System.out.println("agree=" + agree);
    }
}
