package dev.backprop.loss;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

/** Pieces every elementwise loss shares: target checks, the reduction, and scaling by the upstream gradient. */
final class LossSupport {
    private LossSupport() {
    }

    /**
     * The target viewed with the prediction's shape: it must have as many elements and the same dtype
     * ({@code [N]} against a prediction {@code [N, 1]} is fine).
     */
    static Tensor targetLike(String loss, Tensor prediction, Tensor target) {
        target.checkOpen();
        if (target.dtype() == DType.INT32) { // labelled data given to a loss of float targets
            throw new DTypeMismatchException(loss + ": the targets are INT32 class labels " + target.shape() + ", but "
                    + "this loss takes float targets of the prediction's shape " + prediction.shape() + "; for class "
                    + "labels use cross_entropy (SoftmaxCrossEntropy), or read the data as float targets");
        }
        if (target.dtype() != prediction.dtype()) {
            throw new DTypeMismatchException(loss + ": target is " + target.dtype() + " but the prediction is "
                    + prediction.dtype() + " (convert the targets to the model's dtype)");
        }
        if (target.size() != prediction.size()) {
            throw new ShapeMismatchException(loss + ": target " + target.shape() + " does not match prediction "
                    + prediction.shape());
        }
        if (prediction.size() == 0) {
            throw new ShapeMismatchException(loss + ": empty prediction " + prediction.shape());
        }
        return target.shape().equals(prediction.shape()) ? target : target.reshape(prediction.shape().dims());
    }

    /** Sums or averages {@code terms} (closing them) into a new scalar {@code []}. */
    static Tensor reduce(Tensor terms, Reduction reduction) {
        try {
            return Reductions.reduce(reduction == Reduction.MEAN ? ReduceOp.MEAN : ReduceOp.SUM, ReduceAxis.ALL,
                    terms);
        } finally {
            terms.close();
        }
    }

    /**
     * Scales an elementwise gradient in place by the upstream scalar {@code g}, and by {@code 1/count} under
     * {@link Reduction#MEAN}.
     */
    static void scaleByUpstream(Tensor d, Tensor g, Reduction reduction, long count) {
        Elementwise.binary(BinaryOp.MUL, d, g, d);
        if (reduction == Reduction.MEAN) {
            Elementwise.scale(1.0 / count, d, d);
        }
    }

    /** Class 1 where {@code prediction ≥ cut}, else class 0: the one binary decision rule. */
    static int decide(double prediction, double cut) {
        return prediction >= cut ? 1 : 0;
    }

    /** Decides each element: class 1 where {@code prediction ≥ cut}, true class 1 where {@code target ≥ 0.5}. */
    static Classified classifyAt(Tensor prediction, Tensor target, double cut) {
        double[] p = prediction.toDoubles();
        double[] t = target.toDoubles();
        if (p.length != t.length) {
            throw new ShapeMismatchException("classify: prediction " + prediction.shape() + " and target "
                    + target.shape() + " differ in size");
        }
        int[] predicted = new int[p.length];
        int[] truth = new int[t.length];
        for (int i = 0; i < p.length; i++) {
            predicted[i] = decide(p[i], cut);
            truth[i] = t[i] >= 0.5 ? 1 : 0;
        }
        return new Classified(2, truth, predicted);
    }
}
