package dev.backprop.backend;

/** Element types a buffer can hold. Every backend supports FLOAT32 and INT32; FLOAT64 where
 *  {@link Capabilities#float64()} says so. */
public enum DType {
    /** 32-bit IEEE 754 floating point. */
    FLOAT32(4, "F32"),
    /** 64-bit IEEE 754 floating point. */
    FLOAT64(8, "F64"),
    /** 32-bit two's-complement integer. */
    INT32(4, "I32");

    private final int byteSize;
    private final String safetensorsName;

    DType(int byteSize, String safetensorsName) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
    }

    /** {@return bytes per element} */
    public int byteSize() {
        return byteSize;
    }

    /** {@return the name the safetensors format uses for this type ({@code F32}, {@code F64}, {@code I32})} */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** {@return true for FLOAT32 and FLOAT64} */
    public boolean isFloating() {
        return this != INT32;
    }
}
