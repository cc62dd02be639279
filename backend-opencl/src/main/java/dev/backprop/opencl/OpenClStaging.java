package dev.backprop.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_event;
import org.jocl.cl_mem;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Uploads that do not wait for the device: the Java array is copied into one of {@link #SLOTS} direct (off-heap)
 * host buffers and the write is queued non-blocking, with an event that says when the slot may be refilled. A
 * blocking write from a Java array (the only safe kind, since the GC may move the array) waits on an in-order
 * queue for every command queued before it, so a training step's upload would wait for the previous step's
 * kernels; through this ring the host goes on queuing. Uploads larger than a slot stay blocking.
 *
 * <p>Used under the backend's lock. {@link #close} waits for the queued writes before the buffers can go.
 */
final class OpenClStaging implements AutoCloseable {
    /** Slots in the ring: a fifth upload waits for the first one's write to finish. */
    static final int SLOTS = 4;
    /** Bytes per slot: a batch of 128 Fashion-MNIST images (401 KiB) fits. */
    static final int SLOT_BYTES = 1 << 20;

    /** Puts the bytes to upload into a slot (in native byte order, from position 0). */
    @FunctionalInterface
    interface Source {
        void fill(ByteBuffer slot);
    }

    private final OpenClRuntime rt;
    private final ByteBuffer[] slots = new ByteBuffer[SLOTS];
    private final cl_event[] pending = new cl_event[SLOTS];
    private int next;

    OpenClStaging(OpenClRuntime rt) {
        this.rt = rt;
    }

    /**
     * Queues a write of {@code bytes} bytes to {@code dst} at {@code dstByteOffset} from what {@code source} puts
     * in a slot. Returns false, doing nothing, when the upload is larger than a slot (write it blocking instead).
     */
    boolean write(Source source, long bytes, cl_mem dst, long dstByteOffset) {
        if (bytes > SLOT_BYTES) {
            return false;
        }
        int slot = next;
        next = (next + 1) % SLOTS;
        awaitSlot(slot);
        if (slots[slot] == null) {
            slots[slot] = ByteBuffer.allocateDirect(SLOT_BYTES).order(ByteOrder.nativeOrder());
        }
        ByteBuffer b = slots[slot];
        b.clear();
        source.fill(b);
        b.position(0);
        cl_event done = new cl_event();
        OpenClCheck.check(CL.clEnqueueWriteBuffer(rt.queue, dst, false, dstByteOffset, bytes, Pointer.to(b), 0, null,
                done), "clEnqueueWriteBuffer", "non-blocking, " + bytes + " bytes from staging slot " + slot);
        pending[slot] = done;
        return true;
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
