package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;

/**
 * Max and average pooling of NCHW tensors with PyTorch's semantics (floor mode): max pooling keeps the input-plane
 * index of each window's first maximum for the backward pass (NaN counting as the largest, so a window with NaN
 * outputs NaN and its gradient goes to the first NaN, where PyTorch's scan ends on the last); average pooling counts
 * padding as zeros unless asked not to. Shapes: input {@code [N, C, H, W]}, output and indices
 * {@code [N, C, outH, outW]} (see {@link Window2d}).
 */
public final class Pooling {
    private Pooling() {
    }

    /**
     * The window of a pooling of {@code x} ({@code [N, C, H, W]}).
     *
     * @throws IllegalArgumentException when a size is out of range, or the padding is more than half the kernel
     *                                  (PyTorch's rule, which guarantees every window holds an input element)
     */
    public static Window2d window(Tensor x, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
        Checks.rank("pool2d", x, 4);
        int[] d = x.shape().dims();
        Window2d w = Window2d.of(d[0], d[1], d[2], d[3], kernelH, kernelW, strideH, strideW, padH, padW);
        checkPadding("pool2d", w);
        return w;
    }

    private static void checkPadding(String op, Window2d w) {
        if (w.dilationH() != 1 || w.dilationW() != 1) {
            throw new IllegalArgumentException(op + ": pooling takes no dilation, got " + w);
        }
        if (2 * w.padH() > w.kernelH() || 2 * w.padW() > w.kernelW()) {
            throw new IllegalArgumentException(op + ": padding " + w.padH() + "x" + w.padW() + " is more than half"
                    + " the kernel " + w.kernelH() + "x" + w.kernelW());
        }
    }

    /** Max pooling into {@code y}, with each window's argmax (input-plane index {@code iy·W + ix}, INT32). */
    public static void maxPool2d(Window2d w, Tensor x, Tensor y, Tensor argmax) {
        String op = "maxPool2d";
        Backend be = Checks.backendOf(op, x, y, argmax);
        checkPadding(op, w);
        Images.check(op, "input", x, w.n(), w.channels(), w.height(), w.width());
        Images.check(op, "output", y, w.n(), w.channels(), w.outH(), w.outW());
        Images.check(op, "argmax", argmax, w.n(), w.channels(), w.outH(), w.outW());
        Checks.floating(op, x);
        Checks.sameDType(op, x, y);
        Checks.dtype(op, argmax, DType.INT32);
        Checks.disjoint(op, x, y);
        Checks.disjoint(op, x, argmax);
        Checks.disjoint(op, y, argmax);
        if (w.n() > 0) {
            Tensor.written(y, argmax);
            be.maxPool2d(w, x.buffer(), x.offset(), y.buffer(), y.offset(), argmax.buffer(), argmax.offset());
        }
    }

    /** {@code dx} (overwritten) from the upstream gradient {@code dy} and the forward pass's {@code argmax}. */
    public static void maxPool2dBackward(Window2d w, Tensor dy, Tensor argmax, Tensor dx) {
        String op = "maxPool2dBackward";
        Backend be = Checks.backendOf(op, dy, argmax, dx);
        checkPadding(op, w);
        Images.check(op, "upstream gradient", dy, w.n(), w.channels(), w.outH(), w.outW());
        Images.check(op, "argmax", argmax, w.n(), w.channels(), w.outH(), w.outW());
        Images.check(op, "input gradient", dx, w.n(), w.channels(), w.height(), w.width());
        Checks.floating(op, dy);
        Checks.sameDType(op, dy, dx);
        Checks.dtype(op, argmax, DType.INT32);
        Checks.disjoint(op, dy, dx);
        Checks.disjoint(op, argmax, dx);
        if (w.n() > 0) {
            Tensor.written(dx);
            be.maxPool2dBackward(w, dy.buffer(), dy.offset(), argmax.buffer(), argmax.offset(), dx.buffer(),
                    dx.offset());
        }
    }

    /** Average pooling into {@code y}; {@code countIncludePad} as PyTorch's {@code count_include_pad}. */
    public static void avgPool2d(Window2d w, boolean countIncludePad, Tensor x, Tensor y) {
        String op = "avgPool2d";
        Backend be = Checks.backendOf(op, x, y);
        checkPadding(op, w);
        Images.check(op, "input", x, w.n(), w.channels(), w.height(), w.width());
        Images.check(op, "output", y, w.n(), w.channels(), w.outH(), w.outW());
        Checks.floating(op, x);
        Checks.sameDType(op, x, y);
        Checks.disjoint(op, x, y);
        if (w.n() > 0) {
            Tensor.written(y);
            be.avgPool2d(w, countIncludePad, x.buffer(), x.offset(), y.buffer(), y.offset());
        }
    }

    /** {@code dx} (overwritten) from the upstream gradient {@code dy}. */
    public static void avgPool2dBackward(Window2d w, boolean countIncludePad, Tensor dy, Tensor dx) {
        String op = "avgPool2dBackward";
        Backend be = Checks.backendOf(op, dy, dx);
        checkPadding(op, w);
        Images.check(op, "upstream gradient", dy, w.n(), w.channels(), w.outH(), w.outW());
        Images.check(op, "input gradient", dx, w.n(), w.channels(), w.height(), w.width());
        Checks.floating(op, dy);
        Checks.sameDType(op, dy, dx);
        Checks.disjoint(op, dy, dx);
        if (w.n() > 0) {
            Tensor.written(dx);
            be.avgPool2dBackward(w, countIncludePad, dy.buffer(), dy.offset(), dx.buffer(), dx.offset());
        }
    }
}
