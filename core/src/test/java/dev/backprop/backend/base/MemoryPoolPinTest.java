package dev.backprop.backend.base;

import dev.backprop.backend.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Pinning for replayed recordings (CUDA graphs): a block a recording refers to is never handed out again while
 * the recording lives, even after its buffer was freed, and comes back to the pool when the last pin holding it
 * closes.
 */
class MemoryPoolPinTest {
    private final MemoryPoolTest.FakeMemory device = new MemoryPoolTest.FakeMemory(1L << 30, true);
    private final MemoryPool<long[]> pool = new MemoryPool<>("fake", device, 1L << 30);

    @Test
    void aBlockAllocatedDuringARecordingIsNotReusedUntilThePinCloses() {
        MemoryPool.Pin<long[]> pin = pool.pin();
        MemoryPool.Block<long[]> temp = pool.allocate(DType.FLOAT32, 1000);
        pin.seal();
        pool.free(temp); // the step's temporary, freed after capture: a replay still writes it
        assertEquals(1, pin.heldCount());
        assertEquals(0, pool.pooledBytes(), "held for the recording, not kept for reuse");
        MemoryPool.Block<long[]> next = pool.allocate(DType.FLOAT32, 1000);
        assertNotSame(temp.raw(), next.raw(), "the replayed address must not be handed out");
        pool.free(next);
        pin.close();
        assertEquals(0, pin.heldCount());
        MemoryPool.Block<long[]> first = pool.allocate(DType.FLOAT32, 1000);
        MemoryPool.Block<long[]> second = pool.allocate(DType.FLOAT32, 1000);
        assertEquals(2, device.allocations, "both earlier blocks are reused after the pin closed");
        assertNotSame(first.raw(), second.raw());
    }

    @Test
    void blocksAfterTheSealAndUnaddedOlderBlocksAreNotPinned() {
        MemoryPool.Block<long[]> old = pool.allocate(DType.FLOAT64, 10);
        MemoryPool.Pin<long[]> pin = pool.pin();
        pin.seal();
        MemoryPool.Block<long[]> later = pool.allocate(DType.FLOAT64, 10);
        assertEquals(0, pin.pinnedCount());
        pool.free(later);
        pool.free(old);
        assertEquals(0, pin.heldCount());
        assertEquals(2 * MemoryPool.MIN_BLOCK, pool.pooledBytes());
    }

    @Test
    void aBlockPinnedByTwoRecordingsWaitsForBoth() {
        MemoryPool.Block<long[]> param = pool.allocate(DType.FLOAT32, 64);
        MemoryPool.Pin<long[]> full = pool.pin();
        full.add(param);
        full.seal();
        MemoryPool.Pin<long[]> last = pool.pin();
        last.add(param);
        last.seal();
        pool.free(param);
        full.close();
        assertEquals(1, last.heldCount(), "moved to the pin that still refers to it");
        assertNotSame(param.raw(), pool.allocate(DType.FLOAT32, 64).raw());
        last.close();
        assertSame(param.raw(), pool.allocate(DType.FLOAT32, 64).raw(), "back in the pool once no pin holds it");
    }

    @Test
    void oneRecordingAtATimeAndOnlyLiveBlocks() {
        MemoryPool.Pin<long[]> pin = pool.pin();
        IllegalStateException twice = assertThrows(IllegalStateException.class, pool::pin);
        assertEquals("fake: a recording is already pinning its blocks; seal it first", twice.getMessage());
        MemoryPool.Block<long[]> b = pool.allocate(DType.INT32, 4);
        pool.free(b);
        pin.seal();
        MemoryPool.Block<long[]> gone = pool.allocate(DType.INT32, 1);
        pool.free(gone);
        IllegalArgumentException dead = assertThrows(IllegalArgumentException.class, () -> pin.add(gone));
        assertEquals("fake: only a live block can be pinned", dead.getMessage());
    }

    @Test
    void closingThePoolFreesHeldBlocksToo() {
        MemoryPool.Pin<long[]> pin = pool.pin();
        pool.free(pool.allocate(DType.FLOAT32, 1000));
        pool.free(pool.allocate(DType.FLOAT32, 3000));
        assertEquals(2, pin.heldCount());
        pool.close();
        assertEquals(0, device.used, "every block went back to the device");
        pin.close(); // after the pool: nothing left to do
    }
}
