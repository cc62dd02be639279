package dev.backprop.io;

import dev.backprop.data.DataFormatException;
import dev.backprop.nn.BatchNorm;
import dev.backprop.optim.Adam;

import java.util.Arrays;
import java.util.function.IntFunction;
import java.util.function.IntToDoubleFunction;
import java.util.logging.Logger;

/**
 * The one check of the numbers a model's state is loaded with, whatever door it comes in by: safetensors model
 * files, plain PyTorch {@code state_dict}s and checkpoints (through {@link SafeTensorsFile#read}) and ONNX imports.
 * Each tensor is checked on the heap, before it reaches a backend, so a refusal leaves the model unchanged. It
 * refuses NaN and infinities (or, when allowed, logs a warning naming the tensor), a batch norm's
 * {@code running_var} below 0, which evaluation would turn into NaN through {@code sqrt(var + eps)}, and a
 * checkpoint's Adam {@code exp_avg_sq} below 0, which the next step would.
 */
public final class StateValues {
    private static final Logger LOG = Logger.getLogger(StateValues.class.getName());

    private StateValues() {
    }

    /**
     * Checks tensor {@code name} of {@code file}, row-major {@code values} of dimensions {@code shape}.
     *
     * @param allowNonFinite load NaN and infinities with a logged warning instead of refusing them
     * @throws ModelFileException naming the file, the tensor, the element and its value
     */
    public static void check(String file, String name, int[] shape, float[] values, boolean allowNonFinite)
            throws ModelFileException {
        check(file, name, shape, values.length, i -> values[i], i -> Float.toString(values[i]), allowNonFinite);
    }

    /** As {@link #check(String, String, int[], float[], boolean)}, for float64 values. */
    public static void check(String file, String name, int[] shape, double[] values, boolean allowNonFinite)
            throws ModelFileException {
        check(file, name, shape, values.length, i -> values[i], i -> Double.toString(values[i]), allowNonFinite);
    }

    private static void check(String file, String name, int[] shape, int n, IntToDoubleFunction value,
                              IntFunction<String> text, boolean allowNonFinite) throws ModelFileException {
        int count = 0, first = -1, negative = -1;
        for (int i = 0; i < n; i++) {
            double v = value.applyAsDouble(i);
            if (!Double.isFinite(v)) {
                count++;
                first = first < 0 ? i : first;
            } else if (v < 0 && negative < 0) {
                negative = i;
            }
        }
        if (count > 0) {
            String what = file + ": tensor '" + name + "' holds " + count + " non-finite value"
                    + (count == 1 ? "" : "s") + " (the first, " + text.apply(first) + ", at " + index(shape, first)
                    + ")";
            if (!allowNonFinite) {
                throw new ModelFileException(what + ": the weights are corrupt or come from a diverged run; refusing "
                        + "them (--allow-non-finite, or loading with allowNonFinite, loads them with a warning)");
            }
            LOG.warning(DataFormatException.oneLine(what + "; loaded anyway, as asked"));
        }
        // allowNonFinite does not cover this: it exists to inspect a run that diverged, whose symptom is NaN or
        // infinities, while no training makes a running variance negative (it is a moving average of batch
        // variances, each at least 0), so a negative one means a damaged file, and evaluation would turn it into
        // NaN for that channel whatever the option says.
        if (negative >= 0 && isRunningVariance(name)) {
            throw new ModelFileException(file + ": " + name + index(shape, negative) + " is " + text.apply(negative)
                    + ": a variance cannot be negative");
        }
        // Adam's update divides by sqrt(exp_avg_sq) + eps: a negative moment, which no step makes (it is a moving
        // average of squared gradients), turns the first resumed step into NaN.
        if (negative >= 0 && isSecondMoment(name)) {
            throw new ModelFileException(file + ": " + name + index(shape, negative) + " is " + text.apply(negative)
                    + ": Adam's second moment, a moving average of squared gradients, cannot be negative");
        }
    }

    /** Whether a checkpoint's tensor name is Adam's second moment ({@code optimizer.0.weight.exp_avg_sq}). */
    private static boolean isSecondMoment(String name) {
        return name.startsWith(ModelFile.OPTIMIZER_PREFIX) && name.endsWith("." + Adam.SECOND_MOMENT);
    }

    /** Whether a {@code state_dict} name is a batch norm's running variance ({@code 1.running_var}). */
    private static boolean isRunningVariance(String name) {
        return name.equals(BatchNorm.RUNNING_VAR) || name.endsWith("." + BatchNorm.RUNNING_VAR);
    }

    /** The multi-dimensional index of flat element {@code flat} in a row-major {@code shape}. */
    private static String index(int[] shape, int flat) {
        int[] idx = new int[shape.length];
        int rest = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = rest % shape[d];
            rest /= shape[d];
        }
        return Arrays.toString(idx);
    }
}
