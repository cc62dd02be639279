package dev.backprop.backend;

/** Element types a buffer can hold. Every backend supports FLOAT32 and INT32; FLOAT64 where
 *  {@link Capabilities#float64()} says so. */
public enum DType {
    FLOAT32(4, "F32"),
    FLOAT64(8, "F64"),
    INT32(4, "I32");

    private final int byteSize;
    private final String safetensorsName;

    DType(int byteSize, String safetensorsName) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The name the safetensors format uses for this type ({@code F32}, {@code F64}, {@code I32}). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for FLOAT32 and FLOAT64. */
    public boolean isFloating() {
        return this != INT32;
    }
}
