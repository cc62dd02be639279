package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When {@link PackedPanels} are kept, refused and dropped: the bytes bound ({@link PanelBudget}), reads that must not
 * drop them, the reads a written buffer needs before it packs again, and release. Every product is checked bit for
 * bit against a backend that never keeps panels.
 */
class KeptPanelsLifecycleTest {
    private static final int N = 256;
    private static final int K = 784;
    /** Bytes of one {@code N × K} FLOAT32 weight's panels ({@code N} is a whole number of tiles). */
    private static final long PANEL_BYTES = (long) N * K * Float.BYTES;

    @Test
    void panelsPastTheLimitAreRefusedUntilTheBufferIsWritten() {
        try (CpuBackend keep = CpuTesting.backend(true, 2, "gemm.keep.limit", "1");
             CpuBackend pack = CpuTesting.backend(true, 2, "gemm.keep", "false")) {
            Pair first = new Pair(keep, pack, 8, 100), second = new Pair(keep, pack, 8, 200);
            first.productTwice();
            assertTrue(first.state().packed(), "the first weight's panels fit 1 MiB");
            second.productTwice();
            assertTrue(second.state().refused(), "a second weight's panels would pass 1 MiB: " + second.state());
            assertEquals(PANEL_BYTES, keep.panelBudget().keptBytes());
            first.release();
            assertEquals(0, keep.panelBudget().keptBytes(), "release gives the panels' bytes back");
            for (int i = 0; i < PackedPanels.READS_AFTER_WRITE; i++) {
                second.product();
                assertTrue(second.state().refused(), "a refused buffer is not tried again before it is written");
            }
            second.fill(0.25);
            for (int i = 1; i < PackedPanels.READS_AFTER_WRITE; i++) {
                second.product();
                assertFalse(second.state().packed(), "a written buffer waits for its reads in a row, read " + i);
            }
            second.product();
            assertTrue(second.state().packed(), "the budget has room again: " + second.state());
            assertEquals(PANEL_BYTES, keep.panelBudget().keptBytes());
            second.release();
        }
    }

    /** Panels the heap cannot hold: the product runs as without them, and the buffer is not tried again. */
    @Test
    void panelsTheHeapCannotHoldAreRefused() throws Exception {
        String out = ChildJvm.run(OutOfHeapPanelsMain.class, List.of("-Xmx48m", "--add-modules",
                "jdk.incubator.vector"), List.of()).succeeded().get("output");
        List<String> lines = out.lines().toList();
        for (String want : new String[] {"equal=true", "refused=true", "kept=0", "still refused=true true"}) {
            assertTrue(lines.contains(want), () -> "no '" + want + "' in:\n" + out);
        }
    }

    @Test
    void aZeroLimitKeepsNothingAndANegativeOneIsNamed() {
        try (CpuBackend keep = CpuTesting.backend(true, 1, "gemm.keep.limit", "0");
             CpuBackend pack = CpuTesting.backend(true, 1, "gemm.keep", "false")) {
            Pair w = new Pair(keep, pack, 1, 300);
            w.productTwice();
            w.product();
            assertTrue(w.state().refused());
            assertEquals(0, keep.panelBudget().keptBytes());
            w.release();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuTesting.backend(true, 1, "gemm.keep.limit", "-3").close());
        assertEquals("backprop.cpu.gemm.keep.limit must be at least 0 MiB, got -3 MiB", e.getMessage());
    }

    /** Downloads, copies and transposes only read B: its panels stay; a copy onto B itself drops them. */
    @Test
    void readingBKeepsItsPanelsAndACopyOntoItselfDropsThem() {
        try (CpuBackend keep = CpuTesting.backend(true, 2); CpuBackend pack = CpuTesting.backend(true, 2,
                "gemm.keep", "false")) {
            Pair w = new Pair(keep, pack, 8, 400);
            w.productTwice();
            assertTrue(w.state().packed());
            for (CpuBackend b : new CpuBackend[] {keep, pack}) {
                Buffer wb = b == keep ? w.kept : w.plain;
                CpuTesting.download(b, wb);
                Buffer other = b.allocate(DType.FLOAT32, (long) N * K);
                b.copy(wb, 0, other, 0, (long) N * K);
                b.copyStrided(new int[] {1, 1, K, N}, wb, 0, new long[] {0, 0, 1, K}, other, 0);
                b.release(other);
            }
            assertTrue(w.state().packed(), "download, copy or transpose of B dropped its panels");
            w.product();
            keep.copy(w.kept, 0, w.kept, K, K);
            pack.copy(w.plain, 0, w.plain, K, K);
            assertFalse(w.keptPanels(), "a copy onto B kept stale panels");
            w.productTwice();
            w.release();
        }
    }

    /**
     * A weight read twice per training step (a tied layer) must not pack a copy on each step only to drop it at the
     * update; after training, a run of reads keeps panels again.
     */
    @Test
    void aWeightReadTwicePerStepDoesNotPackEveryStep() {
        try (CpuBackend keep = CpuTesting.backend(true, 2); CpuBackend pack = CpuTesting.backend(true, 2,
                "gemm.keep", "false")) {
            Pair w = new Pair(keep, pack, 8, 500);
            w.productTwice();
            assertTrue(w.state().packed(), "a weight never written since its upload keeps panels on its second read");
            for (int step = 0; step < 5; step++) {
                w.fill(0.01 * step);
                w.productTwice();
                assertFalse(w.state().packed(), "step " + step + " packed a copy to drop at its update");
                assertEquals(0, keep.panelBudget().keptBytes());
            }
            for (int i = 2; i < PackedPanels.READS_AFTER_WRITE; i++) {
                w.product();
            }
            assertTrue(w.state().packed(), "reads in a row after training keep panels again");
            w.release();
            assertEquals(0, keep.panelBudget().keptBytes());
        }
    }

    /** The same seeded A and W on a backend keeping panels and on one that never does; C compared bit for bit. */
    private static final class Pair {
        final CpuBackend keep;
        final CpuBackend pack;
        final int m;
        final double[] a;
        final Buffer kept;
        final Buffer plain;

        Pair(CpuBackend keep, CpuBackend pack, int m, long seed) {
            this.keep = keep;
            this.pack = pack;
            this.m = m;
            this.a = CpuTesting.random(seed, m * K, -1, 1, DType.FLOAT32);
            double[] w = CpuTesting.random(seed + 1, N * K, -1, 1, DType.FLOAT32);
            this.kept = CpuTesting.upload(keep, DType.FLOAT32, w);
            this.plain = CpuTesting.upload(pack, DType.FLOAT32, w);
        }

        void product() {
            double[] want = product(pack, plain), got = product(keep, kept);
            for (int i = 0; i < want.length; i++) {
                int at = i;
                assertEquals(Double.doubleToRawLongBits(want[i]), Double.doubleToRawLongBits(got[i]),
                        () -> "C[" + at + "] " + got[at] + " instead of " + want[at]);
            }
        }

        void productTwice() {
            product();
            product();
        }

        /** The panels' state on the keeping backend (a mark when none). */
        PackedPanels state() {
            PackedPanels p = ((CpuBuffer) kept).panels();
            assertTrue(p != null, "no mark of a read on B");
            return p;
        }

        boolean keptPanels() {
            PackedPanels p = ((CpuBuffer) kept).panels();
            return p != null && p.packed();
        }

        /** Writes W on both backends, as an update does. */
        void fill(double value) {
            keep.fill(kept, 0, (long) N * K, value);
            pack.fill(plain, 0, (long) N * K, value);
        }

        void release() {
            keep.release(kept);
            pack.release(plain);
        }

        private double[] product(CpuBackend b, Buffer w) {
            Buffer ab = CpuTesting.upload(b, DType.FLOAT32, a), c = b.allocate(DType.FLOAT32, (long) m * N);
            b.gemm(false, true, m, N, K, 1, ab, 0, K, w, 0, K, 0, c, 0, N, 1, 0, 0, 0);
            double[] out = CpuTesting.download(b, c);
            b.release(ab);
            b.release(c);
            return out;
        }
    }
}
