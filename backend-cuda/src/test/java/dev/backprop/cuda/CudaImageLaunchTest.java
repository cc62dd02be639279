package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.Window2d;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.cuda.CudaLaunch.Shape;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Java half of the image and normalization kernels, without a GPU: {@link CudaImages} and
 * {@link CudaNormalization} launch into a recorder that checks every argument list against the kernel's declared
 * parameters (as {@link KernelParams#write} does before a real launch), and each test checks the kernels, shapes,
 * scalars and device addresses (buffer offsets included) of one op's launches, and that scratch memory goes back to
 * the pool. What the kernels compute with those arguments is {@link KernelEmulationTest}'s part.
 */
class CudaImageLaunchTest {
    private static final int MAX_BLOCKS = CudaLaunch.maxBlocks(4);
    private static final Window2d CONV = new Window2d(3, 3, 7, 6, 3, 2, 2, 1, 0, 1, 1, 1);
    private static final Window2d POOL = Window2d.of(2, 2, 7, 5, 3, 3, 2, 2, 1, 1);

    private final LaunchRecorder recorder = new LaunchRecorder(MAX_BLOCKS);
    private final MemoryPool<CUdeviceptr> pool = recorder.pool;
    private final List<LaunchRecorder.Launch> launches = recorder.launches;
    private final CudaImages images = new CudaImages(recorder.launch);
    private final CudaNormalization normalization = new CudaNormalization(recorder.launch, pool);

    private CudaBuffer buffer(DType dtype, long elements) {
        return recorder.buffer(dtype, elements);
    }

    private static long address(Object pointer) {
        return LaunchRecorder.address(pointer);
    }

    private static long at(CudaBuffer b, long offset) {
        return LaunchRecorder.at(b, offset);
    }

    /** The window's twelve ints, then {@code rest} (addresses for pointers). */
    private static List<Object> windowArgs(Window2d w, Object... rest) {
        List<Object> a = new ArrayList<>(List.of(w.n(), w.channels(), w.height(), w.width(), w.kernelH(), w.kernelW(),
                w.strideH(), w.strideW(), w.padH(), w.padW(), w.dilationH(), w.dilationW()));
        a.addAll(Arrays.asList(rest));
        return a;
    }


    private void expect(int index, CudaKernel kernel, Shape shape, List<Object> args) {
        LaunchRecorder.Launch l = launches.get(index);
        assertEquals(kernel, l.kernel(), "kernel of launch " + index);
        assertEquals(shape, l.shape(), "shape of launch " + index + " (" + kernel + ")");
        assertEquals(args, l.resolved(), "arguments of launch " + index + " (" + kernel + ")");
    }

    @Test
    void im2colAndCol2imLaunchOneKernelEachAtTheBuffersOffsets() {
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            launches.clear();
            CudaBuffer x = buffer(dt, CONV.inputSize() + 5);
            CudaBuffer cols = buffer(dt, (long) CONV.patchSize() * CONV.columns() + 3);
            images.im2col(CONV, x, 5, cols, 3);
            images.col2im(CONV, cols, 3, x, 5);
            boolean f32 = dt == DType.FLOAT32;
            assertEquals(2, launches.size());
            expect(0, f32 ? CudaKernel.IM2COL_B32 : CudaKernel.IM2COL_B64, CudaImages.im2colShape(CONV, MAX_BLOCKS),
                    windowArgs(CONV, at(x, 5), at(cols, 3)));
            expect(1, f32 ? CudaKernel.COL2IM_F32 : CudaKernel.COL2IM_F64, CudaImages.inputShape(CONV, MAX_BLOCKS),
                    windowArgs(CONV, at(cols, 3), at(x, 5)));
            assertEquals(Shape.elementwise((long) CONV.channels() * CONV.columns(), MAX_BLOCKS),
                    CudaImages.im2colShape(CONV, MAX_BLOCKS), "one im2col thread per channel and column");
        }
    }

    @Test
    void poolingLaunchesOneThreadPerElementWritten() {
        CudaBuffer x = buffer(DType.FLOAT64, POOL.inputSize() + 1), y = buffer(DType.FLOAT64, 200);
        CudaBuffer arg = buffer(DType.INT32, 200), dx = buffer(DType.FLOAT64, POOL.inputSize() + 2);
        images.maxPool2d(POOL, x, 1, y, 2, arg, 3);
        images.maxPool2dBackward(POOL, y, 2, arg, 3, dx, 2);
        images.avgPool2d(POOL, false, x, 1, y, 2);
        images.avgPool2dBackward(POOL, true, y, 2, dx, 2);
        Shape out = Shape.elementwise((long) POOL.n() * POOL.channels() * POOL.outPlane(), MAX_BLOCKS);
        Shape in = Shape.elementwise(POOL.inputSize(), MAX_BLOCKS);
        expect(0, CudaKernel.MAX_POOL2D_F64, out, windowArgs(POOL, at(x, 1), at(y, 2), at(arg, 3)));
        expect(1, CudaKernel.MAX_POOL2D_BACKWARD_F64, in, windowArgs(POOL, at(y, 2), at(arg, 3), at(dx, 2)));
        expect(2, CudaKernel.AVG_POOL2D_F64, out, windowArgs(POOL, 0, at(x, 1), at(y, 2)));
        expect(3, CudaKernel.AVG_POOL2D_BACKWARD_F64, in, windowArgs(POOL, 1, at(y, 2), at(dx, 2)));
    }

    @Test
    void copyStridedLaunchesOverFourDimensions() {
        // BaseBackend pads lower ranks with leading ones of stride 0, as the first call's arguments show.
        CudaBuffer src = buffer(DType.INT32, 60), dst = buffer(DType.INT32, 60);
        images.copyStrided(new int[] {1, 1, 3, 17}, src, 4, new long[] {0, 0, 1, 3}, dst, 1);
        CudaBuffer src64 = buffer(DType.FLOAT64, 130), dst64 = buffer(DType.FLOAT64, 130);
        images.copyStrided(new int[] {2, 3, 4, 5}, src64, 0, new long[] {60, 1, 15, 3}, dst64, 7);
        expect(0, CudaKernel.COPY_STRIDED_B32, Shape.elementwise(51, MAX_BLOCKS),
                List.of(51L, 1, 3, 17, at(src, 4), 0L, 0L, 1L, 3L, at(dst, 1)));
        expect(1, CudaKernel.COPY_STRIDED_B64, Shape.elementwise(120, MAX_BLOCKS),
                List.of(120L, 3, 4, 5, at(src64, 0), 60L, 1L, 15L, 3L, at(dst64, 7)));
    }

    @Test
    void batchNormStatsOfASmallBatchIsTwoLaunchesIntoTheOutputs() {
        int n = 4, c = 3, s = 25;
        CudaBuffer x = buffer(DType.FLOAT32, n * c * s + 1);
        CudaBuffer mean = buffer(DType.FLOAT32, c), var = buffer(DType.FLOAT32, c);
        normalization.batchNormStats(n, c, s, x, 1, mean, 0, var, 0);
        Shape grid = Shape.channels(1, c);
        assertEquals(2, launches.size());
        long px = at(x, 1), pmean = at(mean, 0);
        expect(0, CudaKernel.BN_STATS_F32, grid, List.of(n, c, s, 100L, 0, px, pmean, pmean, 100.0));
        expect(1, CudaKernel.BN_STATS_F32, grid, List.of(n, c, s, 100L, 1, px, pmean, at(var, 0), 100.0));
    }

    @Test
    void batchNormStatsOfALargeBatchSumsChunksThenFinishesPerChannel() {
        int n = 3, c = 2, s = 5000;  // 15000 per channel: 4 chunks of 3750
        CudaBuffer x = buffer(DType.FLOAT64, n * c * s), mean = buffer(DType.FLOAT64, c + 1);
        CudaBuffer var = buffer(DType.FLOAT64, c);
        normalization.batchNormStats(n, c, s, x, 0, mean, 1, var, 0);
        assertEquals(4, CudaNormalization.chunksFor(15000));
        assertEquals(4, launches.size());
        long scratch = address(launches.get(0).args().get(7));
        Shape chunks = Shape.channels(4, c), rows = Shape.perRow(c);
        int op = CudaOpCodes.reduce(ReduceOp.MEAN);
        expect(0, CudaKernel.BN_STATS_F64, chunks, List.of(n, c, s, 3750L, 0, at(x, 0), at(mean, 1), scratch, 1.0));
        expect(1, CudaKernel.REDUCE_ROWS_F64, rows, List.of(op, c, 4, scratch, at(mean, 1), 15000.0));
        expect(2, CudaKernel.BN_STATS_F64, chunks, List.of(n, c, s, 3750L, 1, at(x, 0), at(mean, 1), scratch, 1.0));
        expect(3, CudaKernel.REDUCE_ROWS_F64, rows, List.of(op, c, 4, scratch, at(var, 0), 15000.0));
        assertEquals(3, pool.liveCount(), "the scratch block went back to the pool");
    }

    @Test
    void batchNormBackwardSumsIntoTheParameterGradientsThenComputesDx() {
        int n = 3, c = 2, s = 5000;
        CudaBuffer x = buffer(DType.FLOAT32, n * c * s), dy = buffer(DType.FLOAT32, n * c * s);
        CudaBuffer stats = buffer(DType.FLOAT32, 3 * c), grads = buffer(DType.FLOAT32, 2 * c);
        normalization.batchNormBackward(n, c, s, 1e-5, true, x, 0, dy, 0, stats, 0, stats, c, stats, 2 * c, dy, 0,
                grads, 0, grads, c);
        assertEquals(4, launches.size());
        long sumDy = address(launches.get(0).args().get(9)), sumDyXhat = address(launches.get(0).args().get(10));
        assertEquals(4L * c * Float.BYTES, sumDyXhat - sumDy, "one scratch block: Σdy partials, then Σdy·x̂ partials");
        int sum = CudaOpCodes.reduce(ReduceOp.SUM);
        expect(0, CudaKernel.BN_BACKWARD_SUMS_F32, Shape.channels(4, c), List.of(n, c, s, 3750L, 1e-5, at(x, 0),
                at(dy, 0), at(stats, 0), at(stats, c), sumDy, sumDyXhat));
        expect(1, CudaKernel.REDUCE_ROWS_F32, Shape.perRow(c), List.of(sum, c, 4, sumDy, at(grads, c), 1.0));
        expect(2, CudaKernel.REDUCE_ROWS_F32, Shape.perRow(c), List.of(sum, c, 4, sumDyXhat, at(grads, 0), 1.0));
        expect(3, CudaKernel.BN_BACKWARD_DX_F32, Shape.elementwise((long) n * c * s, MAX_BLOCKS), List.of(n, c, s,
                1e-5, 1, at(x, 0), at(dy, 0), at(stats, 0), at(stats, c), at(stats, 2 * c), at(grads, c), at(grads, 0),
                at(dy, 0)));
        assertEquals(4, pool.liveCount(), "the scratch block went back to the pool");
    }

    @Test
    void batchNormBackwardOfAnEmptyBatchOnlyZeroesTheParameterGradients() {
        CudaBuffer none = buffer(DType.FLOAT64, 0), stats = buffer(DType.FLOAT64, 12), grads = buffer(DType.FLOAT64, 8);
        normalization.batchNormBackward(0, 4, 9, 1e-5, false, none, 0, none, 0, stats, 0, stats, 4, stats, 8, none, 0,
                grads, 0, grads, 4);
        assertEquals(1, launches.size(), "no dx launch for no elements");
        long empty = address(none.at(0));
        expect(0, CudaKernel.BN_BACKWARD_SUMS_F64, Shape.channels(1, 4), List.of(0, 4, 9, 0L, 1e-5, empty, empty,
                at(stats, 0), at(stats, 4), at(grads, 4), at(grads, 0)));
    }

    @Test
    void dropoutRunsOneThreadPerPhiloxBlock() {
        CudaBuffer x = buffer(DType.FLOAT32, 1003);
        normalization.dropout(1001, 1677722, 1.25, -1L, (1L << 40) + 3, x, 2, x, 2);
        expect(0, CudaKernel.DROPOUT_F32, Shape.elementwise(251, MAX_BLOCKS),
                List.of(1001L, 1677722, 1.25, -1L, (1L << 40) + 3, at(x, 2), at(x, 2)));
    }
}
