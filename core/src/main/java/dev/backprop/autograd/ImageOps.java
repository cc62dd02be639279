package dev.backprop.autograd;

import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.tensor.Convolution;
import dev.backprop.tensor.Normalization;
import dev.backprop.tensor.Pooling;
import dev.backprop.tensor.Regularization;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Convolution, pooling, batch normalization and dropout as differentiable ops on NCHW variables. Each backward rule
 * is one fused SPI call (the convolution's two products, the pooling scatter, batch norm's three gradients, the
 * dropout mask applied again); inputs that want no gradient cost nothing (the first convolution never computes
 * the gradient of the images).
 */
final class ImageOps {
    private ImageOps() {
    }

    static Variable conv2d(Variable x, Variable w, Variable b, int strideH, int strideW, int padH, int padW,
                           int dilationH, int dilationW) {
        Window2d win = Convolution.window(x.value(), w.value(), strideH, strideW, padH, padW, dilationH, dilationW);
        Tensor y = Tensor.empty(x.backend(), x.dtype(), Shape.of(win.n(), w.shape().dim(0), win.outH(), win.outW()));
        try {
            Convolution.conv2d(win, x.value(), w.value(), b == null ? null : b.value(), y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return Tape.record("conv2d", y, (g, grads) -> {
            Tensor dx = grads.wants(0) ? Tensor.empty(g.backend(), g.dtype(), x.shape()) : null;
            Tensor dw = grads.wants(1) ? Tensor.empty(g.backend(), g.dtype(), w.shape()) : null;
            Tensor db = grads.wants(2) ? Tensor.empty(g.backend(), g.dtype(), b.shape()) : null;
            try {
                Convolution.conv2dBackward(win, dw == null ? null : x.value(), w.value(), g, dx, dw, db);
            } catch (RuntimeException e) {
                closeAll(dx, dw, db);
                throw e;
            }
            give(grads, 0, dx);
            give(grads, 1, dw);
            give(grads, 2, db);
        }, x, w, b);
    }

    static Variable maxPool2d(Variable x, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
        Window2d win = Pooling.window(x.value(), kernelH, kernelW, strideH, strideW, padH, padW);
        Shape out = Shape.of(win.n(), win.channels(), win.outH(), win.outW());
        Tensor y = Tensor.empty(x.backend(), x.dtype(), out);
        Tensor argmax = null;
        try {
            argmax = Tensor.empty(x.backend(), DType.INT32, out);
            Pooling.maxPool2d(win, x.value(), y, argmax);
        } catch (RuntimeException e) {
            closeAll(y, argmax);
            throw e;
        }
        Tensor arg = argmax;
        Variable v = Tape.record("maxPool2d", y, (g, grads) -> {
            if (grads.wants(0)) {
                Tensor dx = Tensor.empty(g.backend(), g.dtype(), x.shape());
                try {
                    Pooling.maxPool2dBackward(win, g, arg, dx);
                } catch (RuntimeException e) {
                    dx.close();
                    throw e;
                }
                grads.give(0, dx);
            }
        }, x);
        if (!v.requiresGrad()) {
            arg.close(); // nothing will run backward: the indices are not needed
        }
        return v;
    }

    static Variable avgPool2d(Variable x, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
                              boolean countIncludePad) {
        Window2d win = Pooling.window(x.value(), kernelH, kernelW, strideH, strideW, padH, padW);
        Tensor y = Tensor.empty(x.backend(), x.dtype(), Shape.of(win.n(), win.channels(), win.outH(), win.outW()));
        try {
            Pooling.avgPool2d(win, countIncludePad, x.value(), y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return Tape.record("avgPool2d", y, (g, grads) -> {
            if (grads.wants(0)) {
                Tensor dx = Tensor.empty(g.backend(), g.dtype(), x.shape());
                try {
                    Pooling.avgPool2dBackward(win, countIncludePad, g, dx);
                } catch (RuntimeException e) {
                    dx.close();
                    throw e;
                }
                grads.give(0, dx);
            }
        }, x);
    }

    /**
     * Batch normalization with the given statistics ({@code batchStats}: they are {@code x}'s own, computed by the
     * caller with {@link Normalization#batchNormStats}, and the backward pass differentiates through them; else they
     * are running statistics, constants). {@code mean} and {@code var} are borrowed: the caller keeps them alive
     * until the backward pass has run (made inside the same tape, they are).
     */
    static Variable batchNorm(Variable x, Tensor mean, Tensor var, Variable gamma, Variable beta, double eps,
                              boolean batchStats) {
        Tensor y = Tensor.empty(x.backend(), x.dtype(), x.shape());
        try {
            Normalization.batchNormForward(x.value(), mean, var, gamma.value(), beta.value(), eps, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return Tape.record("batchNorm", y, (g, grads) -> {
            if (!grads.wants(0) && !grads.wants(1) && !grads.wants(2)) {
                return;
            }
            Tensor dx = Tensor.empty(g.backend(), g.dtype(), x.shape()), dg = null, db = null;
            try {
                dg = Tensor.empty(g.backend(), g.dtype(), gamma.shape());
                db = Tensor.empty(g.backend(), g.dtype(), beta.shape());
                Normalization.batchNormBackward(x.value(), g.reshape(x.shape().dims()), mean, var, gamma.value(), eps,
                        batchStats, dx, dg, db);
            } catch (RuntimeException e) {
                closeAll(dx, dg, db);
                throw e;
            }
            give(grads, 0, dx);
            give(grads, 1, dg);
            give(grads, 2, db);
        }, x, gamma, beta);
    }

    /**
     * Dropout with the mask of {@code (seed, offset)}; the backward pass applies the same mask to the gradient.
     * {@code p = 1} keeps nothing and scales by nothing: {@code x·0}, as PyTorch, with no draw.
     */
    static Variable dropout(Variable x, double p, long seed, long offset) {
        Regularization.checkProbability(p);
        if (p == 1) {
            return UnaryOps.scale(x, 0.0);
        }
        Tensor y = Tensor.empty(x.backend(), x.dtype(), x.shape());
        try {
            Regularization.dropout(x.value(), p, seed, offset, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return Tape.record("dropout", y, (g, grads) -> {
            if (grads.wants(0)) {
                Tensor dx = Tensor.empty(g.backend(), g.dtype(), x.shape());
                try {
                    Regularization.dropout(g.reshape(x.shape().dims()), p, seed, offset, dx);
                } catch (RuntimeException e) {
                    dx.close();
                    throw e;
                }
                grads.give(0, dx);
            }
        }, x);
    }

    private static void give(Gradients grads, int i, Tensor t) {
        if (t != null) {
            grads.give(i, t);
        }
    }

    private static void closeAll(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null) {
                t.close();
            }
        }
    }
}
