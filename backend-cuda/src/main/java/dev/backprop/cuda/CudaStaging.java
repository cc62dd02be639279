package dev.backprop.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Pinned host memory for uploads, so an upload is one memcpy into pinned memory plus an asynchronous DMA
 * queued on the backend's stream, and the host does not wait for the device.
 *
 * <p>A ring of {@link #SLOTS} pinned slots of {@link #SLOT_BYTES} each (allocated on first use). Uploads are
 * packed into the current slot; when it is full the ring moves on, recording an event for the slot it
 * leaves. Reusing a slot first waits for that event, i.e. for the copies that still read it, which only
 * happens when more than {@code SLOTS × SLOT_BYTES} of uploads are in flight. After a stream
 * synchronization nothing is in flight and {@link #idle()} resets the ring. Not thread-safe.
 */
final class CudaStaging implements AutoCloseable {
    static final int SLOT_BYTES = 4 << 20;
    static final int SLOTS = 4;
    /** Each upload starts on this boundary inside a slot (DMA-friendly). */
    static final int ALIGN = 256;

    /** Writes {@code bytes} bytes, starting {@code from} bytes into the source array, into {@code target}. */
    interface Source {
        void copy(long from, int bytes, ByteBuffer target);
    }

    private static final class Slot {
        final Pointer host = new Pointer();
        ByteBuffer view;
        final CUevent done = new CUevent();
        boolean inFlight;
        boolean eventCreated;
    }

    private final CudaContext context;
    private final List<Slot> slots = new ArrayList<>();
    private int current;
    private int used;

    CudaStaging(CudaContext context) {
        this.context = context;
    }

    /** Queues the copy of {@code bytes} bytes from {@code source} to {@code dst}; {@code elementSize} keeps pieces whole. */
    void upload(Source source, long bytes, int elementSize, CUdeviceptr dst) {
        long done = 0;
        while (done < bytes) {
            Slot slot = slot(current);
            int space = (SLOT_BYTES - used) / elementSize * elementSize;
            if (space == 0) {
                advance();
                continue;
            }
            int piece = (int) Math.min(space, bytes - done);
            ByteBuffer target = slot.view.duplicate().order(ByteOrder.nativeOrder());
            target.position(used).limit(used + piece);
            source.copy(done, piece, target.slice().order(ByteOrder.nativeOrder()));
            CudaCheck.check(JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset(done), slot.host.withByteOffset(used),
                    piece, context.stream), "cuMemcpyHtoDAsync");
            slot.inFlight = true;
            used = Math.min(SLOT_BYTES, (used + piece + ALIGN - 1) / ALIGN * ALIGN);
            done += piece;
        }
    }

    private Slot slot(int index) {
        while (slots.size() <= index) {
            Slot s = new Slot();
            CudaCheck.check(JCudaDriver.cuMemAllocHost(s.host, SLOT_BYTES), "cuMemAllocHost(" + SLOT_BYTES + ")");
            s.view = s.host.getByteBuffer(0, SLOT_BYTES);
            slots.add(s);
        }
        return slots.get(index);
    }

    private void advance() {
        Slot leaving = slot(current);
        if (leaving.inFlight) {
            if (!leaving.eventCreated) {
                CudaCheck.check(JCudaDriver.cuEventCreate(leaving.done, CUevent_flags.CU_EVENT_DISABLE_TIMING),
                        "cuEventCreate");
                leaving.eventCreated = true;
            }
            CudaCheck.check(JCudaDriver.cuEventRecord(leaving.done, context.stream), "cuEventRecord");
        }
        current = (current + 1) % SLOTS;
        used = 0;
        Slot next = slot(current);
        if (next.inFlight) {
            CudaCheck.check(JCudaDriver.cuEventSynchronize(next.done), "cuEventSynchronize");
            next.inFlight = false;
        }
    }

    /** Called after the stream was synchronized: no copy reads any slot any more. */
    void idle() {
        for (Slot s : slots) {
            s.inFlight = false;
        }
        used = 0;
    }

    /** Pinned bytes held. */
    long pinnedBytes() {
        return (long) slots.size() * SLOT_BYTES;
    }

    /** Frees the pinned memory and events; the stream must have been synchronized. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (Slot s : slots) {
            try {
                if (s.eventCreated) {
                    CudaCheck.check(JCudaDriver.cuEventDestroy(s.done), "cuEventDestroy");
                }
                CudaCheck.check(JCudaDriver.cuMemFreeHost(s.host), "cuMemFreeHost");
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        slots.clear();
        if (first != null) {
            throw first;
        }
    }
}
