package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.random.Philox;
import dev.backprop.tensor.Regularization;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Inverted dropout like PyTorch's {@code nn.Dropout(p)}: in training mode each element is zeroed with probability
 * {@code p} and the rest scaled by {@code 1/(1 - p)}; in evaluation mode it is the identity. The mask comes from a
 * Philox4x32-10 stream of this layer ({@code seed}, and a counter {@code offset} that each training forward pass
 * advances past the bits it used), so a run draws the same masks on every backend and a checkpoint that keeps the
 * offset ({@link #trainingState()}) resumes exactly. PyTorch draws its masks from other bits: the masks agree with
 * PyTorch's in distribution, not element by element.
 */
public final class Dropout implements Layer {
    private final double p;
    private final long[] seed;
    private final long[] offset = {0};
    private boolean training = true;

    /**
     * @param p    the probability of zeroing an element, in {@code [0, 1]} as in PyTorch ({@code p = 1} zeroes every
     *             element in training: the output is {@code x·0}, NaN where x is infinite or NaN, as PyTorch's)
     * @param seed the layer's stream (the model builder derives it from the run's seed and the layer's position)
     * @throws IllegalArgumentException for {@code p} outside {@code [0, 1]}
     */
    public Dropout(double p, long seed) {
        Regularization.checkProbability(p);
        this.p = p;
        this.seed = new long[] {seed};
    }

    /**
     * Checks the dropout probability of an architecture ({@link Mlp}, {@link Cnn}), which its model file records:
     * stricter than the layer itself, which also takes {@code p = 1}.
     *
     * @return {@code p}, with {@code -0.0} as {@code 0.0}: the same network, so records holding either are equal
     * @throws IllegalArgumentException naming {@code p} when it is outside {@code [0, 1)} or not a whole number of
     *                                  millionths (the model file's {@code p_ppm})
     */
    public static double checkRecordedProbability(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        if (BigDecimal.valueOf(p).movePointRight(6).stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("dropout probability " + p + " is not a whole number of millionths, "
                    + "which the model file records");
        }
        return p + 0.0;
    }

    /**
     * The stream seed of the dropout layer at {@code position} in a model built from {@code seed}: distinct for
     * every position, the same for the same model.
     */
    public static long streamSeed(long seed, int position) {
        return seed * 0x9E3779B97F4A7C15L + position + 1;
    }

    /** The probability of zeroing an element. */
    public double probability() {
        return p;
    }

    @Override
    public Variable forward(Variable input) {
        if (!training || p == 0) {
            return input;
        }
        Variable y = Ops.dropout(input, p, seed[0], offset[0]);
        offset[0] += Philox.blocks(input.shape().size());
        return y;
    }

    @Override
    public Map<String, Variable> parameters() {
        return Map.of();
    }

    @Override
    public Map<String, long[]> trainingState() {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("dropout_seed", seed);
        m.put("dropout_offset", offset);
        return m;
    }

    @Override
    public void train(boolean training) {
        this.training = training;
    }

    @Override
    public boolean isTraining() {
        return training;
    }

    /** The spec keeps {@code p} in millionths ({@code p_ppm}), exact for probabilities with up to six decimals. */
    @Override
    public LayerSpec spec() {
        return spec(p);
    }

    /** The spec of {@code nn.Dropout(p)}: {@code p} in millionths ({@code p_ppm}), as a model file records it. */
    public static LayerSpec spec(double p) {
        return LayerSpec.of("dropout", Map.of("p_ppm", (int) Math.round(p * 1_000_000)));
    }

    @Override
    public String toString() {
        return "Dropout(p=" + p + ")";
    }
}
