package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.HostArray;
import dev.backprop.contract.Inputs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.backprop.opencl.FusedRuns.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The multi-tensor SGD and Adam kernels of {@code fused.cl} through the SPI: three steps over 1 to 20 tensors of
 * different lengths (some of one element; more than one launch's {@link OpenClFused#MULTI_TENSORS}) at offsets in
 * shared buffers, bit for bit one {@code sgdUpdate} / {@code adamUpdate} per tensor, with and without momentum (and
 * with both in one call), Nesterov, weight decay and AdamW; nothing outside the tensors is written; mixed dtypes are
 * refused before anything is written.
 */
class OpenClFusedUpdateTest extends OpenClBackendTest {
    private static final int[] COUNTS = {1, 2, 7, 8, 9, 16, 20};
    private static final int GAP = 3;

    /** Tensor lengths: every third one element, the others up to a few work-groups (and one past 10000). */
    private static int[] lengths(int count) {
        Random r = new Random(count);
        int[] n = new int[count];
        for (int i = 0; i < count; i++) {
            n[i] = i % 3 == 1 ? 1 : i == 4 ? 10_007 : 2 + r.nextInt(700);
        }
        return n;
    }

    /** Where tensor i starts in the shared buffers: after the others and a gap each. */
    private static long[] offsets(int[] lengths) {
        long[] at = new long[lengths.length + 1];
        for (int i = 0; i < lengths.length; i++) {
            at[i + 1] = at[i] + lengths[i] + GAP;
        }
        return at;
    }

    @Test
    void sgdUpdateAllEqualsOneUpdatePerTensor() {
        // {momentum, weight decay, nesterov, which tensors have a velocity: 0 none, 1 all, 2 every other}
        double[][] configs = {{0, 0, 0, 0}, {0, 1e-2, 0, 0}, {0.9, 0, 0, 1}, {0.9, 1e-2, 1, 1}, {0.9, 5e-4, 0, 2}};
        for (DType dt : FusedRuns.floatingDtypes(be)) {
            for (int count : COUNTS) {
                int[] n = lengths(count);
                long[] at = offsets(n);
                int size = (int) at[count];
                double[][] in = {Inputs.uniform(count, size, -1, 1, dt), Inputs.uniform(count + 1L, size, -1, 1, dt),
                        Inputs.uniform(count + 2L, size, -1, 1, dt)};
                for (double[] c : configs) {
                    assertSameBits("sgdUpdateAll " + count + " tensors " + Arrays.toString(c), be, dt, in,
                            (b, x) -> {
                                List<Backend.SgdTensor> ts = new ArrayList<>();
                                for (int i = 0; i < count; i++) {
                                    boolean velocity = c[3] == 1 || (c[3] == 2 && i % 2 == 0);
                                    ts.add(new Backend.SgdTensor(n[i], x[0], at[i], x[1], at[i] + 1,
                                            velocity ? x[2] : null, at[i] + 2));
                                }
                                for (int step = 0; step < 3; step++) {
                                    b.sgdUpdateAll(ts, 0.05, c[0], c[1], c[2] == 1);
                                }
                            });
                }
            }
        }
    }

    @Test
    void adamUpdateAllEqualsOneUpdatePerTensor() {
        // {weight decay, decoupled}: Adam, Adam with L2 decay, AdamW
        double[][] configs = {{0, 0}, {1e-2, 0}, {1e-2, 1}};
        for (DType dt : FusedRuns.floatingDtypes(be)) {
            for (int count : COUNTS) {
                int[] n = lengths(count);
                long[] at = offsets(n);
                int size = (int) at[count];
                double[][] in = {Inputs.uniform(count, size, -1, 1, dt), Inputs.uniform(count + 1L, size, -1, 1, dt),
                        Inputs.uniform(count + 2L, size, -0.1, 0.1, dt), Inputs.uniform(count + 3L, size, 0, 0.01,
                        dt)};
                for (double[] c : configs) {
                    assertSameBits("adamUpdateAll " + count + " tensors " + Arrays.toString(c), be, dt, in,
                            (b, x) -> {
                                List<Backend.AdamTensor> ts = new ArrayList<>();
                                for (int i = 0; i < count; i++) {
                                    ts.add(new Backend.AdamTensor(n[i], x[0], at[i], x[1], at[i] + 2, x[2], at[i] + 1,
                                            x[3], at[i] + 3));
                                }
                                for (long step = 1; step <= 3; step++) {
                                    b.adamUpdateAll(ts, 1e-3, 0.9, 0.999, 1e-8, c[0], c[1] == 1, step);
                                }
                            });
                }
            }
        }
    }

    @Test
    void mixedDtypesAreRefusedBeforeAnythingIsWritten() {
        Buffer p = be.allocate(DType.FLOAT32, 4), g = be.allocate(DType.FLOAT32, 4), q = be.allocate(DType.INT32, 4);
        try {
            be.fill(p, 0, 4, 1);
            be.fill(g, 0, 4, 1);
            be.fill(q, 0, 4, 1);
            List<Backend.SgdTensor> ts = List.of(new Backend.SgdTensor(4, p, 0, g, 0, null, 0),
                    new Backend.SgdTensor(4, q, 0, q, 0, null, 0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> be.sgdUpdateAll(ts, 0.1, 0, 0, false));
            assertTrue(e.getMessage().contains("FLOAT32") && e.getMessage().contains("INT32"), e.getMessage());
            List<Backend.AdamTensor> as = List.of(new Backend.AdamTensor(4, p, 0, g, 0, p, 0, q, 0));
            e = assertThrows(IllegalArgumentException.class,
                    () -> be.adamUpdateAll(as, 0.1, 0.9, 0.999, 1e-8, 0, false, 1));
            assertTrue(e.getMessage().contains("adamUpdateAll"), e.getMessage());
            assertArrayEquals(new double[] {1, 1, 1, 1}, FusedRuns.get(be, p));
            int[] ints = new int[4];
            be.download(q, 0, HostArray.of(ints, 0, 4));
            assertArrayEquals(new int[] {1, 1, 1, 1}, ints);
        } finally {
            for (Buffer b : new Buffer[] {p, g, q}) {
                be.release(b);
            }
        }
    }
}
