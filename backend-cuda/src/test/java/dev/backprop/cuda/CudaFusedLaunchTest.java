package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.cuda.CudaLaunch.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused ops through the {@link Backend} SPI without a GPU: the cuda families on core's skeleton with their work
 * recorded ({@link RecordingBackend}), so each call goes through the skeleton's checks and casts into
 * {@link CudaFused}, whose launches are checked against the kernels' parameters; the multi-tensor table (words,
 * reuse, re-upload); and the launch count of a small MLP's training step through the SPI's defaults and through the
 * fused kernels. What the kernels compute is {@link KernelEmulationTest}'s part (where each fused kernel is also
 * compared bit for bit with the launches it replaces).
 */
class CudaFusedLaunchTest {
    private static final int MAX_BLOCKS = CudaLaunch.maxBlocks(4);

    private final RecordingBackend backend = new RecordingBackend(MAX_BLOCKS, true);

    @AfterEach
    void close() {
        backend.close();
    }

    private static Buffer buffer(Backend on, DType dtype, long elements) {
        return on.allocate(dtype, elements);
    }

    private Buffer buffer(DType dtype, long elements) {
        return buffer(backend, dtype, elements);
    }

    private static long at(Buffer b, long offset) {
        return LaunchRecorder.at((CudaBuffer) b, offset);
    }

    private List<LaunchRecorder.Launch> launches() {
        return backend.launches();
    }

    private List<Object> resolved(int index) {
        return launches().get(index).resolved();
    }

    /** The table uploads logged so far: (address, 32-bit halves). */
    private List<RecordingBackend.Call> tables() {
        return backend.log.stream().filter(e -> e instanceof RecordingBackend.Call c && c.op().equals("table"))
                .map(e -> (RecordingBackend.Call) e).toList();
    }

    private static long[] words(RecordingBackend.Call table) {
        @SuppressWarnings("unchecked")
        List<Integer> halves = (List<Integer>) table.args().get(1);
        long[] w = new long[halves.size() / 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (halves.get(2 * i) & 0xffff_ffffL) | ((long) halves.get(2 * i + 1) << 32);
        }
        return w;
    }

    private long liveBuffers() {
        return backend.memoryStats().liveBuffers();
    }

    @Test
    void biasActivationIsOneElementwiseLaunchAtTheOffsets() {
        Buffer z = buffer(DType.FLOAT32, 3 * 70 + 2), b = buffer(DType.FLOAT32, 71);
        backend.biasActivation(UnaryOp.TANH, 3, 70, z, 2, b, 1, z, 2);
        assertEquals(1, launches().size());
        assertEquals(CudaKernel.BIAS_ACT_F32, launches().get(0).kernel());
        assertEquals(Shape.elementwise(210, MAX_BLOCKS), launches().get(0).shape());
        assertEquals(List.of(CudaOpCodes.unary(UnaryOp.TANH), 3, 70, at(z, 2), at(b, 1), at(z, 2)), resolved(0));
    }

    @Test
    void anActivationWithoutAnOutputDerivativeIsRefusedFusedOrNot() {
        try (RecordingBackend unfused = new RecordingBackend(MAX_BLOCKS, false)) {
            for (RecordingBackend on : List.of(backend, unfused)) {
                Buffer z = buffer(on, DType.FLOAT64, 6), b = buffer(on, DType.FLOAT64, 3);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> on.biasActivation(UnaryOp.EXP, 2, 3, z, 0, b, 0, z, 0));
                assertTrue(e.getMessage().contains("EXP"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class,
                        () -> on.biasActivationBackward(UnaryOp.LOG, 2, 3, z, 0, z, 0, z, 0, b, 0));
                assertTrue(e.getMessage().contains("LOG"), e.getMessage());
                assertEquals(List.of(), on.log, "nothing queued");
            }
        }
    }

    @Test
    void backwardOfABatchInOneChunkIsOneLaunchWritingTheBiasGradient() {
        int rows = CudaReductions.MIN_ROWS_PER_CHUNK, cols = 40;
        Buffer y = buffer(DType.FLOAT32, rows * cols), g = buffer(DType.FLOAT32, rows * cols);
        Buffer db = buffer(DType.FLOAT32, cols + 1);
        backend.biasActivationBackward(UnaryOp.RELU, rows, cols, y, 0, g, 0, g, 0, db, 1);
        assertEquals(1, launches().size());
        assertEquals(CudaReductions.columnPasses(rows, cols)[0], launches().get(0).shape());
        assertEquals(List.of(CudaOpCodes.unary(UnaryOp.RELU), rows, cols, CudaReductions.rowsPerChunk(rows), at(y, 0),
                at(g, 0), at(g, 0), at(db, 1)), resolved(0));
    }

    @Test
    void backwardOfATallBatchSumsChunksThenFinishesWithReduceCols() {
        int rows = 600, cols = 10;
        Buffer y = buffer(DType.FLOAT64, rows * cols), g = buffer(DType.FLOAT64, rows * cols);
        Buffer dz = buffer(DType.FLOAT64, rows * cols), db = buffer(DType.FLOAT64, cols);
        long live = liveBuffers();
        backend.biasActivationBackward(UnaryOp.SIGMOID, rows, cols, y, 0, g, 0, dz, 0, db, 0);
        Shape[] passes = CudaReductions.columnPasses(rows, cols);
        int chunks = passes[0].gridY();
        assertEquals(2, launches().size());
        assertEquals(CudaKernel.BIAS_ACT_BACKWARD_F64, launches().get(0).kernel());
        assertEquals(CudaKernel.REDUCE_COLS_F64, launches().get(1).kernel());
        long scratch = resolved(0).get(7) instanceof Long l ? l : -1;
        assertEquals(List.of(CudaOpCodes.reduce(ReduceOp.SUM), chunks, cols, chunks, scratch, at(db, 0),
                (double) rows), resolved(1));
        assertEquals(live, liveBuffers(), "the scratch block went back to the pool");
    }

    @Test
    void sgdOverEveryTensorIsOneLaunchReadingATableUploadedOnce() {
        Buffer w = buffer(DType.FLOAT32, 1000), gw = buffer(DType.FLOAT32, 1000), vw = buffer(DType.FLOAT32, 1000);
        Buffer b = buffer(DType.FLOAT32, 10), gb = buffer(DType.FLOAT32, 10);
        List<Backend.SgdTensor> tensors = List.of(new Backend.SgdTensor(1000, w, 0, gw, 0, vw, 0),
                new Backend.SgdTensor(7, b, 3, gb, 3, null, 0), new Backend.SgdTensor(0, b, 0, gb, 0, null, 0));
        backend.sgdUpdateAll(tensors, 0.1, 0.9, 0.0, false);
        backend.sgdUpdateAll(tensors, 0.1, 0.9, 0.0, false);
        assertEquals(2, launches().size());
        assertEquals(1, tables().size(), "the same tensors reuse the table");
        assertArrayEquals(new long[] {at(w, 0), at(gw, 0), at(vw, 0), 1000, at(b, 3), at(gb, 3), 0, 7},
                words(tables().get(0)), "the empty tensor is left out");
        assertEquals(new Shape(CudaLaunch.blocksFor(1000, MAX_BLOCKS), 2, CudaLaunch.BLOCK, 1),
                launches().get(0).shape());
        assertEquals(List.of(2, tables().get(0).args().get(0), 0.1, 0.9, 0.0, 0), resolved(0));
    }

    @Test
    void adamTableIsUploadedAgainWhenAPointerChangesAndTheOldOneFreed() {
        Buffer p = buffer(DType.FLOAT64, 5), g = buffer(DType.FLOAT64, 5), m = buffer(DType.FLOAT64, 5);
        Buffer v = buffer(DType.FLOAT64, 5), v2 = buffer(DType.FLOAT64, 5);
        long live = liveBuffers();
        backend.adamUpdateAll(List.of(new Backend.AdamTensor(5, p, 0, g, 0, m, 0, v, 0)), 1e-3, 0.9, 0.999, 1e-8, 0,
                false, 1);
        backend.adamUpdateAll(List.of(new Backend.AdamTensor(5, p, 0, g, 0, m, 0, v2, 0)), 1e-3, 0.9, 0.999, 1e-8, 0,
                true, 2);
        assertEquals(2, tables().size());
        assertNotEquals(tables().get(0).args().get(0), tables().get(1).args().get(0),
                "a new block while the old may be read");
        assertEquals(at(v2, 0), words(tables().get(1))[3]);
        assertEquals(live + 1, liveBuffers(), "only the current table is held");
        assertEquals(List.of(1, tables().get(1).args().get(0), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, 1 - Math.pow(0.9, 2),
                1 - Math.pow(0.999, 2)), resolved(1));
    }

    @Test
    void mixedDtypesAreRefusedBeforeAnyLaunch() {
        Buffer a = buffer(DType.FLOAT32, 4), b = buffer(DType.FLOAT64, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.sgdUpdateAll(List.of(
                new Backend.SgdTensor(4, a, 0, a, 0, null, 0), new Backend.SgdTensor(4, b, 0, b, 0, null, 0)),
                0.1, 0, 0, false));
        assertTrue(e.getMessage().contains("[FLOAT32, FLOAT64]"), e.getMessage());
        assertEquals(List.of(), backend.log);
    }

    /**
     * The kernels of a 784-64-10 MLP step (ReLU, SGD, batch 128) that fusion replaces, issued through the SPI as core
     * issues them, once on the SPI's defaults and once on {@link CudaFused}, counted by the launch counter. GEMMs
     * (cuBLAS), the batch gather and the loss are the same in both and are not issued here.
     */
    @Test
    void aSmallMlpStepNeedsLessThanHalfTheKernelsFused() {
        long unfused;
        try (RecordingBackend defaults = new RecordingBackend(MAX_BLOCKS, false)) {
            unfused = mlpStepLaunches(defaults);
        }
        long fused = mlpStepLaunches(backend);
        assertEquals(2 + 2 + 1 + 2 + 4, unfused, "2 bias adds, 2 activations, ReLU backward, 2 bias sums, "
                + "4 updates");
        assertEquals(2 + 2 + 1, fused, "2 bias+activation, 2 backward with bias sums, 1 update");
    }

    private static long mlpStepLaunches(RecordingBackend on) {
        int batch = 128;
        int[] widths = {784, 64, 10};
        List<Buffer[]> layers = new ArrayList<>(); // z, bias, weight, dW, dbias, y per layer
        for (int l = 0; l + 1 < widths.length; l++) {
            int out = widths[l + 1];
            layers.add(new Buffer[] {buffer(on, DType.FLOAT32, (long) batch * out), buffer(on, DType.FLOAT32, out),
                    buffer(on, DType.FLOAT32, (long) out * widths[l]),
                    buffer(on, DType.FLOAT32, (long) out * widths[l]),
                    buffer(on, DType.FLOAT32, out), buffer(on, DType.FLOAT32, (long) batch * out)});
        }
        long before = on.kernelLaunches();
        List<Backend.SgdTensor> params = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            Buffer[] t = layers.get(l);
            on.biasActivation(activation(l, layers.size()), batch, widths[l + 1], t[0], 0, t[1], 0, t[5], 0);
            params.add(new Backend.SgdTensor(t[2].size(), t[2], 0, t[3], 0, null, 0));
            params.add(new Backend.SgdTensor(t[1].size(), t[1], 0, t[4], 0, null, 0));
        }
        for (int l = layers.size() - 1; l >= 0; l--) {
            Buffer[] t = layers.get(l);
            on.biasActivationBackward(activation(l, layers.size()), batch, widths[l + 1], t[5], 0, t[5], 0, t[5], 0,
                    t[4], 0);
        }
        on.sgdUpdateAll(params, 0.1, 0, 0, false);
        assertEquals(on.launches().size(), on.kernelLaunches(), "the counter counts every launch");
        return on.kernelLaunches() - before;
    }

    private static UnaryOp activation(int layer, int layers) {
        return layer + 1 < layers ? UnaryOp.RELU : UnaryOp.IDENTITY;
    }
}
