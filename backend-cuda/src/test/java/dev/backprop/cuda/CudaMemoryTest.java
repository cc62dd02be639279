package dev.backprop.cuda;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.base.MemoryPool;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cuda backend's raw memory in the pool, against a simulated device of limited memory (no GPU needed). */
class CudaMemoryTest {
    /** A device with {@code capacity} bytes that counts driver calls. */
    static final class FakeDevice implements CudaMemory.Device {
        final long capacity;
        final Map<CUdeviceptr, Long> sizes = new IdentityHashMap<>();
        long used;
        int allocations;
        int frees;
        int synchronizations;
        int entered;
        int failWith = CUresult.CUDA_SUCCESS;

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public void enter() {
            entered++;
        }

        @Override
        public int allocate(CUdeviceptr pointer, long bytes) {
            if (failWith != CUresult.CUDA_SUCCESS) {
                return failWith;
            }
            if (used + bytes > capacity) {
                return CUresult.CUDA_ERROR_OUT_OF_MEMORY;
            }
            used += bytes;
            sizes.put(pointer, bytes);
            allocations++;
            return CUresult.CUDA_SUCCESS;
        }

        @Override
        public int free(CUdeviceptr pointer) {
            used -= sizes.remove(pointer);
            frees++;
            return CUresult.CUDA_SUCCESS;
        }

        @Override
        public void synchronize() {
            synchronizations++;
        }

        @Override
        public long totalBytes() {
            return capacity;
        }

        @Override
        public long[] memoryInfo() {
            return new long[] {capacity - used, capacity};
        }

        @Override
        public String name() {
            return "fake GPU";
        }
    }

    /** A pool over the fake device, with the backend's cap (a quarter of the device) or none. */
    private static MemoryPool<CUdeviceptr> pool(FakeDevice device, boolean capped) {
        CudaMemory memory = new CudaMemory(device);
        return new MemoryPool<>("cuda", memory, capped ? memory.poolBytes() : Long.MAX_VALUE);
    }

    @Test
    void aTrainingLoopAllocatesFromTheDriverOnlyInItsFirstStep() {
        FakeDevice device = new FakeDevice(1L << 30);
        MemoryPool<CUdeviceptr> pool = pool(device, true);
        long[] floats = {784 * 128, 128, 128 * 10, 10, 64 * 784};
        for (int step = 0; step < 100; step++) {
            List<MemoryPool.Block<CUdeviceptr>> blocks = new ArrayList<>();
            for (long n : floats) {
                blocks.add(pool.allocate(DType.FLOAT32, n));
            }
            blocks.forEach(pool::free);
        }
        assertEquals(floats.length, device.allocations, "cuMemAlloc only for the first step");
        assertEquals(0, device.frees);
        assertEquals(device.used, pool.pooledBytes(), "everything is kept between steps");
    }

    @Test
    void outOfMemorySynchronizesGivesTheKeptBlocksBackAndRetriesOnce() {
        FakeDevice device = new FakeDevice(8L << 20);
        MemoryPool<CUdeviceptr> pool = pool(device, false);
        MemoryPool.Block<CUdeviceptr> a = pool.allocate(DType.INT32, (3L << 20) / 4);
        MemoryPool.Block<CUdeviceptr> b = pool.allocate(DType.INT32, (3L << 20) / 4);
        pool.free(a);
        pool.free(b);
        MemoryPool.Block<CUdeviceptr> big = pool.allocate(DType.INT32, (5L << 20) / 4);
        assertEquals(1, device.synchronizations, "queued work is awaited before kept blocks are freed");
        assertEquals(2, device.frees, "the two kept blocks went back to the driver");
        assertEquals(0, pool.pooledBytes());
        assertEquals(big.bytes(), device.used);
    }

    @Test
    void whatDoesNotFitThrowsAndLeavesThePoolUsable() {
        FakeDevice device = new FakeDevice(4L << 20);
        MemoryPool<CUdeviceptr> pool = pool(device, false);
        MemoryPool.Block<CUdeviceptr> live = pool.allocate(DType.FLOAT32, (3L << 20) / 4);
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                () -> pool.allocate(DType.FLOAT32, (2L << 20) / 4));
        assertTrue(e.getMessage().contains("fake GPU") && e.getMessage().contains("free of")
                && e.getMessage().contains("1 live buffers"), e.getMessage());
        assertThrows(DeviceOutOfMemoryException.class, () -> pool.allocate(DType.FLOAT32, 1L << 58),
                "larger than the device");
        assertEquals(live.bytes(), device.used, "nothing was allocated by the failed calls");
        pool.free(live);
        MemoryPool.Block<CUdeviceptr> again = pool.allocate(DType.FLOAT32, (3L << 20) / 4);
        assertSame(live.raw(), again.raw(), "the kept block is handed out again");
    }

    @Test
    void otherDriverErrorsAreReportedAsFailures() {
        FakeDevice device = new FakeDevice(1L << 20);
        device.failWith = CUresult.CUDA_ERROR_INVALID_CONTEXT;
        MemoryPool<CUdeviceptr> pool = pool(device, false);
        BackendFailureException e = assertThrows(BackendFailureException.class,
                () -> pool.allocate(DType.FLOAT32, 250));
        assertTrue(e.getMessage().contains("cuMemAlloc") && e.getMessage().contains("CUDA_ERROR_INVALID_CONTEXT"),
                e.getMessage());
        assertEquals(0, pool.liveCount(), "nothing counted");
    }

    @Test
    void closingSynchronizesAndFreesLiveAndKeptBlocks() {
        FakeDevice device = new FakeDevice(1L << 30);
        MemoryPool<CUdeviceptr> pool = pool(device, false);
        pool.allocate(DType.FLOAT64, 1000);
        pool.free(pool.allocate(DType.FLOAT32, 77));
        pool.allocate(DType.INT32, 0);
        pool.close();
        assertEquals(0, device.used, "every block went back");
        assertEquals(2, device.frees, "one live and one kept block; the empty buffer has none");
        assertTrue(device.synchronizations >= 1, "queued work was awaited first");
    }
}
