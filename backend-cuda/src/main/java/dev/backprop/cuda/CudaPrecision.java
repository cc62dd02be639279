package dev.backprop.cuda;

import dev.backprop.backend.BackendOptions;

import java.util.Locale;

/**
 * How float32 GEMMs run ({@code backprop.cuda.precision}, or the backend option {@code precision}); float64 GEMMs and
 * every kernel are unaffected, and parameters, gradients and optimizer state stay float32 (the master weights).
 * <ul>
 *   <li>{@link #FP32} (default): exact float32 ({@code CUBLAS_DEFAULT_MATH}), bit-for-bit as the other backends
 *       order their sums would allow, and as before this option existed;</li>
 *   <li>{@link #TF32}: cuBLAS's TF32 tensor-core math mode (10-bit mantissa products, float32 accumulation);</li>
 *   <li>{@link #BF16}: both operands rounded to bfloat16 (8-bit mantissa) by a kernel, then {@code cublasGemmEx}
 *       with float32 accumulation and a float32 result.</li>
 * </ul>
 * The older boolean {@code tf32=true} still selects {@link #TF32}; together with another precision it is an error.
 */
enum CudaPrecision {
    FP32, TF32, BF16;

    /** The precision {@code options} ask for; a clear error for an unknown name or a contradiction. */
    static CudaPrecision of(BackendOptions options) {
        boolean tf32 = options.getBoolean("cuda", "tf32", false);
        String asked = options.get("cuda", "precision").orElse(null);
        if (asked == null) {
            return tf32 ? TF32 : FP32;
        }
        CudaPrecision p = parse(asked);
        if (tf32 && p != TF32) {
            throw new IllegalArgumentException("backprop.cuda.tf32=true contradicts backprop.cuda.precision="
                    + asked.trim() + "; set one of them");
        }
        return p;
    }

    /** {@code fp32}, {@code tf32} or {@code bf16}, in any case. */
    static CudaPrecision parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        for (CudaPrecision p : values()) {
            if (p.name().equals(n)) {
                return p;
            }
        }
        throw new IllegalArgumentException("backprop.cuda.precision must be fp32, tf32 or bf16, got '" + name + "'");
    }

    /** The option's spelling, e.g. {@code bf16}. */
    String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
