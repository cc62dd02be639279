package dev.backprop.train;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.tensor.Tensor;

import java.util.Map;

/**
 * The one check of non-finite numbers in training, and what it says. Before the first step the weights and the
 * optimizer state must be finite, so when a step's loss later turns NaN or infinite the cause is either the batch
 * (its data is checked on the host) or the updates themselves, and only then is the learning rate blamed.
 */
final class Divergence {
    private Divergence() {
    }

    /**
     * Refuses to start from non-finite weights or optimizer state (a broken file or checkpoint), naming the tensor.
     *
     * @param label where training runs, for messages ("rank 1"), or null
     */
    static void checkStart(Optimizer optimizer, String label) {
        for (Map.Entry<String, Variable> e : optimizer.parameters().entrySet()) {
            String bad = firstNonFinite(e.getValue().value());
            if (bad != null) {
                throw new TrainingStoppedException(TrainingStoppedException.Reason.WEIGHTS, prefix("cannot start",
                        label) + ": the weights hold " + bad + " in '" + e.getKey() + "' before the first step; "
                        + "the starting weights are broken (load them from another file, or draw fresh ones)");
            }
        }
        for (Map.Entry<String, Tensor> e : optimizer.state().entrySet()) {
            String bad = firstNonFinite(e.getValue());
            if (bad != null) {
                throw new TrainingStoppedException(TrainingStoppedException.Reason.OPTIMIZER_STATE,
                        prefix("cannot start", label) + ": the optimizer state holds " + bad + " in '" + e.getKey()
                                + "' before the first step; the checkpoint it came from is broken");
            }
        }
    }

    /**
     * The exception for a step whose loss is NaN or infinite.
     *
     * @param lossName     the loss, for the message
     * @param st           the step, with the value it was judged by (its own loss, or the global batch's)
     * @param seenAt       the step at which it was read (later than {@code st} when results are read in windows)
     * @param syncEvery    steps between reads
     * @param data         the data the step's batch came from: examples {@code order[from..from+rows)}
     * @param learningRate the optimizer's learning rate
     * @param label        where training runs ("rank 1"), or null
     */
    static TrainingStoppedException diverged(String lossName, StepWindow.Step st, StepPosition seenAt, int syncEvery,
                                             Dataset data, int[] order, int from, double learningRate,
                                             String label) {
        StepPosition bad = st.position();
        double own = st.loss();
        StringBuilder m = new StringBuilder(prefix("stopped", label)).append(": the ")
                .append(st.judgedBy().isPresent() ? "global batch's " : "").append(lossName).append(" loss is ")
                .append(st.judged()).append(" at ").append(bad);
        if (seenAt.globalStep() != bad.globalStep()) {
            m.append(" (seen at step ").append(seenAt.globalStep()).append(": results are read every ")
                    .append(syncEvery).append(" steps, so the parameters hold the steps in between)");
        }
        m.append(". ");
        String badData = nonFiniteData(data, order, from, from + bad.rows());
        TrainingStoppedException.Reason reason;
        if (badData != null) {
            reason = TrainingStoppedException.Reason.DATA;
            m.append("The batch holds ").append(badData).append("; fix the data");
        } else if (Double.isFinite(own)) {
            reason = TrainingStoppedException.Reason.OTHER_RANK;
            m.append("This batch's own loss is ").append(own).append(": another rank's batch made the global loss "
                    + "non-finite (see that rank's error)");
        } else {
            reason = TrainingStoppedException.Reason.LEARNING_RATE;
            m.append("The weights and the optimizer state were finite when training started and so is this batch: "
                    + "the learning rate ").append(OptimizerChoice.number(learningRate, 3))
                    .append(" is probably too high for this model; try ")
                    .append(OptimizerChoice.number(learningRate / 10, 3));
        }
        return new TrainingStoppedException(reason, m.toString());
    }

    private static String prefix(String what, String label) {
        return "training " + what + (label == null ? "" : " on " + label);
    }

    /** {@code NaN at element 5}, or null when every element is finite. */
    private static String firstNonFinite(Tensor t) {
        if (t.dtype() == DType.FLOAT64) {
            double[] v = t.toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i])) {
                    return v[i] + " at element " + i;
                }
            }
        } else if (t.dtype() == DType.FLOAT32) {
            float[] v = t.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    return v[i] + " at element " + i;
                }
            }
        }
        return null;
    }

    /** The first non-finite feature or target of examples {@code order[from..to)}, or null. */
    private static String nonFiniteData(Dataset data, int[] order, int from, int to) {
        int f = data.featureSize();
        float[] x = new float[Math.multiplyExact(to - from, f)];
        data.gatherFeatures(order, from, to, x);
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                return x[i] + " in feature " + i % f + " of example " + order[from + i / f];
            }
        }
        if (!data.hasLabels()) {
            int t = data.targetSize();
            float[] y = new float[Math.multiplyExact(to - from, t)];
            data.gatherTargets(order, from, to, y);
            for (int i = 0; i < y.length; i++) {
                if (!Float.isFinite(y[i])) {
                    return y[i] + " in target " + i % t + " of example " + order[from + i / t];
                }
            }
        }
        return null;
    }
}
