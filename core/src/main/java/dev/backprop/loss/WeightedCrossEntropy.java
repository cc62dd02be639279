package dev.backprop.loss;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

/**
 * The forward and backward of {@link SoftmaxCrossEntropy} with class weights {@code w} and/or label smoothing ε,
 * as PyTorch 1.13's {@code cross_entropy} computes them: per sample
 * {@code (1-ε)·w[y]·(-log p_y) + (ε/K)·Σ_c w_c·(-log p_c)} (w = 1 without weights), summed, or under the mean
 * divided by {@code Σ_i w[y_i]} (N without weights). Its gradient on the logits is
 * {@code s·((1-ε)·w[y]·(p - onehot(y)) + (ε/K)·(W·p - w))} with {@code W = Σ_c w_c} and {@code s} the upstream
 * gradient over the denominator.
 *
 * <p>Only existing SPI ops are composed: the fused softmax cross-entropy and its backward, a row gather for
 * {@code w[y_i]} (the labels never leave the device), a log-softmax, a GEMM or row sum for the smoothed term, and
 * elementwise ops; the denominator is divided on the device, so a step needs no download. The weights are filled
 * in on the device at each call (no upload), since a loss owns no device memory between steps.
 */
final class WeightedCrossEntropy {
    private WeightedCrossEntropy() {
    }

    /**
     * The loss of logits {@code z} ({@code [N, K]}, checked by the caller) against labels {@code [N]}.
     *
     * @param weights the class weights ({@code K} of them), or null
     * @param eps     the label smoothing in [0, 1)
     */
    static Variable compute(String name, Variable logits, Tensor labels, Reduction reduction, double[] weights,
                            double eps) {
        boolean grad = Tape.needsGrad(logits);
        Tensor value;
        Saved saved;
        try (Scope scope = Scope.open()) {
            saved = forward(logits.value(), labels, weights, eps);
            value = scope.keep(reduce(saved, reduction));
            if (grad) {
                for (Tensor t : new Tensor[] {saved.probs, saved.w, saved.rowW, saved.total}) {
                    if (t != null) {
                        scope.keep(t);
                    }
                }
            }
        }
        if (!grad) {
            return Tape.record(name, value, null, logits);
        }
        double classSum = 0;
        for (int c = 0; weights != null && c < weights.length; c++) {
            classSum += weights[c];
        }
        double wSum = weights == null ? logits.value().shape().dim(1) : classSum;
        return Tape.record(name, value, (g, grads) -> grads.give(0, backward(saved, labels, g, reduction, eps,
                wSum)), logits);
    }

    /** What the forward pass computes and the backward pass reads; null where a setting is off. */
    private record Saved(Tensor probs, Tensor terms, Tensor w, Tensor rowW, Tensor total) {
    }

    private static Saved forward(Tensor z, Tensor labels, double[] weights, double eps) {
        Backend be = z.backend();
        DType dt = z.dtype();
        int n = z.shape().dim(0), k = z.shape().dim(1);
        Tensor losses = Tensor.empty(be, dt, n);
        Tensor probs = Tensor.empty(be, dt, z.shape());
        Softmax.softmaxCrossEntropy(z, labels, losses, probs);
        Tensor terms = losses, w = null, rowW = null, total = null;
        if (weights != null) {
            w = classWeights(be, dt, weights);
            rowW = Tensor.empty(be, dt, n, 1);
            Elementwise.gatherRows(w, labels, rowW);
            terms = Elementwise.mul(losses, rowW.reshape(n));
            total = Reductions.sum(rowW);
        }
        if (eps > 0) {
            Tensor logp = Softmax.logSoftmax(z);
            Tensor smooth;
            if (w != null) {
                smooth = Tensor.empty(be, dt, n, 1);
                MatMul.gemm(false, false, 1.0, logp, w, 0.0, smooth);
            } else {
                smooth = Reductions.sumPerRow(logp);
            }
            Elementwise.axpby(-eps / k, smooth.reshape(n), 1 - eps, terms);
        }
        return new Saved(probs, terms, w, rowW, total);
    }

    /** The sum, or the mean: over the batch, or with weights {@code Σ terms / Σ w[y_i]} divided on the device. */
    private static Tensor reduce(Saved saved, Reduction reduction) {
        if (reduction == Reduction.SUM) {
            return Reductions.sum(saved.terms);
        }
        return saved.total == null ? Reductions.mean(saved.terms)
                : Elementwise.div(Reductions.sum(saved.terms), saved.total);
    }

    private static Tensor backward(Saved saved, Tensor labels, Tensor g, Reduction reduction, double eps,
                                   double wSum) {
        Tensor probs = saved.probs;
        Backend be = probs.backend();
        DType dt = probs.dtype();
        int n = probs.shape().dim(0), k = probs.shape().dim(1);
        try (Scope scope = Scope.open()) {
            Tensor s = reduction == Reduction.SUM ? g
                    : saved.total != null ? Elementwise.div(g, saved.total) : scaled(1.0 / n, g);
            Tensor perRow = Elementwise.mul(saved.rowW != null ? saved.rowW.reshape(n) : Tensor.full(be, dt, 1.0, n),
                    s);
            Elementwise.scale(1 - eps, perRow, perRow);
            Tensor dz = Tensor.empty(be, dt, probs.shape());
            Softmax.softmaxCrossEntropyBackward(probs, labels, perRow, dz);
            if (eps > 0) {
                // (ε/K)·s·(W·p - w): the smoothed term's share, added to the fused backward's.
                Tensor smooth = scaled(wSum, probs);
                Tensor sub = saved.w != null ? saved.w.reshape(k) : Tensor.full(be, dt, 1.0, 1);
                Elementwise.binary(BinaryOp.SUB, smooth, sub, smooth);
                Elementwise.binary(BinaryOp.MUL, smooth, s, smooth);
                Elementwise.axpy(eps / k, smooth, dz);
            }
            return scope.keep(dz);
        }
    }

    private static Tensor scaled(double alpha, Tensor x) {
        Tensor out = Tensor.empty(x.backend(), x.dtype(), x.shape());
        Elementwise.scale(alpha, x, out);
        return out;
    }

    /**
     * The weights as a device column {@code [K, 1]}, written by fills (one per run of equal weights) rather than an
     * upload: a fill is device work, so the step stays free of host transfers and a backend that records whole steps
     * (a CUDA graph) can still record it.
     */
    private static Tensor classWeights(Backend be, DType dt, double[] weights) {
        Tensor w = Tensor.empty(be, dt, weights.length, 1);
        for (int from = 0, to; from < weights.length; from = to) {
            to = from + 1;
            while (to < weights.length && weights[to] == weights[from]) {
                to++;
            }
            Elementwise.fill(w.rows(from, to), weights[from]);
        }
        return w;
    }
}
