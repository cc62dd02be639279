package dev.backprop.cuda;

import jcuda.NativePointerObject;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Launch arguments are checked against the kernel's parameters, and launch shapes stay within limits. */
class CudaLaunchTest {
    @Test
    void argumentsMatchingTheSpecArePacked() {
        NativePointerObject[] packed = CudaLaunch.pack(CudaKernel.UNARY_F32, 8, 0.5, 1.5, new CUdeviceptr(),
                new CUdeviceptr(), 1000L);
        assertEquals(6, packed.length);
    }

    @Test
    void wrongArgumentsAreRejectedBeforeAnyLaunch() {
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> CudaLaunch.pack(CudaKernel.TRANSPOSE_B32, 3, 4, new CUdeviceptr()));
        assertTrue(count.getMessage().contains("3 arguments for 4 parameters"), count.getMessage());
        IllegalArgumentException intForLong = assertThrows(IllegalArgumentException.class,
                () -> CudaLaunch.pack(CudaKernel.FILL_F64, new CUdeviceptr(), 10, 1.0));
        assertTrue(intForLong.getMessage().contains("argument 1 must be I64, got Integer"), intForLong.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> CudaLaunch.pack(CudaKernel.FILL_F64, new CUdeviceptr(), 10L, 1.0f));
        assertThrows(IllegalArgumentException.class, () -> CudaLaunch.pack(CudaKernel.FILL_F64, null, 10L, 1.0));
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
                    && chunks <= CudaLaunch.MAX_GRID_Y, "rows " + rows + ": " + per + " per chunk, " + chunks + " chunks");
        }
    }
}
