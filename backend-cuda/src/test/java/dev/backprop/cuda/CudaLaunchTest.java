package dev.backprop.cuda;

import jcuda.NativePointerObject;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Launch arguments are checked against the kernel's parameters and land in their slots of the parameter block,
 * and launch shapes stay within limits.
 */
class CudaLaunchTest {
    /** A block over Java heap memory posing at a made-up native address: the layout, without a driver. */
    private static final long HOST = 0x7f00_0000_1000L;

    private static KernelParams heapBlock(boolean[] freed) {
        return new KernelParams(ByteBuffer.allocate(KernelParams.BYTES), HOST, null, () -> freed[0] = true);
    }

    /** A CUdeviceptr holding {@code address}, as cuMemAlloc would leave it. */
    private static CUdeviceptr device(long address) throws ReflectiveOperationException {
        CUdeviceptr p = new CUdeviceptr();
        Field f = NativePointerObject.class.getDeclaredField("nativePointer");
        f.setAccessible(true);
        f.setLong(p, address);
        return p;
    }

    @Test
    void argumentsMatchingTheSpecAreWrittenToTheirSlots() throws Exception {
        KernelParams params = heapBlock(new boolean[1]);
        for (int i = 0; i < KernelParams.MAX_ARGS; i++) {
            assertEquals(HOST + (KernelParams.MAX_ARGS + i) * 8L, params.tableEntry(i), "table entry " + i);
        }
        CUdeviceptr x = device(0x7000_0000L);
        params.write(CudaKernel.UNARY_F32, 8, 0.5, -1.5, x.withByteOffset(256), new CUdeviceptr(), 1000L);
        assertEquals(8, (int) params.slot(0), "I32 in the slot's first 4 bytes (little-endian)");
        assertEquals(0.5, Double.longBitsToDouble(params.slot(1)));
        assertEquals(-1.5, Double.longBitsToDouble(params.slot(2)));
        assertEquals(0x7000_0100L, params.slot(3), "the device address with its byte offset");
        assertEquals(0L, params.slot(4), "an empty buffer's null pointer");
        assertEquals(1000L, params.slot(5));
    }

    @Test
    void theDeviceAddressIsThePointerPlusItsOffsets() throws Exception {
        CUdeviceptr base = device(0x1234_0000L);
        assertEquals(0x1234_0000L, KernelParams.DeviceAddress.of(base));
        assertEquals(0x1234_0040L, KernelParams.DeviceAddress.of(base.withByteOffset(0x40)));
        assertEquals(0x1234_0048L, KernelParams.DeviceAddress.of(base.withByteOffset(0x40).withByteOffset(8)));
        assertEquals(0L, KernelParams.DeviceAddress.of(new CUdeviceptr()));
    }

    @Test
    void wrongArgumentsAreRejectedBeforeAnyLaunch() throws Exception {
        KernelParams params = heapBlock(new boolean[1]);
        params.write(CudaKernel.FILL_F64, device(0x5000L), 10L, 1.0);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> params.write(CudaKernel.TRANSPOSE_B32, 3, 4, new CUdeviceptr()));
        assertTrue(count.getMessage().contains("3 arguments for 4 parameters"), count.getMessage());
        IllegalArgumentException intForLong = assertThrows(IllegalArgumentException.class,
                () -> params.write(CudaKernel.FILL_F64, new CUdeviceptr(), 10, 1.0));
        assertTrue(intForLong.getMessage().contains("argument 1 must be I64, got Integer"), intForLong.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> params.write(CudaKernel.FILL_F64, new CUdeviceptr(), 10L, 1.0f));
        IllegalArgumentException nullPointer = assertThrows(IllegalArgumentException.class,
                () -> params.write(CudaKernel.FILL_F64, null, 10L, 1.0));
        assertTrue(nullPointer.getMessage().contains("argument 0 must be PTR, got null"), nullPointer.getMessage());
        assertEquals(0x5000L, params.slot(0), "a rejected launch writes nothing");
        assertEquals(10L, params.slot(1));
    }

    @Test
    void everyKernelFitsTheBlockAndAClosedBlockIsNotWritten() {
        for (CudaKernel k : CudaKernel.values()) {
            assertTrue(k.params().size() <= KernelParams.MAX_ARGS, k + " has " + k.params().size() + " parameters");
        }
        boolean[] freed = new boolean[1];
        KernelParams params = heapBlock(freed);
        params.close();
        params.close();
        assertTrue(freed[0]);
        IllegalStateException closed = assertThrows(IllegalStateException.class,
                () -> params.write(CudaKernel.FILL_F64, new CUdeviceptr(), 10L, 1.0));
        assertTrue(closed.getMessage().contains("already freed"), closed.getMessage());
    }

    @Test
    void gridsCoverTheWorkWithinLimits() {
        assertEquals(1, CudaLaunch.blocksFor(0, 4224));
        assertEquals(1, CudaLaunch.blocksFor(1, 4224));
        assertEquals(2, CudaLaunch.blocksFor(257, 4224));
        assertEquals(4224, CudaLaunch.blocksFor(1L << 40, 4224));
        assertEquals(0, CudaLaunch.tiles(0));
        assertEquals(2, CudaLaunch.tiles(33));
        assertEquals(67_108_864, CudaLaunch.tiles(Integer.MAX_VALUE));
        assertEquals(1, CudaLaunch.blocksForRows(0));
        assertEquals(CudaLaunch.MAX_GRID_Y, CudaLaunch.blocksForRows(Integer.MAX_VALUE));
    }

    @Test
    void reductionPartialCountsDependOnTheShapeOnly() {
        assertEquals(1, CudaReductions.partialsFor(0));
        assertEquals(1, CudaReductions.partialsFor(2048));
        assertEquals(2, CudaReductions.partialsFor(2049));
        assertEquals(CudaReductions.MAX_PARTIALS, CudaReductions.partialsFor(Long.MAX_VALUE / 2));
        for (int rows : new int[] {0, 1, 255, 256, 257, 100_000, Integer.MAX_VALUE}) {
            int per = CudaReductions.rowsPerChunk(rows);
            long chunks = ((long) rows + per - 1) / per;
            assertTrue(per >= CudaReductions.MIN_ROWS_PER_CHUNK && chunks <= CudaReductions.MAX_PARTIALS
                    && chunks <= CudaLaunch.MAX_GRID_Y,
                    "rows " + rows + ": " + per + " per chunk, " + chunks + " chunks");
        }
    }

    @Test
    void channelChunksDependOnTheShapeOnlyAndCoverEveryElement() {
        assertEquals(1, CudaNormalization.chunksFor(0));
        assertEquals(0, CudaNormalization.perChunk(0), "an empty batch: one chunk of nothing");
        assertEquals(1, CudaNormalization.chunksFor(CudaNormalization.ELEMENTS_PER_CHUNK));
        assertEquals(2, CudaNormalization.chunksFor(CudaNormalization.ELEMENTS_PER_CHUNK + 1));
        assertEquals(CudaNormalization.MAX_CHUNKS, CudaNormalization.chunksFor(Long.MAX_VALUE / 4));
        for (long m : new long[] {1, 4095, 4096, 4097, 15_000, 100_352, 1L << 33}) {
            int chunks = CudaNormalization.chunksFor(m);
            long per = CudaNormalization.perChunk(m);
            assertTrue(chunks * per >= m && (chunks - 1) * per < m, m + " elements: " + chunks + " chunks of " + per
                    + " leave none out and none empty");
            assertEquals(chunks == 1 ? 1 : 2, CudaNormalization.channelSumPasses(m, 3).length);
        }
        assertEquals(new CudaLaunch.Shape(4, CudaLaunch.MAX_GRID_Y, CudaLaunch.BLOCK, 1),
                CudaLaunch.Shape.channels(4, 100_000), "channels beyond the grid's y limit are looped over");
        assertEquals(CudaLaunch.Shape.elementwise(3, 4224), CudaNormalization.dropoutShape(9, 4224),
                "dropout: one thread per Philox block of four elements");
    }
}
