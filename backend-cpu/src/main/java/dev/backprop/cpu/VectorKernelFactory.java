package dev.backprop.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

import java.util.function.Supplier;

/**
 * Builds the Vector API {@link CpuKernels}. {@link CpuVectorApi} instantiates this class by name, and only after
 * it has found {@code jdk.incubator.vector} in the boot layer, so no class that links against the incubator
 * module is ever loaded on a JVM started without {@code --add-modules jdk.incubator.vector}.
 */
final class VectorKernelFactory implements Supplier<CpuKernels> {
    /** Fewer float lanes than this means no usable SIMD unit: the scalar loops are faster then. */
    static final int MIN_FLOAT_LANES = 4;

    VectorKernelFactory() {
    }

    @Override
    public CpuKernels get() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        String shape = FloatVector.SPECIES_PREFERRED.vectorShape() + ": " + lanes + " float / "
                + DoubleVector.SPECIES_PREFERRED.length() + " double lanes";
        if (lanes < MIN_FLOAT_LANES) {
            return CpuKernels.scalar("the preferred vector shape here is " + shape + ", too narrow to pay off");
        }
        return new CpuKernels(new VectorF32Kernels(), new VectorGemmF32(), new VectorGemmF64(), true, shape);
    }
}
