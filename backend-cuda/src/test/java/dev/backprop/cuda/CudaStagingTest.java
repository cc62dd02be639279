package dev.backprop.cuda;

import dev.backprop.backend.HostArray;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pinned upload ring against a simulated stream: copies are queued and only executed, reading the
 * pinned memory at that moment, when the ring waits for a slot or the stream is synchronized. If the ring
 * reused pinned memory before its copy ran, the delivered bytes would be wrong.
 */
class CudaStagingTest {
    /** A stream that runs queued copies lazily, in order. */
    static class LazyStream implements CudaStaging.Device {
        final List<ByteBuffer> slots = new ArrayList<>();
        final Map<CUdeviceptr, byte[]> memory = new IdentityHashMap<>();
        final Deque<Runnable> queue = new ArrayDeque<>();
        final Map<Integer, Integer> recordedAt = new java.util.HashMap<>();
        int executed;
        int awaits;
        int released;

        @Override
        public ByteBuffer allocatePinned(int slot, int bytes) {
            assertEquals(slots.size(), slot, "slots are allocated in order");
            ByteBuffer b = ByteBuffer.allocateDirect(bytes);
            slots.add(b);
            return b;
        }

        @Override
        public void copyAsync(CUdeviceptr dst, long dstOffset, int slot, int slotOffset, int bytes) {
            queue.add(() -> {
                ByteBuffer src = slots.get(slot).duplicate();
                src.position(slotOffset).limit(slotOffset + bytes);
                src.get(memory.get(dst), (int) dstOffset, bytes);
            });
        }

        @Override
        public void record(int slot) {
            recordedAt.put(slot, executed + queue.size());
        }

        @Override
        public void await(int slot) {
            Integer upTo = recordedAt.get(slot);
            assertTrue(upTo != null, "await of slot " + slot + " without a recorded event");
            awaits++;
            while (executed < upTo) {
                queue.poll().run();
                executed++;
            }
        }

        void synchronize() {
            while (!queue.isEmpty()) {
                queue.poll().run();
                executed++;
            }
        }

        @Override
        public void release(int slot) {
            released++;
        }
    }

    /** Uploads {@code length} bytes (whole ints) of {@code src}, as the int range they are in native order. */
    private static void upload(CudaStaging staging, byte[] src, int srcOffset, CUdeviceptr dst, int length) {
        int[] ints = new int[length / 4];
        ByteBuffer.wrap(src, srcOffset, length).order(ByteOrder.nativeOrder()).asIntBuffer().get(ints);
        staging.upload(HostArray.of(ints, 0, ints.length), dst);
    }

    @Test
    void everyUploadArrivesIntactWhileTheRingWrapsManyTimes() {
        LazyStream stream = new LazyStream();
        CudaStaging staging = new CudaStaging(stream);
        Random r = new Random(3);
        List<byte[]> expected = new ArrayList<>();
        List<CUdeviceptr> targets = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            int length = 4 * switch (i % 4) {
                case 0 -> 1 + r.nextInt(16);
                case 1 -> 1 + r.nextInt(100_000);
                case 2 -> 1 + r.nextInt(CudaStaging.SLOT_BYTES / 6);
                default -> CudaStaging.SLOT_BYTES / 4 + 1 + r.nextInt(CudaStaging.SLOT_BYTES / 8);
            };
            byte[] data = new byte[length + 8];
            r.nextBytes(data);
            CUdeviceptr dst = new CUdeviceptr();
            stream.memory.put(dst, new byte[length]);
            upload(staging, data, 8, dst, length);
            expected.add(java.util.Arrays.copyOfRange(data, 8, 8 + length));
            targets.add(dst);
            if (i == 40) {
                stream.synchronize();
                staging.idle();
            }
        }
        stream.synchronize();
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), stream.memory.get(targets.get(i)), "upload " + i);
        }
        assertEquals(CudaStaging.SLOTS, stream.slots.size(), "at most SLOTS pinned slots are allocated");
        assertTrue(stream.awaits > 5, "the ring waited for slots it reused: " + stream.awaits);
        staging.close();
        assertEquals(CudaStaging.SLOTS, stream.released);
    }

    @Test
    void smallUploadsShareASlotWithoutWaiting() {
        LazyStream stream = new LazyStream();
        CudaStaging staging = new CudaStaging(stream);
        for (int i = 0; i < 1000; i++) {
            CUdeviceptr dst = new CUdeviceptr();
            stream.memory.put(dst, new byte[400]);
            upload(staging, new byte[400], 0, dst, 400);
        }
        assertEquals(1, stream.slots.size(), "1000 uploads of 400 bytes fit one 4 MiB slot (256-byte aligned)");
        assertEquals(0, stream.awaits, "nothing waited");
        assertEquals(CudaStaging.SLOT_BYTES, staging.pinnedBytes());
    }

    @Test
    void aFailingCopyLeavesTheRingUsable() {
        LazyStream stream = new LazyStream() {
            boolean failNext = true;

            @Override
            public void copyAsync(CUdeviceptr dst, long dstOffset, int slot, int slotOffset, int bytes) {
                if (failNext) {
                    failNext = false;
                    throw new IllegalStateException("simulated cuMemcpyHtoDAsync failure");
                }
                super.copyAsync(dst, dstOffset, slot, slotOffset, bytes);
            }
        };
        CudaStaging staging = new CudaStaging(stream);
        CUdeviceptr dst = new CUdeviceptr();
        stream.memory.put(dst, new byte[64]);
        byte[] data = new byte[64];
        new Random(1).nextBytes(data);
        assertThrows(IllegalStateException.class, () -> upload(staging, data, 0, dst, 64));
        upload(staging, data, 0, dst, 64);
        stream.synchronize();
        assertArrayEquals(data, stream.memory.get(dst));
    }
}
