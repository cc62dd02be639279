package dev.backprop.cuda;

import dev.backprop.backend.Broadcast;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.cuda.CudaLaunch.Shape;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java half of the fused kernels, without a GPU: {@link CudaFused} launching into a recorder that checks each
 * argument list against the kernel's parameters, the multi-tensor table it uploads (words, reuse, re-upload), and
 * the launch counter over the kernels of a small MLP's training step with and without fusion. What the kernels
 * compute is {@link KernelEmulationTest}'s part (where each fused kernel is also compared bit for bit with the
 * launches it replaces).
 */
class CudaFusedLaunchTest {
    private static final int MAX_BLOCKS = CudaLaunch.maxBlocks(4);

    private record Upload(int[] words, long address) {
    }

    private final LaunchRecorder recorder = new LaunchRecorder(MAX_BLOCKS);
    private final MemoryPool<CUdeviceptr> pool = recorder.pool;
    private final List<LaunchRecorder.Launch> launches = recorder.launches;
    private final CudaLaunch launch = recorder.launch;
    private final List<Upload> uploads = new ArrayList<>();
    private final CudaFused fused = new CudaFused(launch, pool,
            (words, dst) -> uploads.add(new Upload(words.clone(), LaunchRecorder.address(dst))));

    private CudaBuffer buffer(DType dtype, long elements) {
        return recorder.buffer(dtype, elements);
    }

    private static long at(CudaBuffer b, long offset) {
        return LaunchRecorder.at(b, offset);
    }

    private List<Object> resolved(int index) {
        return launches.get(index).resolved();
    }

    @Test
    void biasActivationIsOneElementwiseLaunchAtTheOffsets() {
        CudaBuffer z = buffer(DType.FLOAT32, 3 * 70 + 2), b = buffer(DType.FLOAT32, 71);
        fused.biasActivation(UnaryOp.TANH, 3, 70, z, 2, b, 1, z, 2);
        assertEquals(1, launches.size());
        assertEquals(CudaKernel.BIAS_ACT_F32, launches.get(0).kernel());
        assertEquals(Shape.elementwise(210, MAX_BLOCKS), launches.get(0).shape());
        assertEquals(List.of(CudaOpCodes.unary(UnaryOp.TANH), 3, 70, at(z, 2), at(b, 1), at(z, 2)), resolved(0));
    }

    @Test
    void anActivationWithoutAnOutputDerivativeIsRefused() {
        CudaBuffer z = buffer(DType.FLOAT64, 6), b = buffer(DType.FLOAT64, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fused.biasActivation(UnaryOp.EXP, 2, 3, z, 0, b, 0, z, 0));
        assertTrue(e.getMessage().contains("EXP"), e.getMessage());
        assertEquals(0, launches.size(), "nothing launched");
    }

    @Test
    void backwardOfABatchInOneChunkIsOneLaunchWritingTheBiasGradient() {
        int rows = CudaReductions.MIN_ROWS_PER_CHUNK, cols = 40;
        CudaBuffer y = buffer(DType.FLOAT32, rows * cols), g = buffer(DType.FLOAT32, rows * cols);
        CudaBuffer db = buffer(DType.FLOAT32, cols + 1);
        fused.biasActivationBackward(UnaryOp.RELU, rows, cols, y, 0, g, 0, g, 0, db, 1);
        assertEquals(1, launches.size());
        assertEquals(CudaReductions.columnPasses(rows, cols)[0], launches.get(0).shape());
        assertEquals(List.of(CudaOpCodes.unary(UnaryOp.RELU), rows, cols, CudaReductions.rowsPerChunk(rows), at(y, 0),
                at(g, 0), at(g, 0), at(db, 1)), resolved(0));
    }

    @Test
    void backwardOfATallBatchSumsChunksThenFinishesWithReduceCols() {
        int rows = 600, cols = 10;
        CudaBuffer y = buffer(DType.FLOAT64, rows * cols), g = buffer(DType.FLOAT64, rows * cols);
        CudaBuffer dz = buffer(DType.FLOAT64, rows * cols), db = buffer(DType.FLOAT64, cols);
        int live = pool.liveCount();
        fused.biasActivationBackward(UnaryOp.SIGMOID, rows, cols, y, 0, g, 0, dz, 0, db, 0);
        Shape[] passes = CudaReductions.columnPasses(rows, cols);
        int chunks = passes[0].gridY();
        assertEquals(2, launches.size());
        assertEquals(CudaKernel.BIAS_ACT_BACKWARD_F64, launches.get(0).kernel());
        assertEquals(CudaKernel.REDUCE_COLS_F64, launches.get(1).kernel());
        long scratch = resolved(0).get(7) instanceof Long l ? l : -1;
        assertEquals(List.of(CudaOpCodes.reduce(ReduceOp.SUM), chunks, cols, chunks, scratch, at(db, 0),
                (double) rows), resolved(1));
        assertEquals(live, pool.liveCount(), "the scratch block went back to the pool");
    }

    @Test
    void sgdOverEveryTensorIsOneLaunchReadingATableUploadedOnce() {
        CudaBuffer w = buffer(DType.FLOAT32, 1000), gw = buffer(DType.FLOAT32, 1000), vw = buffer(DType.FLOAT32, 1000);
        CudaBuffer b = buffer(DType.FLOAT32, 10), gb = buffer(DType.FLOAT32, 10);
        List<CudaFused.SgdTensor> tensors = List.of(new CudaFused.SgdTensor(1000, w, 0, gw, 0, vw, 0),
                new CudaFused.SgdTensor(7, b, 3, gb, 3, null, 0));
        fused.sgdUpdateAll(tensors, 0.1, 0.9, 0.0, false);
        fused.sgdUpdateAll(tensors, 0.1, 0.9, 0.0, false);
        assertEquals(2, launches.size());
        assertEquals(1, uploads.size(), "the same tensors reuse the table");
        long[] words = longs(uploads.get(0).words());
        assertArrayEquals(new long[] {at(w, 0), at(gw, 0), at(vw, 0), 1000, at(b, 3), at(gb, 3), 0, 7}, words);
        assertEquals(CudaFused.multiShape(1000, 2, MAX_BLOCKS), launches.get(0).shape());
        assertEquals(new Shape(CudaLaunch.blocksFor(1000, MAX_BLOCKS), 2, CudaLaunch.BLOCK, 1),
                launches.get(0).shape());
        assertEquals(List.of(2, uploads.get(0).address(), 0.1, 0.9, 0.0, 0), resolved(0));
    }

    @Test
    void adamTableIsUploadedAgainWhenAPointerChangesAndTheOldOneFreed() {
        CudaBuffer p = buffer(DType.FLOAT64, 5), g = buffer(DType.FLOAT64, 5), m = buffer(DType.FLOAT64, 5);
        CudaBuffer v = buffer(DType.FLOAT64, 5), v2 = buffer(DType.FLOAT64, 5);
        int live = pool.liveCount();
        fused.adamUpdateAll(List.of(new CudaFused.AdamTensor(5, p, 0, g, 0, m, 0, v, 0)), 1e-3, 0.9, 0.999, 1e-8, 0,
                false, 1);
        fused.adamUpdateAll(List.of(new CudaFused.AdamTensor(5, p, 0, g, 0, m, 0, v2, 0)), 1e-3, 0.9, 0.999, 1e-8, 0,
                true, 2);
        assertEquals(2, uploads.size());
        assertNotEquals(uploads.get(0).address(), uploads.get(1).address(), "a new block while the old may be read");
        assertEquals(at(v2, 0), longs(uploads.get(1).words())[3]);
        assertEquals(live + 1, pool.liveCount(), "only the current table is held");
        assertEquals(List.of(1, uploads.get(1).address(), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, 1 - Math.pow(0.9, 2),
                1 - Math.pow(0.999, 2)), resolved(1));
        fused.close();
        assertEquals(live, pool.liveCount(), "close returns the table");
    }

    @Test
    void mixedDtypesAreRefusedBeforeAnyLaunch() {
        CudaBuffer a = buffer(DType.FLOAT32, 4), b = buffer(DType.FLOAT64, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fused.sgdUpdateAll(List.of(
                new CudaFused.SgdTensor(4, a, 0, a, 0, null, 0), new CudaFused.SgdTensor(4, b, 0, b, 0, null, 0)),
                0.1, 0, 0, false));
        assertTrue(e.getMessage().contains("[FLOAT32, FLOAT64]"), e.getMessage());
        assertEquals(0, launches.size() + uploads.size());
    }

    /**
     * The kernels of a 784-64-10 MLP step (ReLU, SGD, batch 128) that fusion replaces, issued the way core's linear
     * op, activation and optimizer issue them, and the fused ones, counted by the launch counter. GEMMs (cuBLAS),
     * the batch gather and the loss are the same in both and are not issued here.
     */
    @Test
    void aSmallMlpStepNeedsHalfTheKernelsFused() {
        int batch = 128;
        int[] widths = {784, 64, 10};
        List<CudaBuffer[]> layers = new ArrayList<>(); // z, bias, weight, dW, dbias per layer
        for (int l = 0; l + 1 < widths.length; l++) {
            int out = widths[l + 1];
            layers.add(new CudaBuffer[] {buffer(DType.FLOAT32, (long) batch * out), buffer(DType.FLOAT32, out),
                    buffer(DType.FLOAT32, (long) out * widths[l]), buffer(DType.FLOAT32, (long) out * widths[l]),
                    buffer(DType.FLOAT32, out), buffer(DType.FLOAT32, (long) batch * out)});
        }
        CudaElementwise elementwise = new CudaElementwise(launch);
        CudaReductions reductions = new CudaReductions(launch, pool);
        CudaUpdates updates = new CudaUpdates(launch);

        long before = launch.launches();
        for (int l = 0; l < layers.size(); l++) {
            CudaBuffer[] t = layers.get(l);
            int out = widths[l + 1];
            elementwise.binary(BinaryOp.ADD, batch, out, t[0], 0, Broadcast.FULL, t[1], 0, Broadcast.ROW, t[0], 0);
            if (l + 1 < layers.size()) {
                elementwise.unary(UnaryOp.RELU, 0, 0, t[0], 0, t[5], 0, (long) batch * out);
            }
        }
        for (int l = layers.size() - 1; l >= 0; l--) {
            CudaBuffer[] t = layers.get(l);
            int out = widths[l + 1];
            if (l + 1 < layers.size()) {
                elementwise.unaryBackward(UnaryOp.RELU, 0, 0, t[0], 0, t[5], 0, t[5], 0, (long) batch * out);
            }
            reductions.reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, batch, out, t[5], 0, t[4], 0);
        }
        for (CudaBuffer[] t : layers) {
            updates.sgdUpdate(t[2].size(), t[2], 0, t[3], 0, null, 0, 0.1, 0, 0, false);
            updates.sgdUpdate(t[1].size(), t[1], 0, t[4], 0, null, 0, 0.1, 0, 0, false);
        }
        long unfused = launch.launches() - before;

        before = launch.launches();
        List<CudaFused.SgdTensor> params = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            CudaBuffer[] t = layers.get(l);
            UnaryOp act = l + 1 < layers.size() ? UnaryOp.RELU : UnaryOp.IDENTITY;
            fused.biasActivation(act, batch, widths[l + 1], t[0], 0, t[1], 0, t[5], 0);
            params.add(new CudaFused.SgdTensor(t[2].size(), t[2], 0, t[3], 0, null, 0));
            params.add(new CudaFused.SgdTensor(t[1].size(), t[1], 0, t[4], 0, null, 0));
        }
        for (int l = layers.size() - 1; l >= 0; l--) {
            CudaBuffer[] t = layers.get(l);
            UnaryOp act = l + 1 < layers.size() ? UnaryOp.RELU : UnaryOp.IDENTITY;
            fused.biasActivationBackward(act, batch, widths[l + 1], t[5], 0, t[5], 0, t[5], 0, t[4], 0);
        }
        fused.sgdUpdateAll(params, 0.1, 0, 0, false);
        long fusedCount = launch.launches() - before;

        assertEquals(2 + 1 + 2 + 1 + 4, unfused, "bias adds, ReLU, ReLU backward, bias sums, 4 updates");
        assertEquals(2 + 2 + 1, fusedCount, "2 bias+activation, 2 backward with bias sums, 1 update");
        assertEquals(launches.size(), launch.launches(), "the counter counts every launch");
    }

    private static long[] longs(int[] halves) {
        long[] w = new long[halves.length / 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (halves[2 * i] & 0xffff_ffffL) | ((long) halves[2 * i + 1] << 32);
        }
        return w;
    }
}
