package dev.backprop.io;

import dev.backprop.backend.DType;

/**
 * The element types a safetensors file may hold that Backprop reads: the three tensor dtypes of a backend, plus
 * {@link #I64} for the 64-bit whole numbers PyTorch stores beside the weights (a batch norm's
 * {@code num_batches_tracked}), which Backprop keeps on the host, never in a tensor.
 */
enum SafeTensorsType {
    /** float32: {@link DType#FLOAT32}. */
    F32(DType.FLOAT32, 4),
    /** float64: {@link DType#FLOAT64}. */
    F64(DType.FLOAT64, 8),
    /** int32: {@link DType#INT32}. */
    I32(DType.INT32, 4),
    /** int64: counters, read and written as Java {@code long}s (no tensor dtype). */
    I64(null, 8);

    private final DType tensorType;
    private final int byteSize;

    SafeTensorsType(DType tensorType, int byteSize) {
        this.tensorType = tensorType;
        this.byteSize = byteSize;
    }

    /** The tensor dtype this type is read into, or null for {@link #I64}. */
    public DType tensorType() {
        return tensorType;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The name in a file's header ({@code F32}). */
    public String safetensorsName() {
        return name();
    }

    /** True for F32 and F64. */
    public boolean isFloating() {
        return tensorType != null && tensorType.isFloating();
    }

    /** The stored type of a tensor dtype. */
    public static SafeTensorsType of(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> F32;
            case FLOAT64 -> F64;
            case INT32 -> I32;
        };
    }
}
