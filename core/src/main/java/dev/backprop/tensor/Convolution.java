package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Window2d;

/**
 * 2-D convolution on NCHW tensors (PyTorch's {@code conv2d} with groups = 1) and its backward products. The window's
 * geometry is a {@link Window2d}; {@link #window} builds it from an input and a weight. Shapes: input
 * {@code [N, C, H, W]}, weight {@code [O, C, kH, kW]}, bias {@code [O]}, output {@code [N, O, outH, outW]}.
 */
public final class Convolution {
    private Convolution() {
    }

    /**
     * The window of a convolution of {@code x} ({@code [N, C, H, W]}) with {@code weight} ({@code [O, C, kH, kW]}).
     *
     * @throws ShapeMismatchException   when a tensor is not rank 4 or the channel counts differ
     * @throws IllegalArgumentException when a stride, padding or dilation is out of range, or the kernel does not fit
     *                                  the padded input
     */
    public static Window2d window(Tensor x, Tensor weight, int strideH, int strideW, int padH, int padW,
                                  int dilationH, int dilationW) {
        Checks.rank("conv2d", x, 4);
        Checks.rank("conv2d", weight, 4);
        int[] xs = x.shape().dims(), ws = weight.shape().dims();
        if (xs[1] != ws[1]) {
            throw new ShapeMismatchException("conv2d: input " + x.shape() + " has " + xs[1] + " channel"
                    + (xs[1] == 1 ? "" : "s") + ", weight " + weight.shape() + " expects " + ws[1]);
        }
        return new Window2d(xs[0], xs[1], xs[2], xs[3], ws[2], ws[3], strideH, strideW, padH, padW, dilationH,
                dilationW);
    }

    /** {@code y = conv2d(x, weight) + bias} into {@code y}; {@code bias} may be null. */
    public static void conv2d(Window2d w, Tensor x, Tensor weight, Tensor bias, Tensor y) {
        String op = "conv2d";
        Backend be = Checks.backendOf(op, x, weight, bias, y);
        int o = outChannels(op, w, weight);
        Images.check(op, "input", x, w.n(), w.channels(), w.height(), w.width());
        Images.check(op, "output", y, w.n(), o, w.outH(), w.outW());
        if (bias != null) {
            Images.vector(op, "bias", bias, o);
        }
        Checks.floating(op, x);
        Checks.sameDType(op, x, weight, bias, y);
        Checks.disjoint(op, x, y);
        Checks.disjoint(op, weight, y);
        if (bias != null) {
            Checks.disjoint(op, bias, y);
        }
        Tensor.written(y);
        be.conv2d(w, o, x.buffer(), x.offset(), weight.buffer(), weight.offset(), bias == null ? null : bias.buffer(),
                bias == null ? 0 : bias.offset(), y.buffer(), y.offset());
    }

    /** A new tensor {@code conv2d(x, weight) + bias} ({@code bias} may be null). */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int strideH, int strideW, int padH, int padW,
                                int dilationH, int dilationW) {
        Window2d w = window(x, weight, strideH, strideW, padH, padW, dilationH, dilationW);
        Tensor y = Tensor.empty(Checks.backendOf("conv2d", x, weight, bias), x.dtype(),
                Shape.of(w.n(), weight.shape().dim(0), w.outH(), w.outW()));
        return Elementwise.closeOnFailure(y, () -> conv2d(w, x, weight, bias, y));
    }

    /**
     * The backward products for the upstream gradient {@code dy}: {@code dx} (like {@code x}), {@code dweight} (like
     * {@code weight}), {@code dbias} ({@code [O]}); each may be null and is overwritten. {@code x} may be null when
     * {@code dweight} is, {@code weight} never (it gives the output channels).
     */
    public static void conv2dBackward(Window2d w, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dweight,
                                      Tensor dbias) {
        String op = "conv2dBackward";
        Backend be = Checks.backendOf(op, x, weight, dy, dx, dweight, dbias);
        int o = outChannels(op, w, weight);
        Images.check(op, "upstream gradient", dy, w.n(), o, w.outH(), w.outW());
        if (dweight != null && x == null) {
            throw new IllegalArgumentException(op + ": the weight gradient needs the input x");
        }
        if (x != null) {
            Images.check(op, "input", x, w.n(), w.channels(), w.height(), w.width());
        }
        if (dx != null) {
            Images.check(op, "input gradient", dx, w.n(), w.channels(), w.height(), w.width());
        }
        if (dweight != null) {
            Checks.sameShape(op, weight, dweight);
            Checks.contiguous(op, dweight);
        }
        if (dbias != null) {
            Images.vector(op, "bias gradient", dbias, o);
        }
        Checks.floating(op, dy);
        Checks.sameDType(op, x, weight, dy, dx, dweight, dbias);
        for (Tensor out : new Tensor[] {dx, dweight, dbias}) {
            if (out != null) {
                for (Tensor in : new Tensor[] {x, weight, dy}) {
                    Checks.disjoint(op, in, out);
                }
            }
        }
        Images.mutuallyDisjoint(op, dx, dweight, dbias);
        Tensor.written(dx, dweight, dbias);
        be.conv2dBackward(w, o, x == null ? null : x.buffer(), x == null ? 0 : x.offset(), weight.buffer(),
                weight.offset(), dy.buffer(), dy.offset(), dx == null ? null : dx.buffer(),
                dx == null ? 0 : dx.offset(), dweight == null ? null : dweight.buffer(),
                dweight == null ? 0 : dweight.offset(), dbias == null ? null : dbias.buffer(),
                dbias == null ? 0 : dbias.offset());
    }

    /** The weight's output channels, after checking it is {@code [O, C, kH, kW]} for the window. */
    private static int outChannels(String op, Window2d w, Tensor weight) {
        Checks.rank(op, weight, 4);
        Checks.contiguous(op, weight);
        int[] d = weight.shape().dims();
        if (d[1] != w.channels() || d[2] != w.kernelH() || d[3] != w.kernelW() || d[0] < 1) {
            throw new ShapeMismatchException(op + ": weight " + weight.shape() + " does not fit " + w
                    + " (expected [O >= 1, " + w.channels() + ", " + w.kernelH() + ", " + w.kernelW() + "])");
        }
        return d[0];
    }
}
