package dev.backprop.cuda;

import dev.backprop.backend.HostArray;
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

    /** The driver calls the ring makes, per slot (a seam, so the ring is tested without a GPU). */
    interface Device {
        /** Pinned host memory for {@code slot}, viewed as a buffer. */
        ByteBuffer allocatePinned(int slot, int bytes);

        /** Queues the copy of {@code bytes} from {@code slot} at {@code slotOffset} to {@code dst + dstOffset}. */
        void copyAsync(CUdeviceptr dst, long dstOffset, int slot, int slotOffset, int bytes);

        /** Records that everything queued so far includes the copies from {@code slot}. */
        void record(int slot);

        /** Waits for what the last {@link #record} of {@code slot} covered. */
        void await(int slot);

        /** Frees the slot's pinned memory and event. */
        void release(int slot);
    }

    /** The JCuda implementation on a context's stream. */
    static Device of(CudaContext context) {
        return new Device() {
            private final List<Pointer> hosts = new ArrayList<>();
            private final List<CUevent> events = new ArrayList<>();

            @Override
            public ByteBuffer allocatePinned(int slot, int bytes) {
                Pointer host = new Pointer();
                CudaCheck.check(JCudaDriver.cuMemAllocHost(host, bytes), "cuMemAllocHost(" + bytes + ")");
                hosts.add(slot, host);
                events.add(slot, null);
                return host.getByteBuffer(0, bytes);
            }

            @Override
            public void copyAsync(CUdeviceptr dst, long dstOffset, int slot, int slotOffset, int bytes) {
                CudaCheck.check(JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset(dstOffset),
                        hosts.get(slot).withByteOffset(slotOffset), bytes, context.stream), "cuMemcpyHtoDAsync");
            }

            @Override
            public void record(int slot) {
                if (events.get(slot) == null) {
                    CUevent e = new CUevent();
                    CudaCheck.check(JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING),
                            "cuEventCreate");
                    events.set(slot, e);
                }
                CudaCheck.check(JCudaDriver.cuEventRecord(events.get(slot), context.stream), "cuEventRecord");
            }

            @Override
            public void await(int slot) {
                CudaCheck.check(JCudaDriver.cuEventSynchronize(events.get(slot)), "cuEventSynchronize");
            }

            @Override
            public void release(int slot) {
                if (events.get(slot) != null) {
                    CudaCheck.check(JCudaDriver.cuEventDestroy(events.get(slot)), "cuEventDestroy");
                    events.set(slot, null);
                }
                CudaCheck.check(JCudaDriver.cuMemFreeHost(hosts.get(slot)), "cuMemFreeHost");
            }
        };
    }

    private final Device device;
    private final List<ByteBuffer> views = new ArrayList<>();
    private final boolean[] inFlight = new boolean[SLOTS];
    private int current;
    private int used;

    CudaStaging(Device device) {
        this.device = device;
    }

    /** Queues the copy of the host range {@code src} to {@code dst}, in pieces that keep elements whole. */
    void upload(HostArray src, CUdeviceptr dst) {
        long bytes = src.bytes();
        int elementSize = src.dtype().byteSize();
        long done = 0;
        while (done < bytes) {
            int space = (SLOT_BYTES - used) / elementSize * elementSize;
            if (space == 0) {
                advance();
                continue;
            }
            int piece = (int) Math.min(space, bytes - done);
            ByteBuffer target = view(current).duplicate();
            target.position(used).limit(used + piece);
            src.copyTo(done, piece, target.slice().order(ByteOrder.nativeOrder()));
            device.copyAsync(dst, done, current, used, piece);
            inFlight[current] = true;
            used = Math.min(SLOT_BYTES, (used + piece + ALIGN - 1) / ALIGN * ALIGN);
            done += piece;
        }
    }

    private ByteBuffer view(int slot) {
        while (views.size() <= slot) {
            views.add(device.allocatePinned(views.size(), SLOT_BYTES));
        }
        return views.get(slot);
    }

    private void advance() {
        if (inFlight[current]) {
            device.record(current);
        }
        current = (current + 1) % SLOTS;
        used = 0;
        if (inFlight[current]) {
            device.await(current);
            inFlight[current] = false;
        }
    }

    /** Called after the stream was synchronized: no copy reads any slot any more. */
    void idle() {
        java.util.Arrays.fill(inFlight, false);
        used = 0;
    }

    /** Pinned bytes held. */
    long pinnedBytes() {
        return (long) views.size() * SLOT_BYTES;
    }

    /** Frees the pinned memory and events; the stream must have been synchronized. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (int slot = 0; slot < views.size(); slot++) {
            try {
                device.release(slot);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        views.clear();
        if (first != null) {
            throw first;
        }
    }
}
