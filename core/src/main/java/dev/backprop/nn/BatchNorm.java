package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Normalization;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Batch normalization like PyTorch's {@code nn.BatchNorm1d} ({@code [N, C]} or {@code [N, C, L]} inputs) and
 * {@code nn.BatchNorm2d} ({@code [N, C, H, W]}), with its defaults: {@code eps = 1e-5}, {@code momentum = 0.1},
 * learnable {@code weight} (γ, ones) and {@code bias} (β, zeros), running statistics tracked.
 *
 * <p>In training mode the batch's own mean and biased variance normalize it, the gradient flows through them, and
 * the running statistics move towards them: {@code running_mean = 0.9·running_mean + 0.1·mean},
 * {@code running_var = 0.9·running_var + 0.1·var·M/(M-1)} (the unbiased variance, {@code M} values per channel),
 * {@code num_batches_tracked + 1}. In evaluation mode the running statistics normalize. The buffers are saved with
 * the model under PyTorch's names ({@code num_batches_tracked} as a 64-bit integer).
 */
public final class BatchNorm implements Layer {
    /** PyTorch's default {@code eps}. */
    public static final double EPS = 1e-5;
    /** PyTorch's default {@code momentum}. */
    public static final double MOMENTUM = 0.1;
    /** The running variance's name among the buffers, PyTorch's; it must never be negative. */
    public static final String RUNNING_VAR = "running_var";

    private final int features;
    private final boolean spatial;
    private final Variable weight;
    private final Variable bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final long[] batchesTracked = {0};
    private boolean training = true;

    /**
     * A batch norm over {@code features} channels: {@code spatial} for BatchNorm2d (NCHW input), else BatchNorm1d.
     * γ and β come from {@code factory} (roles {@link ParameterRole#SCALE} and {@link ParameterRole#SHIFT});
     * the running statistics start at 0 and 1 on the backend and dtype of γ.
     */
    public BatchNorm(int features, boolean spatial, ParameterFactory factory) {
        if (features <= 0) {
            throw new IllegalArgumentException("BatchNorm: features must be positive, got " + features);
        }
        this.features = features;
        this.spatial = spatial;
        Tensor w = NormParameters.create(factory, "weight", ParameterRole.SCALE, features, this);
        Variable wv = null, bv = null;
        Tensor rm = null, rv = null;
        try {
            wv = Variable.parameter(w);
            bv = Variable.parameter(NormParameters.create(factory, "bias", ParameterRole.SHIFT, features, this));
            Backend be = w.backend();
            DType dt = w.dtype();
            rm = Tensor.zeros(be, dt, features);
            rv = Tensor.full(be, dt, 1.0, features);
        } catch (RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[] {wv == null ? w : wv, bv, rm, rv}) {
                closeQuietly(c);
            }
            throw e;
        }
        this.weight = wv;
        this.bias = bv;
        this.runningMean = rm;
        this.runningVar = rv;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // already failing: the first exception is the one to report
        }
    }

    /** Channels normalized. */
    public int features() {
        return features;
    }

    /** Whether this is a BatchNorm2d (NCHW input). */
    public boolean spatial() {
        return spatial;
    }

    /**
     * @throws ShapeMismatchException naming the layer and the shape when the input's rank or channel count is wrong
     * @throws IllegalArgumentException in training mode when a channel has a single value (no variance)
     */
    @Override
    public Variable forward(Variable input) {
        int r = input.shape().rank();
        if (spatial ? r != 4 : r != 2 && r != 3) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " is not "
                    + (spatial ? "[N, C, H, W]" : "[N, C] or [N, C, L]"));
        }
        if (input.shape().dim(1) != features) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " has " + input.shape().dim(1)
                    + " channels, expected " + features);
        }
        if (!training) {
            return Ops.batchNorm(input, runningMean, runningVar, weight, bias, EPS, false);
        }
        long m = input.shape().size() / features;
        if (m < 2) {
            throw new IllegalArgumentException(this + ": training needs more than 1 value per channel, input "
                    + input.shape() + " has " + m);
        }
        Tensor mean = Tensor.empty(input.backend(), input.dtype(), features);
        Tensor var = null;
        Variable y;
        try {
            var = Tensor.empty(input.backend(), input.dtype(), features);
            Normalization.batchNormStats(input.value(), mean, var);
            y = Ops.batchNorm(input, mean, var, weight, bias, EPS, true);
            Elementwise.axpby(MOMENTUM, mean, 1 - MOMENTUM, runningMean);
            Elementwise.axpby(MOMENTUM * m / (m - 1), var, 1 - MOMENTUM, runningVar);
            batchesTracked[0]++;
        } catch (RuntimeException e) {
            mean.close();
            if (var != null) {
                var.close();
            }
            throw e;
        }
        if (!y.requiresGrad()) {
            mean.close(); // nothing will run backward: the statistics are not needed
            var.close();
        }
        return y;
    }

    @Override
    public Map<String, Variable> parameters() {
        Map<String, Variable> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return m;
    }

    @Override
    public Map<String, Tensor> buffers() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("running_mean", runningMean);
        m.put(RUNNING_VAR, runningVar);
        return m;
    }

    @Override
    public Map<String, long[]> counters() {
        return Map.of("num_batches_tracked", batchesTracked);
    }

    @Override
    public void train(boolean training) {
        this.training = training;
    }

    @Override
    public boolean isTraining() {
        return training;
    }

    @Override
    public LayerSpec spec() {
        return LayerSpec.of(spatial ? "batchnorm2d" : "batchnorm1d", Map.of("features", features));
    }

    @Override
    public String toString() {
        return (spatial ? "BatchNorm2d(" : "BatchNorm1d(") + features + ")";
    }
}
