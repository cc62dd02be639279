package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.cuda.CudaLaunch.Shape;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Launches recorded instead of run, for the tests of an op family's Java half: each argument list is checked against
 * the kernel's parameters (as {@link KernelParams#write} does before a real launch), and buffers come from a pool on
 * {@link AddressedDevice}, so every pointer argument is traceable to its buffer and offset.
 */
final class LaunchRecorder {
    /** One recorded launch. */
    record Launch(CudaKernel kernel, Shape shape, List<Object> args) {
        /** The arguments with every pointer replaced by its address. */
        List<Object> resolved() {
            return args.stream().map(a -> a instanceof CUdeviceptr ? (Object) address(a) : a).toList();
        }
    }

    final MemoryPool<CUdeviceptr> pool = new MemoryPool<>("cuda", new CudaMemory(new AddressedDevice()),
            Long.MAX_VALUE);
    final List<Launch> launches = new ArrayList<>();
    final CudaLaunch launch;

    LaunchRecorder(int maxBlocks) {
        launch = new CudaLaunch(maxBlocks, (kernel, shape, args) -> {
            KernelParams.check(kernel, args);
            launches.add(new Launch(kernel, shape, Arrays.asList(args)));
        });
    }

    /** A buffer of the pool (no backend behind it). */
    CudaBuffer buffer(DType dtype, long elements) {
        return new CudaBuffer(null, dtype, elements, pool.allocate(dtype, elements));
    }

    static long address(Object pointer) {
        return KernelParams.DeviceAddress.of((CUdeviceptr) pointer);
    }

    /** The device address of element {@code offset} of {@code b}. */
    static long at(CudaBuffer b, long offset) {
        return address(b.at(0)) + offset * b.dtype().byteSize();
    }
}
