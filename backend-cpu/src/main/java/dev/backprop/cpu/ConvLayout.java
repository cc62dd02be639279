package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Window2d;

/**
 * How {@link CpuConvolution} presents one image as the operand of its products without the batch's im2col matrix:
 * a per-image source array, and where each row of the {@code patchSize × positions} operand starts in it.
 *
 * <h2>Padded rows (stride 1)</h2>
 * The image is copied into a zero-bordered plane per channel ({@code Hp × Wp}, the padding included) and output
 * position {@code (oy, ox)} becomes column {@code oy·Wp + ox} of the product. Tap {@code (c, i, j)} of every
 * position is then the one contiguous run of the padded image starting at {@code c·Hp·Wp + i·dh·Wp + j·dw}, so a
 * row of the operand is read in place and packing it is a copy. The price is {@code Wp - outW} extra columns per
 * output row (those whose window hangs past the right edge), computed and dropped: 2 of 30 and 2 of 16 for the
 * reference CNN's two layers. Runs of the last channel reach {@code (kw-1)·dw} elements past the planes, so the
 * source has that much zeroed slack.
 *
 * <h2>Other strides</h2>
 * The image's own im2col matrix ({@code patchSize × outH·outW}, built per image in a workspace), row {@code p} at
 * {@code p·outH·outW}; no extra columns.
 */
final class ConvLayout {
    /** The geometry of one image. */
    final Window2d w;
    /** Images in the batch. */
    final int images;
    final boolean padded;
    /** Columns of the product per output row: {@code Wp}, or {@code outW}. */
    final int pitch;
    /** Columns of the product per image: {@code outH·pitch}. */
    final int positions;
    /** Elements of the per-image source. */
    final int sourceSize;
    /** Where row {@code p} of the operand starts in the source. */
    final int[] starts;
    private final int padW;
    private final int plane;

    ConvLayout(Window2d batch) {
        this.w = batch.withBatch(1);
        this.images = batch.n();
        this.padded = w.strideH() == 1 && w.strideW() == 1;
        int taps = w.kernelH() * w.kernelW();
        this.starts = new int[w.patchSize()];
        if (padded) {
            padW = w.width() + 2 * w.padW();
            plane = (w.height() + 2 * w.padH()) * padW;
            pitch = padW;
            sourceSize = w.channels() * plane + (w.kernelW() - 1) * w.dilationW();
            for (int p = 0; p < starts.length; p++) {
                int c = p / taps, i = p % taps / w.kernelW(), j = p % w.kernelW();
                starts[p] = c * plane + i * w.dilationH() * padW + j * w.dilationW();
            }
        } else {
            padW = 0;
            plane = 0;
            pitch = w.outW();
            sourceSize = w.patchSize() * w.outPlane();
            for (int p = 0; p < starts.length; p++) {
                starts[p] = p * w.outPlane();
            }
        }
        this.positions = w.outH() * pitch;
    }

    /** Elements of one input image. */
    int imageSize() {
        return w.inputSize();
    }

    /** The source of the image at {@code x[xo ..]}, written to {@code src} (at least {@link #sourceSize}). */
    void fill(Object x, int xo, Object src) {
        int hw = w.height() * w.width();
        if (padded) {
            ArrayRuns.zero(src, 0, sourceSize);
            for (int c = 0; c < w.channels(); c++) {
                ArrayRuns.copyRows(x, xo + c * hw, w.width(), src, c * plane + w.padH() * padW + w.padW(), padW,
                        w.height(), w.width());
            }
            return;
        }
        int taps = w.kernelH() * w.kernelW();
        for (int c = 0; c < w.channels(); c++) {
            for (int t = 0; t < taps; t++) {
                CpuImages.im2colRow(w, x, xo + c * hw, t, src, starts[c * taps + t]);
            }
        }
    }

    /** A product's rows ({@code rows × positions}) as the NCHW planes of one image at {@code y[yo ..]}. */
    void emit(Object product, int rows, Object y, int yo) {
        int s = w.outPlane();
        for (int r = 0; r < rows; r++) {
            ArrayRuns.copyRows(product, r * positions, pitch, y, yo + r * s, w.outW(), w.outH(), w.outW());
        }
    }

    /**
     * One image's upstream gradient ({@code rows} NCHW planes at {@code dy[dyo ..]}) in the product's columns, zero
     * in the extra ones, written to {@code dst}; only the padded layout needs this (the other reads {@code dy}).
     */
    void spread(Object dy, int dyo, int rows, Object dst) {
        ArrayRuns.zero(dst, 0, rows * positions);
        for (int r = 0; r < rows; r++) {
            ArrayRuns.copyRows(dy, dyo + r * w.outPlane(), w.outW(), dst, r * positions, pitch, w.outH(), w.outW());
        }
    }

    /**
     * The adjoint of {@link #fill}: the operand-shaped gradient {@code cols} ({@code patchSize × positions}) summed
     * into the image's gradient at {@code dx[dxo ..]} (overwritten), through {@code scratch} (a source-sized
     * array) for the padded layout, where each row of {@code cols} is one vector addition ({@code f32}'s for
     * FLOAT32).
     */
    void adjoint(Object cols, Object scratch, Object dx, int dxo, F32Kernels f32) {
        int hw = w.height() * w.width();
        if (padded) {
            ArrayRuns.zero(scratch, 0, sourceSize);
            for (int p = 0; p < starts.length; p++) {
                if (cols instanceof float[] c) {
                    float[] g = (float[]) scratch;
                    f32.binary(BinaryOp.ADD, g, starts[p], c, p * positions, g, starts[p], positions);
                } else {
                    ArrayRuns.addRun(cols, p * positions, scratch, starts[p], positions);
                }
            }
            for (int c = 0; c < w.channels(); c++) {
                ArrayRuns.copyRows(scratch, c * plane + w.padH() * padW + w.padW(), padW, dx, dxo + c * hw,
                        w.width(), w.height(), w.width());
            }
            return;
        }
        int taps = w.kernelH() * w.kernelW();
        ArrayRuns.zero(dx, dxo, dxo + imageSize());
        for (int c = 0; c < w.channels(); c++) {
            for (int t = 0; t < taps; t++) {
                CpuImages.col2imRow(w, cols, starts[c * taps + t], t, dx, dxo + c * hw);
            }
        }
    }
}
