package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.base.OpFamilies;

import java.util.Locale;

/**
 * GEMM on OpenCL ({@code gemm.cl}): picks the kernel variant and its tile sizes for the device and dtype, and
 * launches one group per C tile and batch item.
 *
 * <p>Tiles per device type (see {@link Config}): on CPU devices the packed one-work-item-per-tile kernel with a
 * 6 x 16 (float) or 6 x 8 (double) register block, the shape of an AVX2 micro-kernel, measured on PoCL 3.1
 * (2-core EPYC) against other blockings; on GPUs the cooperative tiled kernel with 64 x 64 tiles, K slices of 16
 * and 4 x 4 blocks per work-item (16 x 16 work-items), the usual starting point for GPUs, which this project could
 * not measure here. {@code backprop.opencl.gemm=packed|tiled} overrides the choice (tests run both on PoCL).
 */
final class OpenClGemm implements OpFamilies.Gemm<OpenClBuffer> {
    /** Kernel variants of gemm.cl. */
    enum Variant { PACKED, TILED }

    /**
     * One build of gemm.cl: a TM x TN tile of C per group, K slices of KB, MR x NR outputs per work-item
     * (NR is the vector width).
     */
    record Config(Variant variant, int tm, int tn, int kb, int mr, int nr) {
        /** The build options that select this variant and its sizes. */
        String options() {
            return "-DGEMM_" + variant + " -DTM=" + tm + " -DTN=" + tn + " -DKB=" + kb + " -DMR=" + mr + " -DNR=" + nr;
        }

        /** Local memory one group uses, in bytes. */
        long localBytes(DType dtype) {
            return (long) (tm + tn) * kb * dtype.byteSize();
        }

        /** Work-items per group. */
        int groupSize() {
            return variant == Variant.PACKED ? 1 : (tn / nr) * (tm / mr);
        }

        @Override
        public String toString() {
            return variant.name().toLowerCase(Locale.ROOT) + " " + tm + "x" + tn + " tiles, k-slices of " + kb + ", "
                    + mr + "x" + nr + " per work-item";
        }
    }

    private final OpenClRuntime rt;
    private final Variant variant;
    private final int[] sizes;

    /**
     * @param rt   the runtime
     * @param spec null for the device type's default, or {@code packed} / {@code tiled} to force a variant,
     *             optionally with explicit sizes {@code packed:TM,TN,KB,MR,NR} (for tuning on a new device)
     * @throws IllegalArgumentException for a malformed spec
     */
    OpenClGemm(OpenClRuntime rt, String spec) {
        this.rt = rt;
        if (spec == null) {
            this.variant = rt.device.type() == DeviceType.CPU ? Variant.PACKED : Variant.TILED;
            this.sizes = null;
            return;
        }
        String[] parts = spec.trim().split(":", 2);
        try {
            this.variant = Variant.valueOf(parts[0].trim().toUpperCase(Locale.ROOT));
            this.sizes = parts.length == 1 ? null : java.util.Arrays.stream(parts[1].split(","))
                    .mapToInt(x -> Integer.parseInt(x.trim())).toArray();
        } catch (IllegalArgumentException e) {
            throw badSpec(spec);
        }
        if (sizes != null && (sizes.length != 5 || sizes[0] % sizes[3] != 0 || sizes[1] % sizes[4] != 0
                || sizes[2] < 1 || java.util.Arrays.binarySearch(new int[] {2, 4, 8, 16}, sizes[4]) < 0)) {
            throw badSpec(spec);
        }
    }

    private static IllegalArgumentException badSpec(String spec) {
        return new IllegalArgumentException("backprop.opencl.gemm must be 'packed' or 'tiled', optionally with sizes "
                + "'packed:TM,TN,KB,MR,NR' (TM a multiple of MR, TN of NR, NR one of 2, 4, 8, 16), got '" + spec + "'");
    }

    /** The configuration used for {@code dtype} on this device. */
    Config config(DType dtype) {
        Config c;
        if (sizes != null) {
            c = new Config(variant, sizes[0], sizes[1], sizes[2], sizes[3], sizes[4]);
        } else if (variant == Variant.PACKED) {
            c = new Config(Variant.PACKED, 192, 128, 64, 6, dtype == DType.FLOAT64 ? 8 : 16);
        } else {
            c = new Config(Variant.TILED, 64, 64, 16, 4, 4);
        }
        return fit(c, dtype);
    }

    /**
     * Shrinks a configuration until it fits the device: the K slice first (down to 8), then the tiles, so
     * that local memory and the work-group size stay within the device's limits.
     */
    private Config fit(Config c, DType dtype) {
        while (c.localBytes(dtype) > rt.device.localMemBytes() || c.groupSize() > rt.device.maxWorkGroupSize()) {
            if (c.kb() > 8 && c.groupSize() <= rt.device.maxWorkGroupSize()) {
                c = new Config(c.variant(), c.tm(), c.tn(), c.kb() / 2, c.mr(), c.nr());
            } else if (c.tm() > c.mr() && c.tm() / 2 % c.mr() == 0) {
                c = new Config(c.variant(), c.tm() / 2, c.tn(), c.kb(), c.mr(), c.nr());
            } else if (c.tn() > c.nr()) {
                c = new Config(c.variant(), c.tm(), c.tn() / 2, c.kb(), c.mr(), c.nr());
            } else {
                throw new IllegalStateException("opencl: no GEMM tiling fits " + rt.device.label() + " (local memory "
                        + rt.device.localMemBytes() + " B, work-group size " + rt.device.maxWorkGroupSize() + ")");
            }
        }
        return c;
    }

    /** Builds the GEMM program for {@code dtype} (at backend creation, so build errors surface there). */
    void prepare(DType dtype) {
        launch(dtype, config(dtype));
    }

    private OpenClLaunch launch(DType dtype, Config c) {
        return rt.launch("gemm.cl", c.options(), dtype, "gemm");
    }

    /** See {@link dev.backprop.backend.Backend#gemm}; arguments are validated by core. */
    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                     OpenClBuffer a, long aOffset, int lda, OpenClBuffer b, long bOffset, int ldb,
                     double beta, OpenClBuffer c, long cOffset, int ldc, int batch, long strideA, long strideB,
                     long strideC) {
        DType dtype = c.dtype();
        Config cfg = config(dtype);
        long tilesX = (n + cfg.tn() - 1) / cfg.tn(), tilesY = (m + cfg.tm() - 1) / cfg.tm();
        long wx = cfg.variant() == Variant.PACKED ? 1 : cfg.tn() / cfg.nr();
        long wy = cfg.variant() == Variant.PACKED ? 1 : cfg.tm() / cfg.mr();
        launch(dtype, cfg)
                .i32(transA ? 1 : 0).i32(transB ? 1 : 0).i32(m).i32(n).i32(k).real(alpha)
                .mem(a).i64(aOffset).i32(lda).i64(strideA)
                .mem(b).i64(bOffset).i32(ldb).i64(strideB)
                .real(beta).mem(c).i64(cOffset).i32(ldc).i64(strideC)
                .run(new long[] {tilesX * wx, tilesY * wy, batch}, new long[] {wx, wy, 1});
    }
}
