package dev.backprop.cpu;

/**
 * The set of inner loops one backend instance runs on: either all Vector API or all scalar (FLOAT64 elementwise
 * and INT32 loops are plain Java in both; see {@link F64Kernels}, {@link I32Kernels}).
 *
 * @param f32     FLOAT32 elementwise, reduction, softmax and update loops
 * @param gemmF32 FLOAT32 GEMM packing and micro-kernel
 * @param gemmF64 FLOAT64 GEMM packing and micro-kernel
 * @param vector  whether these are the Vector API kernels
 * @param species the vector shape in use ({@code S_256_BIT: 8 float / 4 double lanes}), or why the Vector API is
 *                off
 */
record CpuKernels(F32Kernels f32, GemmKernel<float[]> gemmF32, GemmKernel<double[]> gemmF64, boolean vector,
                  String species) {
    /** The plain-Java kernels, with the reason the Vector API is not used. */
    static CpuKernels scalar(String whyNotVector) {
        return new CpuKernels(new ScalarF32Kernels(), new ScalarGemmF32(), new ScalarGemmF64(), false, whyNotVector);
    }
}
