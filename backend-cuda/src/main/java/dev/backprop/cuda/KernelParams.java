package dev.backprop.cuda;

import dev.backprop.backend.BackendFailureException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The {@code kernelParams} block of {@code cuLaunchKernel}, kept in pinned host memory and rewritten for every
 * launch: a table of {@link #MAX_ARGS} addresses, each pointing at its own 8-byte value slot after the table.
 *
 * <p>Why: handed {@code Pointer.to(Pointer.to(new int[] {n}), ...)}, JCuda converts the nested Java objects to
 * native memory on every call, pinning one Java array per argument. On an H200 that made a launch cost 12-15 µs
 * of host time against 2.2 µs for a driver call without parameters, and the training step is launch-bound
 * (docs/gpu/2026-11-26-h200). Here the table is written once and a launch stores only its values; JCuda passes
 * the block's address through unchanged. The driver copies the values during {@code cuLaunchKernel}, so the
 * block is free again when the call returns.
 *
 * <p>Each argument is checked against the kernel's declared parameter before anything is written: a wrong type
 * would be read as garbage by the GPU, silently.
 */
final class KernelParams implements AutoCloseable {
    /** The most parameters a kernel may have (Adam has 14). */
    static final int MAX_ARGS = 16;
    private static final int SLOT = Long.BYTES;
    static final int BYTES = 2 * MAX_ARGS * SLOT;

    private final ByteBuffer bytes;
    private final Pointer block;
    private final Runnable free;
    private boolean closed;

    /** Over {@code bytes}, whose first byte is at native address {@code address}; {@code block} points there. */
    KernelParams(ByteBuffer bytes, long address, Pointer block, Runnable free) {
        if (bytes.capacity() < BYTES) {
            throw new IllegalArgumentException("a parameter block needs " + BYTES + " bytes, got " + bytes.capacity());
        }
        this.bytes = bytes.order(ByteOrder.nativeOrder());
        this.block = block;
        this.free = free;
        for (int i = 0; i < MAX_ARGS; i++) {
            this.bytes.putLong(i * SLOT, address + valueOffset(i));
        }
    }

    /** A block in pinned host memory ({@code cuMemAllocHost}); needs the context current. */
    static KernelParams pinned() {
        HostBlock host = new HostBlock();
        CudaCheck.check(JCudaDriver.cuMemAllocHost(host, BYTES), "cuMemAllocHost(" + BYTES + " bytes)");
        ByteBuffer bytes = host.getByteBuffer(0, BYTES);
        if (host.address() == 0 || bytes == null || !bytes.isDirect()) { // JCuda 12.6 sets both; another might not
            CudaCheck.check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost");
            throw new BackendFailureException("cuda: JCuda left the pinned kernel-parameter block unreadable "
                    + "(address " + host.address() + ", buffer " + bytes + "); this JCuda version is not supported");
        }
        // kernelParams gets a plain address: JCuda then passes it through with a few field reads.
        return new KernelParams(bytes, host.address(), new Address(host.address()),
                () -> CudaCheck.check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost"));
    }

    private static int valueOffset(int index) {
        return (MAX_ARGS + index) * SLOT;
    }

    /**
     * Stores {@code args} as {@code kernel}'s parameters: {@code CUdeviceptr} for pointers, {@code Integer},
     * {@code Long} and {@code Double} for the scalars. Returns the block to pass as {@code kernelParams}.
     *
     * @throws IllegalArgumentException on a wrong count or type (a bug in this module), before anything is written
     */
    Pointer write(CudaKernel kernel, Object... args) {
        check(kernel, args);
        if (closed) {
            throw new IllegalStateException("kernel parameter block already freed (backend closed)");
        }
        List<CudaKernel.Param> params = kernel.params();
        for (int i = 0; i < args.length; i++) {
            int at = valueOffset(i);
            switch (params.get(i)) {
                case PTR -> bytes.putLong(at, DeviceAddress.of((CUdeviceptr) args[i]));
                case I32 -> bytes.putInt(at, (Integer) args[i]);
                case I64 -> bytes.putLong(at, (Long) args[i]);
                case F64 -> bytes.putDouble(at, (Double) args[i]);
            }
        }
        return block;
    }

    /** Checks {@code args} against {@code kernel}'s declared parameters; throws as {@link #write}. */
    static void check(CudaKernel kernel, Object... args) {
        List<CudaKernel.Param> params = kernel.params();
        if (args.length != params.size()) {
            throw new IllegalArgumentException(kernel.entry() + ": " + args.length + " arguments for "
                    + params.size() + " parameters " + params);
        }
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            CudaKernel.Param p = params.get(i);
            boolean ok = switch (p) {
                case PTR -> a instanceof CUdeviceptr;
                case I32 -> a instanceof Integer;
                case I64 -> a instanceof Long;
                case F64 -> a instanceof Double;
            };
            if (!ok) {
                throw new IllegalArgumentException(kernel.entry() + ": argument " + i + " must be " + p + ", got "
                        + (a == null ? "null" : a.getClass().getSimpleName()));
            }
        }
    }

    /** The value slot of argument {@code index}, as written by the last {@link #write} (for tests). */
    long slot(int index) {
        return bytes.getLong(valueOffset(index));
    }

    /** The address the table holds for argument {@code index} (for tests). */
    long tableEntry(int index) {
        return bytes.getLong(index * SLOT);
    }

    /** Frees the pinned block; later writes throw. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            free.run();
        }
    }

    /** Pinned host memory whose address JCuda keeps in a protected field. */
    private static final class HostBlock extends Pointer {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** A host address and nothing else (no buffer, no nested pointers). */
    private static final class Address extends Pointer {
        Address(long address) {
            super(address);
        }
    }

    /** Reads the device address of a {@code CUdeviceptr}: JCuda keeps it protected (native pointer + offset). */
    static final class DeviceAddress extends CUdeviceptr {
        private DeviceAddress(CUdeviceptr p) {
            super(p, 0);
        }

        static long of(CUdeviceptr p) {
            DeviceAddress a = new DeviceAddress(p);
            return a.getNativePointer() + a.getByteOffset();
        }
    }
}
