package dev.backprop.cpu;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.util.Arrays;
import java.util.Map;

/**
 * Run by {@link KeptPanelsLifecycleTest} in a JVM whose heap holds a dense layer's weights but not a second copy:
 * with the panels' bound set past the heap, the second product's panels cannot be allocated. Prints whether both
 * products agree bit for bit, whether keeping was refused, the bytes kept, and whether the refusal held for later
 * reads.
 */
public final class OutOfHeapPanelsMain {
    /** Rows and depth of the weights: 32 MiB of FLOAT32. */
    static final int N = 2048;
    static final int K = 4096;

    private OutOfHeapPanelsMain() {
    }

    public static void main(String[] args) {
        try (CpuBackend be = new CpuBackend(BackendOptions.of(Map.of("threads", "1", "gemm.keep.limit", "1000000")))) {
            Buffer w = be.allocate(DType.FLOAT32, (long) N * K);
            be.fill(w, 0, (long) N * K, 0.5);
            float[] a = new float[K];
            for (int i = 0; i < K; i++) {
                a[i] = (i % 17 - 8) / 8f;
            }
            Buffer x = be.allocate(DType.FLOAT32, K), c = be.allocate(DType.FLOAT32, N);
            be.upload(a, 0, x, 0, K);
            float[] first = product(be, x, w, c), second = product(be, x, w, c);
            PackedPanels p = ((CpuBuffer) w).panels();
            System.out.println("equal=" + Arrays.equals(first, second));
            System.out.println("refused=" + (p != null && p.refused()));
            System.out.println("kept=" + be.panelBudget().keptBytes());
            float[] third = product(be, x, w, c);
            System.out.println("still refused=" + (((CpuBuffer) w).panels() == p) + " " + Arrays.equals(first, third));
        }
    }

    private static float[] product(CpuBackend be, Buffer x, Buffer w, Buffer c) {
        be.gemm(false, true, 1, N, K, 1, x, 0, K, w, 0, K, 0, c, 0, N, 1, 0, 0, 0);
        float[] out = new float[N];
        be.download(c, 0, out, 0, N);
        return out;
    }
}
