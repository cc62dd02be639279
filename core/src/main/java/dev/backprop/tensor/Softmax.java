package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;

/**
 * Row-wise softmax, log-softmax and the fused softmax cross-entropy on logits with integer labels. A tensor of
 * rank ≥ 2 is a matrix whose rows are samples and columns its last dimension.
 */
public final class Softmax {
    private Softmax() {
    }

    /**
     * {@code out = softmax(x)} (or log-softmax) per row; {@code out} may be {@code x}.
     *
     * @param log whether to write log-softmax
     * @param x   the logits
     * @param out the result, written
     */
    public static void softmaxRows(boolean log, Tensor x, Tensor out) {
        String name = log ? "logSoftmax" : "softmax";
        Backend be = Checks.backendOf(name, x, out);
        Checks.floating(name, x);
        Checks.sameDType(name, x, out);
        Checks.contiguous(name, x);
        Checks.contiguous(name, out);
        Checks.sameShape(name, x, out);
        Checks.disjointOrSame(name, x, out);
        if (x.size() > 0) {
            Tensor.written(out);
            be.softmaxRows(log, x.shape().rows(), x.shape().cols(), x.buffer(), x.offset(), out.buffer(),
                    out.offset());
        }
    }

    /**
     * A new tensor {@code softmax(x)} per row.
     *
     * @param x the logits
     * @return the probabilities
     */
    public static Tensor softmax(Tensor x) {
        Tensor out = Tensor.empty(Checks.backendOf("softmax", x), x.dtype(), x.shape());
        return Elementwise.closeOnFailure(out, () -> softmaxRows(false, x, out));
    }

    /**
     * A new tensor {@code log(softmax(x))} per row.
     *
     * @param x the logits
     * @return the log-probabilities
     */
    public static Tensor logSoftmax(Tensor x) {
        Tensor out = Tensor.empty(Checks.backendOf("logSoftmax", x), x.dtype(), x.shape());
        return Elementwise.closeOnFailure(out, () -> softmaxRows(true, x, out));
    }

    /**
     * Fused forward: for logits {@code [N, K]} and INT32 labels {@code [N]} writes per-sample losses
     * {@code [N]} and the probabilities {@code [N, K]} the backward pass needs. Labels outside
     * {@code [0, K)} give NaN losses (they are not read on the host here).
     *
     * @param logits the logits {@code [N, K]}
     * @param labels INT32 labels {@code [N]}
     * @param losses the per-sample losses {@code [N]}, written
     * @param probs  the probabilities {@code [N, K]}, written
     */
    public static void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor losses, Tensor probs) {
        String name = "softmaxCrossEntropy";
        Backend be = Checks.backendOf(name, logits, labels, losses, probs);
        Checks.floating(name, logits);
        Checks.sameDType(name, logits, losses, probs);
        Checks.dtype(name, labels, DType.INT32);
        Checks.rank(name, logits, 2);
        for (Tensor t : new Tensor[] {logits, labels, losses, probs}) {
            Checks.contiguous(name, t);
        }
        int n = logits.shape().dim(0), k = logits.shape().dim(1);
        if (labels.size() != n || losses.size() != n) {
            throw new ShapeMismatchException(name + ": logits are " + logits.shape() + ", so labels and losses need "
                    + n + " elements; got labels " + labels.shape() + ", losses " + losses.shape());
        }
        Checks.sameShape(name, logits, probs);
        if (k == 0 && n > 0) {
            throw new ShapeMismatchException(name + ": logits " + logits.shape() + " have no classes");
        }
        Checks.disjoint(name, logits, losses);
        Checks.disjointOrSame(name, logits, probs);
        Checks.disjoint(name, losses, probs);
        if (n > 0) {
            Tensor.written(losses, probs);
            be.softmaxCrossEntropy(n, k, logits.buffer(), logits.offset(), labels.buffer(), labels.offset(),
                    losses.buffer(), losses.offset(), probs.buffer(), probs.offset());
        }
    }

    /**
     * Fused backward: {@code dlogits = g[r]·(probs - onehot(labels))} with one upstream gradient per row in
     * {@code g} ({@code [N]}); {@code dlogits} may be {@code probs}.
     *
     * @param probs   the forward pass's probabilities {@code [N, K]}
     * @param labels  INT32 labels {@code [N]}
     * @param g       the upstream gradient per sample {@code [N]}
     * @param dlogits the gradient of the logits {@code [N, K]}, written
     */
    public static void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, Tensor g, Tensor dlogits) {
        String name = "softmaxCrossEntropyBackward";
        Backend be = Checks.backendOf(name, probs, labels, g, dlogits);
        Checks.floating(name, probs);
        Checks.sameDType(name, probs, g, dlogits);
        Checks.dtype(name, labels, DType.INT32);
        Checks.rank(name, probs, 2);
        for (Tensor t : new Tensor[] {probs, labels, g, dlogits}) {
            Checks.contiguous(name, t);
        }
        int n = probs.shape().dim(0), k = probs.shape().dim(1);
        if (labels.size() != n || g.size() != n) {
            throw new ShapeMismatchException(name + ": probs are " + probs.shape() + ", so labels and g need " + n
                    + " elements; got labels " + labels.shape() + ", g " + g.shape());
        }
        Checks.sameShape(name, probs, dlogits);
        Checks.disjointOrSame(name, probs, dlogits);
        Checks.disjoint(name, g, dlogits);
        if (n > 0 && k > 0) {
            Tensor.written(dlogits);
            be.softmaxCrossEntropyBackward(n, k, probs.buffer(), probs.offset(), labels.buffer(), labels.offset(),
                    g.buffer(), g.offset(), dlogits.buffer(), dlogits.offset());
        }
    }
}
