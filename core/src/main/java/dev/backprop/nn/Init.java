package dev.backprop.nn;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.random.TorchGenerator;
import dev.backprop.tensor.Tensor;

import java.util.Random;

/**
 * Weight initializers, drawn on the host from a seeded {@link Random} (whose algorithm Java specifies), so every
 * backend starts from the same weights. Weights are drawn row-major, then the bias, layer after layer. With a
 * {@link TorchGenerator} (what {@link Sequential.Builder} uses), {@link #PYTORCH_DEFAULT} reproduces
 * {@code torch.manual_seed(seed)} followed by {@code nn.Linear} constructions bit for bit in float32.
 */
public enum Init {
    /**
     * PyTorch's default for {@code nn.Linear}: {@code kaiming_uniform_(a=√5)}, which is
     * {@code U(-1/√in, 1/√in)}, for the weight, and the same bound for the bias.
     */
    PYTORCH_DEFAULT,
    /** Glorot/Xavier uniform: {@code U(-√(6/(in+out)), √(6/(in+out)))}; zero bias. */
    XAVIER_UNIFORM,
    /** Glorot/Xavier normal: {@code N(0, 2/(in+out))}; zero bias. */
    XAVIER_NORMAL,
    /** He/Kaiming uniform for ReLU: {@code U(-√(6/in), √(6/in))}; zero bias. */
    HE_UNIFORM,
    /** He/Kaiming normal for ReLU: {@code N(0, 2/in)}; zero bias. */
    HE_NORMAL;

    /** The initializer's name on the command line: {@code pytorch}, {@code xavier}, {@code he-normal} ... */
    public String id() {
        return switch (this) {
            case PYTORCH_DEFAULT -> "pytorch";
            case XAVIER_UNIFORM -> "xavier";
            case XAVIER_NORMAL -> "xavier-normal";
            case HE_UNIFORM -> "he";
            case HE_NORMAL -> "he-normal";
        };
    }

    /**
     * The initializer called {@code id} (case and surrounding blanks ignored).
     *
     * @throws IllegalArgumentException listing the names when none fits
     */
    public static Init parse(String id) {
        for (Init i : values()) {
            if (i.id().equalsIgnoreCase(id == null ? "" : id.trim())) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown initializer '" + id + "': choose pytorch, xavier, xavier-normal, "
                + "he or he-normal");
    }

    /**
     * Draws {@code count} values for a parameter of a layer with {@code fanIn} inputs and {@code fanOut}
     * outputs.
     */
    public double[] sample(ParameterRole role, int count, int fanIn, int fanOut, Random rng) {
        double[] out = new double[count];
        if (role == ParameterRole.SCALE) {
            java.util.Arrays.fill(out, 1.0);
            return out;
        }
        if (fanIn <= 0 || role == ParameterRole.SHIFT) {
            return out;
        }
        if (role == ParameterRole.BIAS && this != PYTORCH_DEFAULT) {
            return out;
        }
        switch (this) {
            case PYTORCH_DEFAULT -> pytorchDefault(out, role, fanIn, rng);
            case XAVIER_UNIFORM -> uniform(out, Math.sqrt(6.0 / (fanIn + fanOut)), rng);
            case XAVIER_NORMAL -> normal(out, Math.sqrt(2.0 / (fanIn + fanOut)), rng);
            case HE_UNIFORM -> uniform(out, Math.sqrt(6.0 / fanIn), rng);
            case HE_NORMAL -> normal(out, Math.sqrt(2.0 / fanIn), rng);
            default -> throw new AssertionError(this);
        }
        return out;
    }

    /** kaiming_uniform_(a=√5) for the weight and U(±1/√in) for the bias, with PyTorch's exact arithmetic. */
    private static void pytorchDefault(double[] out, ParameterRole role, int fanIn, Random rng) {
        double a = Math.sqrt(5);
        double bound = role == ParameterRole.BIAS ? 1 / Math.sqrt(fanIn)
                : Math.sqrt(3.0) * (Math.sqrt(2.0 / (1 + a * a)) / Math.sqrt(fanIn));
        if (rng instanceof TorchGenerator torch) {
            for (int i = 0; i < out.length; i++) {
                out[i] = torch.uniformFloat(-bound, bound);
            }
        } else {
            uniform(out, bound, rng);
        }
    }

    private static void uniform(double[] out, double bound, Random rng) {
        for (int i = 0; i < out.length; i++) {
            out[i] = (2 * rng.nextDouble() - 1) * bound;
        }
    }

    private static void normal(double[] out, double std, Random rng) {
        for (int i = 0; i < out.length; i++) {
            out[i] = rng.nextGaussian() * std;
        }
    }

    /**
     * A factory that makes parameters on {@code backend} in {@code dtype} (FLOAT32 or FLOAT64) with this
     * initializer, drawing from {@code rng} in call order.
     */
    public ParameterFactory factory(Backend backend, DType dtype, Random rng) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("parameters must be FLOAT32 or FLOAT64, not " + dtype);
        }
        return (name, shape, role, fanIn, fanOut) -> {
            long n = 1;
            for (int d : shape) {
                n = Math.multiplyExact(n, d);
            }
            double[] v = sample(role, Math.toIntExact(n), fanIn, fanOut, rng);
            return hostTensor(backend, dtype, v, shape);
        };
    }

    /** A tensor of {@code dtype} holding {@code values} (rounded to float for FLOAT32). */
    static Tensor hostTensor(Backend backend, DType dtype, double[] values, int[] shape) {
        if (dtype == DType.FLOAT64) {
            return Tensor.of(backend, values, shape);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensor.of(backend, f, shape);
    }
}
