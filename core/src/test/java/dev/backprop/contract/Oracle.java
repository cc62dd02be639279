package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The two sides of every contract case: the backend under test and the float64 {@link ReferenceBackend}.
 * Inputs are uploaded identically to both (the reference holds FLOAT32 inputs as FLOAT64 tensors of the same
 * values, so its results are the float64 truth), and outputs on the tested side are usually placed at an
 * offset inside a guarded buffer, to catch ignored offsets and stray writes.
 */
public final class Oracle {
    /** Guard value around placed tensors: exact in every dtype. */
    static final double SENTINEL = -777.0;
    private static final int TRAIL = 3;

    private final Backend backend;
    private final ReferenceBackend reference;
    private final boolean float64;

    Oracle(Backend backend, ReferenceBackend reference, boolean float64) {
        this.backend = backend;
        this.reference = reference;
        this.float64 = float64;
    }

    /** The backend under test. */
    public Backend backend() {
        return backend;
    }

    /** The float64 reference. */
    public ReferenceBackend reference() {
        return reference;
    }

    /** Whether FLOAT64 is tested on this backend. */
    public boolean float64() {
        return float64;
    }

    /** FLOAT32, plus FLOAT64 when the backend supports it. */
    public List<DType> floating() {
        return float64 ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32);
    }

    /** The floating dtypes plus INT32. */
    public List<DType> all() {
        return float64 ? List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32) : List.of(DType.FLOAT32, DType.INT32);
    }

    /** A tensor of {@code dtype} holding {@code values} on {@code on}. */
    public static Tensor put(Backend on, DType dtype, double[] values, int... dims) {
        return switch (dtype) {
            case FLOAT32 -> {
                float[] f = new float[values.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) values[i];
                }
                yield Tensor.of(on, f, dims);
            }
            case FLOAT64 -> Tensor.of(on, values.clone(), dims);
            case INT32 -> Tensor.of(on, Arrays.stream(values).mapToInt(v -> (int) v).toArray(), dims);
        };
    }

    /** {@code values} on the backend under test. */
    public Tensor actual(DType dtype, double[] values, int... dims) {
        return put(backend, dtype, values, dims);
    }

    /** {@code values} on the reference: FLOAT64 for a floating dtype, INT32 otherwise. */
    public Tensor truth(DType dtype, double[] values, int... dims) {
        return put(reference, dtype.isFloating() ? DType.FLOAT64 : DType.INT32, values, dims);
    }

    /**
     * {@code values} on the backend under test at element offset {@code lead} of a larger buffer whose other
     * elements hold {@link #SENTINEL}; {@code dims} is the view's shape ({@code []} for a scalar).
     */
    public Placed placed(DType dtype, double[] values, int lead, int... dims) {
        double[] all = new double[lead + values.length + TRAIL];
        Arrays.fill(all, SENTINEL);
        System.arraycopy(values, 0, all, lead, values.length);
        Tensor whole = put(backend, dtype, all, all.length);
        Tensor view = whole.rows(lead, lead + values.length).reshape(dims);
        return new Placed(whole, view, lead, values.length);
    }

    /** A sentinel-filled output of {@code dims} at offset {@code lead}. */
    public Placed output(DType dtype, int lead, int... dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        double[] v = new double[Math.toIntExact(n)];
        Arrays.fill(v, SENTINEL);
        return placed(dtype, v, lead, dims);
    }

    /** A tensor placed inside a guarded buffer: {@link #view} is what ops see. */
    public record Placed(Tensor whole, Tensor view, int lead, int length) {
        /** The view's elements as doubles, after checking that no guard element changed. */
        public double[] read(String what) {
            double[] all = whole.toDoubles();
            for (int i = 0; i < all.length; i++) {
                boolean guard = i < lead || i >= lead + length;
                if (guard && all[i] != SENTINEL) {
                    fail(what + ": element " + i + " of the buffer, outside the output range [" + lead + ", "
                            + (lead + length) + "), was overwritten with " + all[i]);
                }
            }
            return Arrays.copyOfRange(all, lead, lead + length);
        }
    }
}
