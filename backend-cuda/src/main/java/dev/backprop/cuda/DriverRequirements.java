package dev.backprop.cuda;

import java.util.Map;
import java.util.TreeMap;

/**
 * Which CUDA driver the shipped PTX and the chosen cuBLAS need. Versions are in the driver API's encoding
 * ({@code 1000·major + 10·minor}: 12040 is CUDA 12.4, reported by {@code cuDriverGetVersion}).
 *
 * <p>A driver JIT-compiles PTX only up to the ISA version its CUDA release introduced; newer PTX fails to
 * load with {@code CUDA_ERROR_UNSUPPORTED_PTX_VERSION}. The table maps each ISA to its first CUDA release,
 * from the PTX ISA documentation's release history.
 */
final class DriverRequirements {
    /** Compute capability the PTX targets ({@code .target sm_75}); older GPUs cannot run it. */
    static final int MIN_COMPUTE_CAPABILITY = 75;
    /** cuBLAS 12 needs at least a CUDA 12.0 driver (minor version compatibility within 12.x). */
    static final int CUBLAS_12_DRIVER = 12000;
    /** cuBLAS 13 needs at least a CUDA 13.0 driver (R580). */
    static final int CUBLAS_13_DRIVER = 13000;

    private static final Map<String, Integer> ISA_TO_CUDA = new TreeMap<>();

    static {
        String[][] table = {
            {"6.3", "10.0"}, {"6.4", "10.1"}, {"6.5", "10.2"}, {"7.0", "11.0"}, {"7.1", "11.1"}, {"7.2", "11.2"},
            {"7.3", "11.3"}, {"7.4", "11.4"}, {"7.5", "11.5"}, {"7.6", "11.6"}, {"7.7", "11.7"}, {"7.8", "11.8"},
            {"8.0", "12.0"}, {"8.1", "12.1"}, {"8.2", "12.2"}, {"8.3", "12.3"}, {"8.4", "12.4"}, {"8.5", "12.5"},
            {"8.6", "12.7"}, {"8.7", "12.8"}, {"8.8", "12.9"}, {"9.0", "13.0"},
        };
        for (String[] row : table) {
            ISA_TO_CUDA.put(row[0], parse(row[1]));
        }
    }

    private DriverRequirements() {
    }

    /** {@code "12.4"} to 12040. */
    static int parse(String version) {
        String[] parts = version.split("\\.");
        return Integer.parseInt(parts[0]) * 1000 + Integer.parseInt(parts[1]) * 10;
    }

    /** 12040 to {@code "12.4"}. */
    static String format(int version) {
        return (version / 1000) + "." + (version % 1000) / 10;
    }

    /** The oldest CUDA driver that loads PTX of ISA {@code isa} (e.g. {@code "6.3"}). */
    static int driverForIsa(String isa) {
        Integer v = ISA_TO_CUDA.get(isa);
        if (v == null) {
            throw new IllegalArgumentException("unknown PTX ISA version " + isa + "; known: " + ISA_TO_CUDA.keySet());
        }
        return v;
    }

    /** Null when {@code driver} can JIT PTX of ISA {@code isa}, else the reason. */
    static String ptxProblem(int driver, String isa) {
        int needed = driverForIsa(isa);
        if (driver >= needed) {
            return null;
        }
        return "the NVIDIA driver supports CUDA " + format(driver) + " but the shipped PTX (ISA " + isa
                + ") needs a CUDA " + format(needed) + " driver or newer; update the NVIDIA driver";
    }

    /** Null when {@code driver} can run cuBLAS of major version {@code cublasMajor}, else the reason. */
    static String cublasProblem(int driver, int cublasMajor, String source) {
        int needed = cublasMajor >= 13 ? CUBLAS_13_DRIVER : CUBLAS_12_DRIVER;
        if (driver >= needed) {
            return null;
        }
        return "cuBLAS " + cublasMajor + " (" + source + ") needs a CUDA " + format(needed)
                + " driver or newer, but the NVIDIA driver supports CUDA " + format(driver)
                + (cublasMajor >= 13 ? "; install cuBLAS 12 (libcublas.so.12) or update the driver to R580+"
                : "; update the NVIDIA driver to R525+");
    }

    /** Null when a device of compute capability {@code major.minor} can run the PTX, else the reason. */
    static String deviceProblem(String name, int major, int minor) {
        if (major * 10 + minor >= MIN_COMPUTE_CAPABILITY) {
            return null;
        }
        return name + " has compute capability " + major + "." + minor + "; the shipped PTX needs 7.5 (Turing) "
                + "or newer";
    }
}
