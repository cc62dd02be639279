package dev.backprop.cuda;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.DeviceOutOfMemoryException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator against a simulated device of limited memory. */
class CudaMemoryCacheTest {
    /** A device with {@code capacity} bytes that counts driver calls. */
    static final class FakeDevice implements CudaMemory.Device {
        final long capacity;
        final java.util.Map<CUdeviceptr, Long> sizes = new java.util.IdentityHashMap<>();
        long used;
        int allocations;
        int frees;
        int synchronizations;
        int failWith = CUresult.CUDA_SUCCESS;

        FakeDevice(long capacity) {
            this.capacity = capacity;
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

    @Test
    void aTrainingLoopAllocatesFromTheDriverOnlyInItsFirstStep() {
        FakeDevice device = new FakeDevice(1L << 30);
        CudaMemory memory = new CudaMemory(device);
        long[] shapes = {784 * 128 * 4, 128 * 4, 128 * 10 * 4, 10 * 4, 64 * 784 * 4};
        for (int step = 0; step < 100; step++) {
            List<CudaMemory.Block> blocks = new ArrayList<>();
            for (long bytes : shapes) {
                blocks.add(memory.allocate(bytes));
            }
            blocks.forEach(memory::free);
        }
        assertEquals(shapes.length, device.allocations, "cuMemAlloc only for the first step");
        assertEquals(0, device.frees);
        assertEquals(memory.reservedBytes(), memory.cachedBytes(), "everything is cached between steps");
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetriesOnce() {
        FakeDevice device = new FakeDevice(8L << 20);
        CudaMemory memory = new CudaMemory(device);
        CudaMemory.Block a = memory.allocate(3L << 20);
        CudaMemory.Block b = memory.allocate(3L << 20);
        memory.free(a);
        memory.free(b);
        CudaMemory.Block big = memory.allocate(5L << 20);
        assertEquals(1, device.synchronizations, "queued work is awaited before cached blocks are freed");
        assertEquals(2, device.frees, "the two cached blocks went back to the driver");
        assertEquals(0, memory.cachedBytes());
        assertEquals(big.bytes(), memory.reservedBytes());
    }

    @Test
    void whatDoesNotFitThrowsAndLeavesTheAllocatorUsable() {
        FakeDevice device = new FakeDevice(4L << 20);
        CudaMemory memory = new CudaMemory(device);
        CudaMemory.Block live = memory.allocate(3L << 20);
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> memory.allocate(2L << 20));
        assertTrue(e.getMessage().contains("fake GPU") && e.getMessage().contains("live buffers"), e.getMessage());
        assertThrows(DeviceOutOfMemoryException.class, () -> memory.allocate(1L << 58), "larger than the device");
        assertThrows(DeviceOutOfMemoryException.class, () -> memory.allocate(Long.MAX_VALUE - 10),
                "no overflow in the size class");
        assertEquals(live.bytes(), memory.reservedBytes(), "nothing was allocated by the failed calls");
        memory.free(live);
        CudaMemory.Block again = memory.allocate(3L << 20);
        assertSame(live.pointer(), again.pointer(), "the cached block is handed out again");
    }

    @Test
    void otherDriverErrorsAreReportedAsFailures() {
        FakeDevice device = new FakeDevice(1L << 20);
        device.failWith = CUresult.CUDA_ERROR_INVALID_CONTEXT;
        CudaMemory memory = new CudaMemory(device);
        BackendFailureException e = assertThrows(BackendFailureException.class, () -> memory.allocate(1000));
        assertTrue(e.getMessage().contains("cuMemAlloc") && e.getMessage().contains("CUDA_ERROR_INVALID_CONTEXT"),
                e.getMessage());
    }
}
