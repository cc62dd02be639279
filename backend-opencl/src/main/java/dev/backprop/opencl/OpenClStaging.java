package dev.backprop.opencl;

import dev.backprop.backend.HostArray;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_event;
import org.jocl.cl_mem;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Uploads that do not wait for the device: the Java array is copied, a slot at a time, into one of {@link #SLOTS}
 * direct (off-heap) host buffers and each piece is written non-blocking, with an event that says when the slot
 * may be refilled. A blocking write from a Java array (the only safe kind, since the GC may move the array) waits
 * on an in-order queue for every command queued before it, so a training step's upload would wait for the
 * previous step's kernels; through this ring the host goes on queuing.
 *
 * <p>Used under the backend's lock. {@link #close} waits for the queued writes.
 */
final class OpenClStaging implements AutoCloseable {
    /** Slots in the ring: a fifth piece in flight waits for the first one's write to finish. */
    static final int SLOTS = 4;
    /** Bytes per slot: a batch of 128 Fashion-MNIST images (401 KiB) is one piece. */
    static final int SLOT_BYTES = 1 << 20;

    private final OpenClRuntime rt;
    private final ByteBuffer[] slots = new ByteBuffer[SLOTS];
    private final cl_event[] pending = new cl_event[SLOTS];
    private int next;

    OpenClStaging(OpenClRuntime rt) {
        this.rt = rt;
    }

    /**
     * Queues the write of the host range {@code src} to {@code dst} at {@code dstByteOffset}, in pieces of at most a
     * slot that keep elements whole.
     */
    void write(HostArray src, cl_mem dst, long dstByteOffset) {
        long bytes = src.bytes();
        int elementSize = src.dtype().byteSize();
        int maxPiece = SLOT_BYTES / elementSize * elementSize;
        for (long done = 0; done < bytes; ) {
            int piece = (int) Math.min(maxPiece, bytes - done);
            int slot = next;
            next = (next + 1) % SLOTS;
            awaitSlot(slot);
            if (slots[slot] == null) {
                slots[slot] = ByteBuffer.allocateDirect(SLOT_BYTES).order(ByteOrder.nativeOrder());
            }
            ByteBuffer b = slots[slot];
            b.clear();
            src.copyTo(done, piece, b);
            cl_event written = new cl_event();
            OpenClCheck.check(CL.clEnqueueWriteBuffer(rt.queue, dst, false, dstByteOffset + done, piece, Pointer.to(b),
                    0, null, written), "clEnqueueWriteBuffer", "non-blocking, " + piece + " bytes from staging slot "
                    + slot);
            pending[slot] = written;
            done += piece;
        }
    }

    private void awaitSlot(int slot) {
        cl_event e = pending[slot];
        if (e != null) {
            pending[slot] = null;
            try {
                OpenClCheck.check(CL.clWaitForEvents(1, new cl_event[] {e}), "clWaitForEvents", "staging slot " + slot);
            } finally {
                CL.clReleaseEvent(e);
            }
        }
    }

    /** Waits for every queued write and releases the events. Idempotent. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = 0; i < SLOTS; i++) {
            try {
                awaitSlot(i);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
