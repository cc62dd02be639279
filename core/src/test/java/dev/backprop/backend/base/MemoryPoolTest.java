package dev.backprop.backend.base;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one caching allocator: size classes, reuse, the byte cap, out-of-memory handling and the accounting. */
class MemoryPoolTest {
    /** A device of {@code capacity} bytes whose blocks are {@code long[1]} holding their size; counts calls. */
    static final class FakeMemory implements RawMemory<long[]> {
        final long capacity;
        final boolean typed;
        long used;
        int allocations;
        int frees;
        int quiesces;

        FakeMemory(long capacity, boolean typed) {
            this.capacity = capacity;
            this.typed = typed;
        }

        @Override
        public boolean typed() {
            return typed;
        }

        @Override
        public long maxBlockBytes(DType dtype) {
            return capacity;
        }

        @Override
        public String maxBlockReason() {
            return "the fake device's size";
        }

        @Override
        public long[] allocate(DType dtype, long bytes) {
            assertEquals(0, bytes % dtype.byteSize(), "whole elements");
            if (used + bytes > capacity) {
                throw new DeviceOutOfMemoryException("fake device full: " + (capacity - used) + " bytes free");
            }
            used += bytes;
            allocations++;
            return new long[] {bytes};
        }

        @Override
        public void free(long[] block) {
            used -= block[0];
            frees++;
        }

        @Override
        public void quiesce() {
            quiesces++;
        }

        @Override
        public Platform platform(List<long[]> liveBlocks) {
            return new Platform(used, "the fake device");
        }
    }

    @Test
    void sizeClassesHoldTheRequestWithBoundedWaste() {
        Random r = new Random(7);
        for (int i = 0; i < 100_000; i++) {
            long bytes = 1 + (long) (Math.exp(r.nextDouble() * Math.log(1L << 36)));
            long c = MemoryPool.sizeClass(bytes);
            assertTrue(c >= bytes, bytes + " -> " + c);
            long allowed = bytes < MemoryPool.LARGE ? bytes / 16 + MemoryPool.MIN_BLOCK : 2L << 20;
            assertTrue(c - bytes <= allowed, bytes + " -> " + c + " wastes more than " + allowed);
            assertEquals(c, MemoryPool.sizeClass(c), "a class is its own class: " + c);
            assertEquals(0, c % 8, "a class holds whole elements of every dtype: " + c);
        }
        assertEquals(MemoryPool.MIN_BLOCK, MemoryPool.sizeClass(1));
        assertEquals(1024, MemoryPool.sizeClass(MemoryPool.MIN_BLOCK + 1));
        assertEquals(MemoryPool.LARGE, MemoryPool.sizeClass(MemoryPool.LARGE - 1));
    }

    @Test
    void aTrainingLoopAsksTheDeviceOnlyInItsFirstStep() {
        FakeMemory device = new FakeMemory(1L << 30, false);
        MemoryPool<long[]> pool = new MemoryPool<>("fake", device, 64L << 20);
        long[] sizes = {784 * 128, 128, 128 * 10, 10, 64 * 784};
        for (int step = 0; step < 100; step++) {
            List<MemoryPool.Block<long[]>> blocks = new ArrayList<>();
            for (long n : sizes) {
                blocks.add(pool.allocate(DType.FLOAT32, n));
            }
            blocks.forEach(pool::free);
        }
        assertEquals(sizes.length, device.allocations);
        assertEquals(0, device.frees);
        assertEquals(device.used, pool.pooledBytes(), "everything is kept between steps");
    }

    @Test
    void typedMemoryKeepsBlocksPerDtypeUntypedMemoryShares() {
        FakeMemory typed = new FakeMemory(1L << 20, true);
        MemoryPool<long[]> a = new MemoryPool<>("typed", typed, 1L << 20);
        MemoryPool.Block<long[]> f = a.allocate(DType.FLOAT32, 100);
        a.free(f);
        assertNotSame(f.raw(), a.allocate(DType.INT32, 100).raw(), "an int[] cannot serve as a float[]");
        assertSame(f.raw(), a.allocate(DType.FLOAT32, 120).raw(), "the same dtype and class takes it back");

        FakeMemory untyped = new FakeMemory(1L << 20, false);
        MemoryPool<long[]> b = new MemoryPool<>("untyped", untyped, 1L << 20);
        MemoryPool.Block<long[]> g = b.allocate(DType.FLOAT32, 100);
        b.free(g);
        assertSame(g.raw(), b.allocate(DType.INT32, 100).raw(), "device memory has no type");
    }

    @Test
    void blocksBeyondTheCapGoBackAtOnceAfterQueuedWork() {
        FakeMemory device = new FakeMemory(1L << 30, false);
        MemoryPool<long[]> pool = new MemoryPool<>("fake", device, 1L << 20);
        MemoryPool.Block<long[]> small = pool.allocate(DType.FLOAT32, 1000);
        MemoryPool.Block<long[]> big = pool.allocate(DType.FLOAT32, 1 << 20);
        pool.free(small);
        pool.free(big);
        assertEquals(small.bytes(), pool.pooledBytes(), "the small block is kept");
        assertEquals(1, device.frees, "the 4 MiB block exceeds the 1 MiB cap");
        assertEquals(1, device.quiesces, "freed after queued work that may use it");
        assertEquals(small.bytes(), device.used);
    }

    @Test
    void outOfMemoryEmptiesThePoolAndRetriesOnce() {
        FakeMemory device = new FakeMemory(8L << 20, false);
        MemoryPool<long[]> pool = new MemoryPool<>("fake", device, Long.MAX_VALUE);
        MemoryPool.Block<long[]> a = pool.allocate(DType.INT32, (3L << 20) / 4);
        MemoryPool.Block<long[]> b = pool.allocate(DType.INT32, (3L << 20) / 4);
        pool.free(a);
        pool.free(b);
        MemoryPool.Block<long[]> big = pool.allocate(DType.INT32, (5L << 20) / 4);
        assertEquals(2, device.frees, "the two kept blocks went back");
        assertEquals(1, device.quiesces);
        assertEquals(0, pool.pooledBytes());
        assertEquals(big.bytes(), device.used);
    }

    @Test
    void whatStillDoesNotFitIsOutOfMemoryNamingTheSizesAndCountsNothing() {
        FakeMemory device = new FakeMemory(4L << 20, false);
        MemoryPool<long[]> pool = new MemoryPool<>("fake", device, Long.MAX_VALUE);
        MemoryPool.Block<long[]> live = pool.allocate(DType.FLOAT32, (3L << 20) / 4);
        MemoryStats before = pool.stats();
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                () -> pool.allocate(DType.FLOAT32, 500_000));
        assertTrue(e.getMessage().contains("500,000 FLOAT32 elements") && e.getMessage().contains("1.9 MiB")
                && e.getMessage().contains("fake device full") && e.getMessage().contains("1 live buffers of 3.0 MiB"),
                e.getMessage());
        assertEquals(before, pool.stats(), "nothing counted");
        e = assertThrows(DeviceOutOfMemoryException.class, () -> pool.allocate(DType.FLOAT64, 1L << 60));
        assertTrue(e.getMessage().contains("the largest block is 4.0 MiB (the fake device's size)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pool.allocate(DType.FLOAT32, -1));
        pool.free(live);
        assertSame(live.raw(), pool.allocate(DType.FLOAT32, (3L << 20) / 4).raw(), "still usable");
    }

    @Test
    void accountingCountsLiveBuffersTheirBytesAndThePeak() {
        FakeMemory device = new FakeMemory(1L << 30, false);
        MemoryPool<long[]> pool = new MemoryPool<>("fake", device, 1L << 20);
        MemoryPool.Block<long[]> a = pool.allocate(DType.FLOAT64, 100);
        MemoryPool.Block<long[]> b = pool.allocate(DType.INT32, 0);
        MemoryPool.Block<long[]> c = pool.allocate(DType.FLOAT32, 1000);
        pool.free(c);
        pool.free(c);
        MemoryStats s = pool.stats();
        assertEquals(2, s.liveBuffers(), "an empty buffer counts; a double free counts once");
        assertEquals(800, s.liveBytes());
        assertEquals(4800, s.peakBytes());
        assertEquals(c.bytes(), s.pooledBytes());
        assertEquals(device.used, s.platformBytes());
        pool.free(a);
        pool.free(b);
        assertEquals(0, pool.stats().liveBytes());
        assertEquals(4800, pool.stats().peakBytes(), "the peak stays");
    }

    @Test
    void closeGivesEveryBlockBack() {
        FakeMemory device = new FakeMemory(1L << 30, false);
        MemoryPool<long[]> pool = new MemoryPool<>("fake", device, 1L << 20);
        pool.allocate(DType.FLOAT32, 10);
        pool.free(pool.allocate(DType.FLOAT32, 5000));
        pool.allocate(DType.FLOAT32, 0);
        pool.close();
        assertEquals(0, device.used);
        assertEquals(0, pool.liveCount());
        assertEquals(0, pool.pooledBytes());
    }
}
