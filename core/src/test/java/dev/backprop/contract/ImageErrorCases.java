package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.tensor.BackendMismatchException;
import dev.backprop.tensor.Convolution;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Layout;
import dev.backprop.tensor.Normalization;
import dev.backprop.tensor.Pooling;
import dev.backprop.tensor.Regularization;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.backprop.contract.OpErrorCases.t;
import static dev.backprop.contract.Rejections.rejects;

/**
 * Bad input to the image, normalization and dropout facades: wrong channel counts, kernels larger than the padded
 * input, zero strides, pooled sizes of zero, rank mismatches, wrong dtypes, another backend, overlapping outputs and
 * out-of-range probabilities. Each message names the shapes or values; nothing is written or leaked.
 */
final class ImageErrorCases {
    private ImageErrorCases() {
    }

    private static final Class<ShapeMismatchException> SHAPE = ShapeMismatchException.class;
    private static final Class<DTypeMismatchException> DTYPE = DTypeMismatchException.class;
    private static final Class<IllegalArgumentException> ARG = IllegalArgumentException.class;

    static Stream<DynamicTest> cases(Oracle o) {
        Backend be = o.backend();
        DType f = DType.FLOAT32;
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("conv2d channel count", be, SHAPE, b -> {
            Tensor x = t(b, f, 2, 1, 28, 28), w = t(b, f, 32, 3, 3, 3);
            return new Rejections.Call(() -> Convolution.conv2d(x, w, null, 1, 1, 1, 1, 1, 1), null);
        }, "[2, 1, 28, 28]", "1 channel", "[32, 3, 3, 3]", "expects 3"));
        c.add(rejects("conv2d kernel larger than the padded input", be, ARG, b -> {
            Tensor x = t(b, f, 1, 2, 3, 3), w = t(b, f, 4, 2, 5, 5);
            return new Rejections.Call(() -> Convolution.conv2d(x, w, null, 1, 1, 0, 0, 1, 1), null);
        }, "kernel 5x5", "padded input 3x3"));
        c.add(rejects("conv2d stride 0", be, ARG, b -> {
            Tensor x = t(b, f, 1, 2, 5, 5), w = t(b, f, 4, 2, 3, 3);
            return new Rejections.Call(() -> Convolution.conv2d(x, w, null, 0, 1, 0, 0, 1, 1), null);
        }, "stride", "0x1"));
        c.add(rejects("conv2d on a 2-D input", be, SHAPE, b -> {
            Tensor x = t(b, f, 128, 784), w = t(b, f, 4, 1, 3, 3);
            return new Rejections.Call(() -> Convolution.conv2d(x, w, null, 1, 1, 0, 0, 1, 1), null);
        }, "rank 4", "[128, 784]"));
        c.add(rejects("conv2d output of the wrong shape", be, SHAPE, b -> {
            Tensor x = t(b, f, 2, 3, 6, 6), w = t(b, f, 4, 3, 3, 3), y = t(b, f, 2, 4, 6, 6);
            Window2d win = Convolution.window(x, w, 1, 1, 0, 0, 1, 1);
            return new Rejections.Call(() -> Convolution.conv2d(win, x, w, null, y), y);
        }, "output", "[2, 4, 6, 6]", "[2, 4, 4, 4]"));
        c.add(rejects("conv2d bias of the wrong size", be, SHAPE, b -> {
            Tensor x = t(b, f, 2, 3, 6, 6), w = t(b, f, 4, 3, 3, 3), bias = t(b, f, 3), y = t(b, f, 2, 4, 4, 4);
            Window2d win = Convolution.window(x, w, 1, 1, 0, 0, 1, 1);
            return new Rejections.Call(() -> Convolution.conv2d(win, x, w, bias, y), y);
        }, "bias", "[3]", "4 elements"));
        c.add(rejects("conv2d mixed dtypes", be, DTYPE, b -> {
            Tensor x = t(b, f, 1, 1, 4, 4), w = t(b, DType.INT32, 1, 1, 3, 3), y = t(b, f, 1, 1, 2, 2);
            Window2d win = Window2d.of(1, 1, 4, 4, 3, 3, 1, 1, 0, 0);
            return new Rejections.Call(() -> Convolution.conv2d(win, x, w, null, y), y);
        }, "FLOAT32", "INT32"));
        c.add(rejects("conv2d weight on another backend", be, BackendMismatchException.class, b -> {
            Tensor x = t(b, f, 1, 1, 4, 4), w = t(o.reference(), f, 1, 1, 3, 3);
            return new Rejections.Call(() -> Convolution.conv2d(x, w, null, 1, 1, 0, 0, 1, 1), null);
        }, "different backends"));
        c.add(rejects("conv2d output overlapping its input", be, ARG, b -> {
            Tensor all = t(b, f, 2 * 16);
            Tensor x = all.rows(0, 16).reshape(1, 1, 4, 4), y = all.rows(12, 16).reshape(1, 1, 2, 2);
            Tensor w = t(b, f, 1, 1, 3, 3);
            Window2d win = Window2d.of(1, 1, 4, 4, 3, 3, 1, 1, 0, 0);
            return new Rejections.Call(() -> Convolution.conv2d(win, x, w, null, y), all);
        }, "overlaps"));
        c.add(rejects("conv2dBackward weight gradient without the input", be, ARG, b -> {
            Tensor w = t(b, f, 1, 1, 3, 3), dy = t(b, f, 1, 1, 2, 2), dw = t(b, f, 1, 1, 3, 3);
            Window2d win = Window2d.of(1, 1, 4, 4, 3, 3, 1, 1, 0, 0);
            return new Rejections.Call(() -> Convolution.conv2dBackward(win, null, w, dy, null, dw, null), dw);
        }, "needs the input"));
        c.add(rejects("maxPool2d pooled size 0", be, ARG, b -> {
            Tensor x = t(b, f, 1, 1, 2, 2);
            return new Rejections.Call(() -> Pooling.window(x, 3, 3, 1, 1, 0, 0), null);
        }, "kernel 3x3", "padded input 2x2"));
        c.add(rejects("maxPool2d padding over half the kernel", be, ARG, b -> {
            Tensor x = t(b, f, 1, 1, 6, 6);
            return new Rejections.Call(() -> Pooling.window(x, 2, 2, 2, 2, 2, 0), null);
        }, "padding 2x0", "half the kernel 2x2"));
        c.add(rejects("maxPool2d argmax not INT32", be, DTYPE, b -> {
            Tensor x = t(b, f, 1, 1, 4, 4), y = t(b, f, 1, 1, 2, 2), arg = t(b, f, 1, 1, 2, 2);
            Window2d win = Window2d.of(1, 1, 4, 4, 2, 2, 2, 2, 0, 0);
            return new Rejections.Call(() -> Pooling.maxPool2d(win, x, y, arg), y);
        }, "INT32"));
        c.add(rejects("avgPool2d input of the wrong shape", be, SHAPE, b -> {
            Tensor x = t(b, f, 1, 2, 4, 4), y = t(b, f, 1, 1, 2, 2);
            Window2d win = Window2d.of(1, 1, 4, 4, 2, 2, 2, 2, 0, 0);
            return new Rejections.Call(() -> Pooling.avgPool2d(win, true, x, y), y);
        }, "input", "[1, 2, 4, 4]", "[1, 1, 4, 4]"));
        c.add(rejects("batchNormStats on a 1-D input", be, SHAPE, b -> {
            Tensor x = t(b, f, 6), m = t(b, f, 6), v = t(b, f, 6);
            return new Rejections.Call(() -> Normalization.batchNormStats(x, m, v), m);
        }, "[N, C]", "[6]"));
        c.add(rejects("batchNormForward gamma of the wrong size", be, SHAPE, b -> {
            Tensor x = t(b, f, 4, 3, 2, 2), m = t(b, f, 3), v = t(b, f, 3), g = t(b, f, 4), beta = t(b, f, 3);
            Tensor y = t(b, f, 4, 3, 2, 2);
            return new Rejections.Call(() -> Normalization.batchNormForward(x, m, v, g, beta, 1e-5, y), y);
        }, "gamma", "[4]", "3 elements"));
        c.add(rejects("batchNormForward eps 0", be, ARG, b -> {
            Tensor x = t(b, f, 4, 3), m = t(b, f, 3), v = t(b, f, 3), g = t(b, f, 3), beta = t(b, f, 3);
            Tensor y = t(b, f, 4, 3);
            return new Rejections.Call(() -> Normalization.batchNormForward(x, m, v, g, beta, 0, y), y);
        }, "eps", "0.0"));
        c.add(rejects("dropout probability 1", be, ARG, b -> {
            Tensor x = t(b, f, 8), y = t(b, f, 8);
            return new Rejections.Call(() -> Regularization.dropout(x, 1, 0, 0, y), y);
        }, "[0, 1)", "1.0"));
        c.add(rejects("dropout size mismatch", be, SHAPE, b -> {
            Tensor x = t(b, f, 8), y = t(b, f, 9);
            return new Rejections.Call(() -> Regularization.dropout(x, 0.5, 0, 0, y), y);
        }, "[8]", "[9]"));
        c.add(rejects("permute with a repeated axis", be, ARG, b -> {
            Tensor x = t(b, f, 2, 3, 4);
            return new Rejections.Call(() -> Layout.permute(x, 0, 0, 1), null);
        }, "[0, 0, 1]", "permutation"));
        return c.stream();
    }
}
