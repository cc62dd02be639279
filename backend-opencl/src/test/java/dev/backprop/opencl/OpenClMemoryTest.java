package dev.backprop.opencl;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenCL specifics of memory and programs: a buffer over the device's single-allocation limit is an
 * out-of-memory error that leaves the backend usable; the platform's sizes of the live {@code cl_mem} objects
 * match the backend's own count; empty buffers hold no {@code cl_mem}; programs are built once and reused; a
 * kernel that does not compile reports its build log.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClMemoryTest {
    private OpenClBackend be;

    @BeforeAll
    void create() {
        be = OpenClTestSupport.create();
    }

    @AfterAll
    void close() {
        if (be != null) {
            be.close();
        }
    }

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

    @Test
    void platformBytesMatchTheLiveBuffers() {
        MemoryStats before = be.memoryStats();
        Buffer a = be.allocate(DType.FLOAT32, 1000), b = be.allocate(DType.FLOAT64, 17), c = be.allocate(DType.INT32, 0);
        try {
            MemoryStats during = be.memoryStats();
            assertEquals(before.liveBuffers() + 3, during.liveBuffers());
            assertEquals(before.liveBytes() + 4000 + 136, during.liveBytes());
            assertEquals(during.liveBytes(), during.platformBytes(), "CL_MEM_SIZE of the live cl_mem objects: " + during);
            assertTrue(during.platformSource().contains("clGetMemObjectInfo"), during.platformSource());
            be.fill(c, 0, 0, 1); // an empty buffer takes empty ops
        } finally {
            be.release(a);
            be.release(b);
            be.release(c);
        }
        assertEquals(before, be.memoryStats());
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
