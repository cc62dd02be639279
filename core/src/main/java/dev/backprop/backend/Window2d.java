package dev.backprop.backend;

/**
 * The geometry of a 2-D sliding window over a batch of NCHW images, shared by convolution and pooling: a batch of
 * {@code n} images of {@code channels × height × width}, a {@code kernelH × kernelW} window moved by
 * {@code strideH, strideW}, the input padded by {@code padH, padW} zeros on each side, and the window's taps spaced
 * {@code dilationH, dilationW} apart. Output positions follow PyTorch (floor mode):
 * {@code outH = (height + 2·padH - dilationH·(kernelH - 1) - 1) / strideH + 1}, likewise {@code outW}.
 *
 * <p>Output position {@code (oy, ox)} reads input row {@code oy·strideH - padH + i·dilationH} for tap row {@code i}
 * (and likewise columns); a tap outside the image reads a zero (padding). The constructor rejects geometries with no
 * output position, so every backend receives a valid one.
 *
 * @param n         images in the batch (≥ 0)
 * @param channels  channels per image (≥ 1)
 * @param height    input rows (≥ 1)
 * @param width     input columns (≥ 1)
 * @param kernelH   window rows (≥ 1)
 * @param kernelW   window columns (≥ 1)
 * @param strideH   rows between window positions (≥ 1)
 * @param strideW   columns between window positions (≥ 1)
 * @param padH      zero rows added above and below (≥ 0)
 * @param padW      zero columns added left and right (≥ 0)
 * @param dilationH rows between taps (≥ 1)
 * @param dilationW columns between taps (≥ 1)
 */
public record Window2d(int n, int channels, int height, int width, int kernelH, int kernelW, int strideH,
                       int strideW, int padH, int padW, int dilationH, int dilationW) {

    /** Checks every size; the message names the geometry and what is wrong. */
    public Window2d {
        if (n < 0 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("window: input must be [N >= 0, C >= 1, H >= 1, W >= 1], got ["
                    + n + ", " + channels + ", " + height + ", " + width + "]");
        }
        if (kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException("window: kernel must be at least 1x1, got " + kernelH + "x" + kernelW);
        }
        if (strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("window: stride must be at least 1, got " + strideH + "x" + strideW);
        }
        if (padH < 0 || padW < 0) {
            throw new IllegalArgumentException("window: padding must be >= 0, got " + padH + "x" + padW);
        }
        if (dilationH < 1 || dilationW < 1) {
            throw new IllegalArgumentException("window: dilation must be at least 1, got " + dilationH + "x"
                    + dilationW);
        }
        long spanH = (long) dilationH * (kernelH - 1) + 1, spanW = (long) dilationW * (kernelW - 1) + 1;
        if (spanH > height + 2L * padH || spanW > width + 2L * padW) {
            throw new IllegalArgumentException("window: kernel " + kernelH + "x" + kernelW + " (dilation "
                    + dilationH + "x" + dilationW + ", spanning " + spanH + "x" + spanW + ") is larger than the padded "
                    + "input " + (height + 2L * padH) + "x" + (width + 2L * padW) + " (" + height + "x" + width
                    + " plus padding " + padH + "x" + padW + ")");
        }
        long outputs = (long) n * channels * ((height + 2L * padH - spanH) / strideH + 1)
                * ((width + 2L * padW - spanW) / strideW + 1);
        if (outputs > Integer.MAX_VALUE || (long) n * channels * height * width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("window: " + n + "x" + channels + "x" + height + "x" + width
                    + " images are too large (more than 2^31 - 1 elements in or out)");
        }
    }

    /** A window with no dilation. */
    public static Window2d of(int n, int channels, int height, int width, int kernelH, int kernelW, int strideH,
                              int strideW, int padH, int padW) {
        return new Window2d(n, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, 1, 1);
    }

    /** Output rows per image. */
    public int outH() {
        return (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }

    /** Output columns per image. */
    public int outW() {
        return (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }

    /** Elements of the input batch: {@code n·channels·height·width}. */
    public int inputSize() {
        return n * channels * height * width;
    }

    /** Output positions per image and channel: {@code outH·outW}. */
    public int outPlane() {
        return outH() * outW();
    }

    /** Rows of the im2col matrix: {@code channels·kernelH·kernelW}. */
    public int patchSize() {
        return channels * kernelH * kernelW;
    }

    /** Columns of the im2col matrix: {@code n·outH·outW}. */
    public int columns() {
        return n * outPlane();
    }

    /** The same geometry for a batch of {@code images}. */
    public Window2d withBatch(int images) {
        return new Window2d(images, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW,
                dilationH, dilationW);
    }

    @Override
    public String toString() {
        return "[" + n + ", " + channels + ", " + height + ", " + width + "] kernel " + kernelH + "x" + kernelW
                + " stride " + strideH + "x" + strideW + " padding " + padH + "x" + padW
                + (dilationH == 1 && dilationW == 1 ? "" : " dilation " + dilationH + "x" + dilationW);
    }
}
