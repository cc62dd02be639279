package dev.backprop.spark.engine;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The model's parameters (and, for parameter averaging, the optimizer's state) laid end to end as one float
 * vector, in the model's parameter order: what the ranks all-reduce. Copies go through the host, one transfer
 * per tensor.
 */
final class FlatParameters {
    private final List<Variable> params;
    private final List<Tensor> state;
    private final int parameterCount;
    private final int stateCount;

    /**
     * @param params the model's parameters in order
     * @param state  the optimizer's state tensors in order (may be empty)
     * @throws IllegalArgumentException when a tensor is not FLOAT32 or not contiguous, or the vector would not fit
     *                                  a Java array
     */
    FlatParameters(Map<String, Variable> params, Map<String, Tensor> state) {
        this.params = new ArrayList<>(params.values());
        this.state = new ArrayList<>(state.values());
        long p = 0;
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            p += check(e.getKey(), e.getValue().value());
        }
        long s = 0;
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            s += check("optimizer." + e.getKey(), e.getValue());
        }
        if (p + s + 1 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the model has " + p + " parameters and " + s + " optimizer values: "
                    + "too many for one all-reduce vector");
        }
        this.parameterCount = (int) p;
        this.stateCount = (int) s;
    }

    private static long check(String name, Tensor t) {
        if (t.dtype() != DType.FLOAT32 || !t.isContiguous()) {
            throw new IllegalArgumentException("distributed training needs contiguous FLOAT32 parameters; '" + name
                    + "' is " + t.dtype() + " " + t.shape() + (t.isContiguous() ? "" : " (a strided view)"));
        }
        return t.size();
    }

    /** Number of trainable scalars. */
    int parameterCount() {
        return parameterCount;
    }

    /** Number of optimizer state values. */
    int stateCount() {
        return stateCount;
    }

    /** The parameters, in vector order. */
    List<Variable> parameters() {
        return params;
    }

    /** Where parameter {@code i}'s elements start in the vector. */
    int offset(int i) {
        int at = 0;
        for (int j = 0; j < i; j++) {
            at += (int) params.get(j).value().size();
        }
        return at;
    }

    /**
     * Copies elements {@code [from, to)} of {@code v}'s gradient (row-major) into {@code dst} at
     * {@code at + from}.
     */
    static void gradientRangeTo(Variable v, int from, int to, float[] dst, int at) {
        Tensor g = v.grad();
        g.checkOpen();
        g.backend().download(g.buffer(), g.offset() + from, dst, at + from, to - from);
    }

    /** Copies every parameter's gradient into {@code dst[0..parameterCount)}. */
    void gradientsTo(float[] dst) {
        int at = 0;
        for (Variable v : params) {
            at = download(v.grad(), dst, at);
        }
    }

    /** Replaces every parameter's gradient by {@code src[0..parameterCount)}. */
    void gradientsFrom(float[] src) {
        int at = 0;
        for (Variable v : params) {
            at = upload(src, at, v.grad());
        }
    }

    /** Copies parameters, then optimizer state, into {@code dst[0..parameterCount+stateCount)}. */
    void valuesTo(float[] dst) {
        int at = 0;
        for (Variable v : params) {
            at = download(v.value(), dst, at);
        }
        for (Tensor t : state) {
            at = download(t, dst, at);
        }
    }

    /** Replaces parameters, then optimizer state, by {@code src[0..parameterCount+stateCount)}. */
    void valuesFrom(float[] src) {
        int at = 0;
        for (Variable v : params) {
            at = upload(src, at, v.value());
        }
        for (Tensor t : state) {
            at = upload(src, at, t);
        }
    }

    private static int download(Tensor t, float[] dst, int at) {
        t.checkOpen();
        Backend b = t.backend();
        int n = (int) t.size();
        b.download(t.buffer(), t.offset(), dst, at, n);
        return at + n;
    }

    private static int upload(float[] src, int at, Tensor t) {
        t.checkOpen();
        Backend b = t.backend();
        int n = (int) t.size();
        t.incrementVersion();
        b.upload(src, at, t.buffer(), t.offset(), n);
        return at + n;
    }
}
