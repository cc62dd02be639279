package dev.backprop.opencl;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.base.MemoryPool;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenCL specifics of memory and programs: a buffer over the device's single-allocation limit is an
 * out-of-memory error that leaves the backend usable; the platform's sizes of the live {@code cl_mem} objects
 * match the pool's blocks; released blocks are reused; empty buffers hold no {@code cl_mem}; programs are built once
 * and reused; a kernel that does not compile reports its build log; staged uploads land in order, and host array ranges
 * are checked.
 */
class OpenClMemoryTest extends OpenClBackendTest {
    @Test
    void overTheAllocationLimitIsOutOfMemoryAndTheBackendStaysUsable() {
        long limit = be.runtime().device.maxAllocBytes();
        MemoryStats before = be.memoryStats();
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                () -> be.allocate(DType.FLOAT32, limit / 4 + 1));
        assertTrue(e.getMessage().contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE"), e.getMessage());
        assertEquals(before, be.memoryStats(), "nothing counted for a failed allocation");
        Buffer b = be.allocate(DType.FLOAT32, 3);
        try {
            be.upload(new float[] {1, 2, 3}, 0, b, 0, 3);
            float[] back = new float[3];
            be.download(b, 0, back, 0, 3);
            assertArrayEquals(new float[] {1, 2, 3}, back);
        } finally {
            be.release(b);
        }
    }

    /**
     * Uploads through the staging ring: more uploads than slots in a row, each source array overwritten as soon
     * as the call returns, one overwriting another's range, a kernel reading an upload just queued, and an upload
     * larger than the whole ring (pieces of a slot, the ring reused within it); then one download sees every
     * value where it belongs.
     */
    @Test
    void stagedUploadsLandInOrderAndTheSourceMayChangeAtOnce() {
        int n = 1000, rounds = 3 * OpenClStaging.SLOTS + 1;
        Buffer b = be.allocate(DType.FLOAT32, (long) n * rounds);
        Buffer sum = be.allocate(DType.FLOAT32, 1);
        int bigLength = (OpenClStaging.SLOTS + 1) * OpenClStaging.SLOT_BYTES / 4 + 7;
        Buffer big = be.allocate(DType.INT32, bigLength);
        try {
            float[] src = new float[n];
            for (int r = 0; r < rounds; r++) {
                java.util.Arrays.fill(src, r + 1);
                be.upload(src, 0, b, (long) r * n, n);
                java.util.Arrays.fill(src, -99); // the upload must already hold its own copy
            }
            java.util.Arrays.fill(src, 7);
            be.upload(src, 0, b, 0, n / 2);     // overwrites half of round 0's range, after it
            be.reduce(dev.backprop.backend.ReduceOp.SUM, dev.backprop.backend.ReduceAxis.ALL, 1, n, b, 0, sum, 0);
            float[] back = new float[n * rounds];
            be.download(b, 0, back, 0, n * rounds);
            for (int i = 0; i < back.length; i++) {
                float want = i < n / 2 ? 7 : i / n + 1;
                assertEquals(want, back[i], "element " + i);
            }
            float[] total = new float[1];
            be.download(sum, 0, total, 0, 1);
            assertEquals(7 * (n / 2) + (n - n / 2), total[0], "the kernel saw the upload queued before it");
            int[] ints = new int[bigLength];
            for (int i = 0; i < ints.length; i++) {
                ints[i] = i ^ 0x5a5a;
            }
            be.upload(ints, 0, big, 0, ints.length);
            int[] intsBack = new int[ints.length];
            be.download(big, 0, intsBack, 0, ints.length);
            assertArrayEquals(ints, intsBack, "an upload larger than the ring");
        } finally {
            be.release(b);
            be.release(sum);
            be.release(big);
        }
    }

    /**
     * A released buffer's cl_mem is kept by the pool and reused by the next allocation of its size class, whatever
     * the dtype, and is not counted as live.
     */
    @Test
    void releasedBuffersAreReusedBySizeClass() {
        MemoryStats before = be.memoryStats();
        long block = MemoryPool.sizeClass(777 * 4);
        Buffer a = be.allocate(DType.FLOAT32, 777);
        be.upload(new float[] {5}, 0, a, 0, 1);
        be.release(a);
        MemoryStats kept = be.memoryStats();
        assertEquals(before.pooledBytes() + block, kept.pooledBytes(), "the released cl_mem is kept");
        assertEquals(before.liveBuffers(), kept.liveBuffers(), "a kept cl_mem is not live");
        assertEquals(before.platformBytes(), kept.platformBytes(), "nor counted by the platform figure");
        Buffer b = be.allocate(DType.INT32, 770); // 3,080 bytes: the class of 3,108
        try {
            assertEquals(before.pooledBytes(), be.memoryStats().pooledBytes(), "the same class takes it back");
            be.upload(new int[] {-3, 4}, 0, b, 0, 2);
            int[] back = new int[2];
            be.download(b, 0, back, 0, 2);
            assertArrayEquals(new int[] {-3, 4}, back);
            assertEquals(before.platformBytes() + block, be.memoryStats().platformBytes());
        } finally {
            be.release(b);
        }
        be.trimPool();
        assertEquals(0, be.memoryStats().pooledBytes());
    }

    @Test
    void hostArrayRangesAreChecked() {
        Buffer b = be.allocate(DType.FLOAT32, 8);
        try {
            assertThrows(IndexOutOfBoundsException.class, () -> be.upload(new float[4], 2, b, 0, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> be.download(b, 0, new float[4], 2, 3));
        } finally {
            be.release(b);
        }
    }

    @Test
    void platformBytesMatchTheLiveBuffers() {
        MemoryStats before = be.memoryStats();
        Buffer a = be.allocate(DType.FLOAT32, 1000), b = be.allocate(DType.FLOAT64, 17),
                c = be.allocate(DType.INT32, 0);
        try {
            MemoryStats during = be.memoryStats();
            assertEquals(before.liveBuffers() + 3, during.liveBuffers());
            assertEquals(before.liveBytes() + 4000 + 136, during.liveBytes());
            assertEquals(before.platformBytes() + MemoryPool.sizeClass(4000) + MemoryPool.sizeClass(136),
                    during.platformBytes(), "CL_MEM_SIZE of the live cl_mem objects (their size classes): " + during);
            assertTrue(during.platformSource().contains("clGetMemObjectInfo"), during.platformSource());
            be.fill(c, 0, 0, 1); // an empty buffer takes empty ops
        } finally {
            be.release(a);
            be.release(b);
            be.release(c);
        }
        MemoryStats after = be.memoryStats();
        assertEquals(before.liveBuffers(), after.liveBuffers());
        assertEquals(before.liveBytes(), after.liveBytes());
        assertEquals(before.platformBytes(), after.platformBytes());
    }

    @Test
    void programsAreBuiltOncePerContext() {
        int programs = be.runtime().programs.programCount();
        Buffer x = be.allocate(DType.FLOAT32, 64), y = be.allocate(DType.FLOAT32, 64);
        try {
            for (int i = 0; i < 50; i++) {
                be.unary(dev.backprop.backend.UnaryOp.RELU, 0, 0, x, 0, y, 0, 64);
                be.gemm(false, false, 8, 8, 8, 1, x, 0, 8, x, 0, 8, 0, y, 0, 8, 1, 0, 0, 0);
            }
            be.synchronize();
        } finally {
            be.release(x);
            be.release(y);
        }
        assertEquals(programs, be.runtime().programs.programCount(), "no rebuild after create");
        assertTrue(programs >= 5, "create built every family's program: " + programs);
    }

    @Test
    void buildFailureCarriesTheBuildLog() {
        // gemm.cl without its tile macros cannot compile: the message must say which source, the options, and why.
        BackendFailureException e = assertThrows(BackendFailureException.class,
                () -> be.runtime().programs.program("gemm.cl", "-DREAL=float -DGEMM_PACKED"));
        assertTrue(e.getMessage().contains("clBuildProgram") && e.getMessage().contains("gemm.cl")
                && e.getMessage().contains("build log") && e.getMessage().contains("NR"), e.getMessage());
    }
}
