package dev.backprop.loss;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

import java.util.OptionalLong;

/**
 * Softmax cross-entropy on logits {@code [N, K]} with INT32 class labels {@code [N]}, like PyTorch's
 * {@code nn.CrossEntropyLoss}: per sample {@code ln Σ_ℓ e^{z_ℓ} - z_label}, averaged over the batch (or summed).
 * Forward and backward are the SPI's fused kernels ({@code ∂/∂z = softmax(z) - onehot(label)}). A label
 * outside {@code [0, K)} yields a NaN loss (labels stay on the device; {@link dev.backprop.data.Dataset}
 * checks them when it is built).
 */
public final class SoftmaxCrossEntropy implements Loss {
    private final Reduction reduction;

    /** With the mean over the batch. */
    public SoftmaxCrossEntropy() {
        this(Reduction.MEAN);
    }

    /**
     * With the given reduction.
     *
     * @param reduction {@link Reduction#SUM} or {@link Reduction#MEAN}
     */
    public SoftmaxCrossEntropy(Reduction reduction) {
        this.reduction = java.util.Objects.requireNonNull(reduction, "reduction");
    }

    @Override
    public Variable compute(Variable logits, Tensor labels) {
        Tensor z = logits.value();
        labels.checkOpen();
        if (labels.dtype() != DType.INT32) {
            throw new DTypeMismatchException("cross_entropy: labels must be INT32 class indices, got "
                    + labels.dtype() + " " + labels.shape());
        }
        if (z.shape().rank() != 2 || labels.size() != z.shape().dim(0) || z.shape().dim(0) == 0) {
            throw new ShapeMismatchException("cross_entropy: needs logits [N, K] and labels [N] with N > 0, got "
                    + "logits " + z.shape() + " and labels " + labels.shape());
        }
        int n = z.shape().dim(0);
        Tensor losses = Tensor.empty(z.backend(), z.dtype(), n);
        Tensor probs = Tensor.empty(z.backend(), z.dtype(), z.shape());
        Tensor value;
        try {
            Softmax.softmaxCrossEntropy(z, labels, losses, probs);
            value = LossSupport.reduce(losses, reduction);
        } catch (RuntimeException e) {
            losses.close();
            probs.close();
            throw e;
        }
        if (!Tape.needsGrad(logits)) {
            probs.close();
            return Tape.record(name(), value, null, logits);
        }
        return Tape.record(name(), value, (g, grads) -> {
            // Each row's upstream gradient, g/n under a mean: a constant and one broadcast product (two launches).
            Tensor perRow = Tensor.full(g.backend(), g.dtype(), reduction == Reduction.MEAN ? 1.0 / n : 1.0, n);
            Tensor dz;
            try {
                Elementwise.binary(BinaryOp.MUL, g, perRow, perRow);
                dz = Tensor.empty(g.backend(), g.dtype(), z.shape());
                try {
                    Softmax.softmaxCrossEntropyBackward(probs, labels, perRow, dz);
                } catch (RuntimeException e) {
                    dz.close();
                    throw e;
                }
            } finally {
                perRow.close();
            }
            grads.give(0, dz);
        }, logits);
    }

    @Override
    public Reduction reduction() {
        return reduction;
    }

    @Override
    public String name() {
        return "cross_entropy";
    }

    /** Samples whose largest logit is at the label. */
    @Override
    public OptionalLong countCorrect(Tensor logits, Tensor labels) {
        int[] predicted;
        try (Tensor arg = Reductions.argmaxRows(logits)) {
            predicted = arg.toIntArray();
        }
        int[] truth = labels.toIntArray();
        if (truth.length != predicted.length) {
            throw new ShapeMismatchException("countCorrect: logits " + logits.shape() + " and labels "
                    + labels.shape() + " differ in rows");
        }
        long ok = 0;
        for (int i = 0; i < truth.length; i++) {
            if (truth[i] == predicted[i]) {
                ok++;
            }
        }
        return OptionalLong.of(ok);
    }

    @Override
    public String toString() {
        return "SoftmaxCrossEntropy(" + reduction + ")";
    }
}
