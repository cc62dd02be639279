package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.ClosedTensorException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Buffers and lifetime: accounting of live buffers and bytes, idempotent release, out-of-memory that leaves the
 * backend usable, {@code synchronize}, {@code close} (everything released, later calls refused, a late release
 * from a Cleaner harmless), and a 100,000-op loop whose accounted and platform-reported memory stay flat.
 */
final class MemoryCases {
    private MemoryCases() {
    }

    /** Facade calls in the steady-state loop. */
    static final int LOOP_OPS = 100_000;

    static void accounting(Backend be) {
        MemoryStats start = be.memoryStats();
        List<Buffer> buffers = new ArrayList<>();
        long requested = 0;
        for (DType dt : DType.values()) {
            if (dt == DType.FLOAT64 && !be.capabilities().float64()) {
                continue;
            }
            for (int n : new int[] {1, 17, 1000, 65_537}) {
                buffers.add(be.allocate(dt, n));
                requested += (long) n * dt.byteSize();
            }
        }
        MemoryStats during = be.memoryStats();
        assertEquals(start.liveBuffers() + buffers.size(), during.liveBuffers(), "liveBuffers counts each allocation");
        assertTrue(during.liveBytes() - start.liveBytes() >= requested, "liveBytes grew by at least the " + requested
                + " bytes requested; stats " + start + " -> " + during);
        for (Buffer b : buffers) {
            assertEquals(b.backend(), be, "buffer.backend()");
            assertTrue(!b.isReleased(), "fresh buffer is not released");
            be.release(b);
            assertTrue(b.isReleased(), "released buffer reports isReleased()");
            be.release(b);
        }
        MemoryStats end = be.memoryStats();
        assertEquals(start.liveBuffers(), end.liveBuffers(),
                "liveBuffers back to the start (release twice counts once)");
        assertEquals(start.liveBytes(), end.liveBytes(), "liveBytes back to the start");
    }

    static void outOfMemory(Backend be) {
        MemoryStats start = be.memoryStats();
        assertThrows(DeviceOutOfMemoryException.class, () -> be.allocate(DType.FLOAT32, 1L << 58),
                "allocating 2^58 floats (1 EiB) must throw DeviceOutOfMemoryException");
        MemoryStats after = be.memoryStats();
        assertEquals(start.liveBuffers(), after.liveBuffers(), "a failed allocation is not counted");
        assertEquals(start.liveBytes(), after.liveBytes(), "a failed allocation is not counted");
        try (Scope scope = Scope.open()) {
            assertEquals(3.0, Reductions.sum(Tensor.full(be, DType.FLOAT32, 1, 3)).item(),
                    "the backend stays usable after an out-of-memory error");
        }
    }

    /** Many queued, dependent updates become visible after synchronize; exact in small whole numbers. */
    static void synchronize(Backend be) {
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.full(be, DType.FLOAT32, 1, 1000);
            Tensor y = Tensor.zeros(be, DType.FLOAT32, 1000);
            for (int i = 0; i < 200; i++) {
                Elementwise.axpy(1.0, x, y);
            }
            be.synchronize();
            float[] v = y.toFloatArray();
            for (float f : v) {
                assertEquals(200f, f, "200 queued y += x, then synchronize");
            }
        }
    }

    static void close(Supplier<Backend> factory) {
        Backend be = factory.get();
        Tensor t = Tensor.full(be, DType.FLOAT32, 2, 4, 4);
        Tensor view = t.rows(1, 3);
        Buffer raw = be.allocate(DType.INT32, 10);
        be.close();
        assertTrue(raw.isReleased(), "close() releases every buffer");
        assertTrue(t.isClosed() && view.isClosed(), "tensors of a closed backend report isClosed()");
        assertDoesNotThrow(() -> be.release(raw), "release after close does nothing (a Cleaner may call it)");
        assertDoesNotThrow(t::close, "closing a tensor of a closed backend is harmless");
        assertThrows(IllegalStateException.class, () -> be.allocate(DType.FLOAT32, 4), "allocate after close");
        assertThrows(IllegalStateException.class, () -> be.fill(raw, 0, 1, 0), "an op after close");
        assertThrows(ClosedTensorException.class, () -> Elementwise.unary(UnaryOp.RELU, view), "facade op on a tensor "
                + "of a closed backend");
    }

    /** How much platform-reported bytes may drift, given the backend's own tolerance hook. */
    static void steadyState(Backend be, ToLongFunction<MemoryStats> platformTolerance) {
        loop(be, 1_000);
        MemoryStats before = be.memoryStats();
        double[] last = loop(be, LOOP_OPS);
        be.synchronize();
        MemoryStats after = be.memoryStats();
        assertEquals(before.liveBuffers(), after.liveBuffers(), LOOP_OPS + "-op loop: liveBuffers " + before + " -> "
                + after);
        assertEquals(before.liveBytes(), after.liveBytes(), LOOP_OPS + "-op loop: liveBytes " + before + " -> "
                + after);
        if (before.platformBytes() >= 0) {
            long allowed = platformTolerance.applyAsLong(before);
            long drift = after.platformBytes() - before.platformBytes();
            assertTrue(drift <= allowed, LOOP_OPS + "-op loop: platform bytes (" + before.platformSource()
                    + ") grew by " + drift + ", allowed " + allowed + "; " + before + " -> " + after);
        }
        assertTrue(Double.isFinite(last[0]) && last[0] > 0, "the loop computed something: " + last[0]);
    }

    /**
     * {@code ops} facade calls on small tensors, ten per scope: upload, gemm, relu, add, axpy, column sums,
     * softmax, argmax, transpose, SGD. Returns the last softmax row sum (≈ 1) so the work is not vacuous.
     */
    private static double[] loop(Backend be, int ops) {
        float[] data = new float[256];
        for (int i = 0; i < data.length; i++) {
            data[i] = (i % 17 - 8) / 16f;
        }
        double[] result = new double[1];
        try (Scope outer = Scope.open()) {
            Tensor w = Tensor.of(be, data, 16, 16);
            Tensor velocity = Tensor.zeros(be, DType.FLOAT32, 16, 16);
            for (int done = 0; done < ops; done += 10) {
                try (Scope scope = Scope.open()) {
                    Tensor x = Tensor.of(be, data, 16, 16);
                    Tensor h = MatMul.matmul(x, w);
                    Tensor r = Elementwise.unary(UnaryOp.RELU, h);
                    Tensor s = Elementwise.binary(BinaryOp.ADD, r, x);
                    Elementwise.axpy(0.5, s, r);
                    Reductions.sumPerColumn(r);
                    Tensor p = Softmax.softmax(r);
                    Reductions.argmaxRows(p);
                    Tensor pt = Elementwise.transpose(p);
                    Updates.sgdUpdate(pt, s, velocity, 1e-3, 0.9, 0, false);
                    if (done + 10 >= ops) {
                        result[0] = Reductions.sum(p.rows(0, 1)).item();
                    }
                }
            }
        }
        return result;
    }
}
