package dev.backprop.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Size classes of the caching allocator: big enough, little waste, and stable (a class maps to itself). */
class CudaMemoryTest {
    @Test
    void sizeClassesHoldTheRequestWithBoundedWaste() {
        Random r = new Random(7);
        for (int i = 0; i < 100_000; i++) {
            long bytes = 1 + (long) (Math.exp(r.nextDouble() * Math.log(1L << 36)));
            long c = CudaMemory.sizeClass(bytes);
            assertTrue(c >= bytes, bytes + " -> " + c);
            long allowed = bytes < CudaMemory.LARGE ? bytes / 16 + CudaMemory.MIN_BLOCK : 2L << 20;
            assertTrue(c - bytes <= allowed, bytes + " -> " + c + " wastes more than " + allowed);
            assertEquals(c, CudaMemory.sizeClass(c), "a class is its own class: " + c);
        }
    }

    @Test
    void smallRequestsShareTheSmallestBlock() {
        assertEquals(CudaMemory.MIN_BLOCK, CudaMemory.sizeClass(1));
        assertEquals(CudaMemory.MIN_BLOCK, CudaMemory.sizeClass(CudaMemory.MIN_BLOCK));
        assertEquals(1024, CudaMemory.sizeClass(CudaMemory.MIN_BLOCK + 1));
        assertEquals(CudaMemory.LARGE, CudaMemory.sizeClass(CudaMemory.LARGE - 1));
    }

    @Test
    void theSameShapeAlwaysMapsToTheSameClass() {
        long floats784x128 = 784L * 128 * 4;
        assertEquals(CudaMemory.sizeClass(floats784x128), CudaMemory.sizeClass(floats784x128));
        assertTrue(CudaMemory.sizeClass(floats784x128) < CudaMemory.sizeClass(floats784x128 * 2));
    }
}
