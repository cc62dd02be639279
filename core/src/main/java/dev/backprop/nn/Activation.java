package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.UnaryOp;

import java.util.Locale;
import java.util.Map;

/**
 * An elementwise activation layer without parameters. {@link Kind#THRESHOLD} is the hard threshold
 * {@code 1[z ≥ 0]}: its derivative is 0 everywhere, so it is for inference; training through it logs a warning.
 */
public final class Activation implements Layer {
    /** The activation functions offered as layers. */
    public enum Kind {
        /** {@code z} (no-op; PyTorch's {@code nn.Identity}). */
        IDENTITY,
        /** {@code 1/(1+e^-z)}. */
        SIGMOID,
        /** {@code tanh z}. */
        TANH,
        /** {@code max(0, z)}. */
        RELU,
        /** {@code 1[z ≥ 0]}, derivative 0 (inference only). */
        THRESHOLD;

        /** The spec/type name ({@code relu}). */
        public String typeName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Kind kind;

    /** An activation layer of the given kind. */
    public Activation(Kind kind) {
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    /** The identity. */
    public static Activation identity() {
        return new Activation(Kind.IDENTITY);
    }

    /** The logistic sigmoid. */
    public static Activation sigmoid() {
        return new Activation(Kind.SIGMOID);
    }

    /** The hyperbolic tangent. */
    public static Activation tanh() {
        return new Activation(Kind.TANH);
    }

    /** The rectifier {@code max(0, z)}. */
    public static Activation relu() {
        return new Activation(Kind.RELU);
    }

    /** The hard threshold (inference only; see the class comment). */
    public static Activation threshold() {
        return new Activation(Kind.THRESHOLD);
    }

    /** Which function this layer applies. */
    public Kind kind() {
        return kind;
    }

    /**
     * The SPI's op for this activation when a dense layer before it can run it in its fused epilogue
     * ({@link Backend#FUSED_ACTIVATIONS}), else null.
     */
    UnaryOp fusedOp() {
        UnaryOp op = switch (kind) {
            case IDENTITY -> UnaryOp.IDENTITY;
            case SIGMOID -> UnaryOp.SIGMOID;
            case TANH -> UnaryOp.TANH;
            case RELU -> UnaryOp.RELU;
            case THRESHOLD -> UnaryOp.THRESHOLD;
        };
        return Backend.FUSED_ACTIVATIONS.contains(op) ? op : null;
    }

    @Override
    public Variable forward(Variable input) {
        return switch (kind) {
            case IDENTITY -> input;
            case SIGMOID -> Ops.sigmoid(input);
            case TANH -> Ops.tanh(input);
            case RELU -> Ops.relu(input);
            case THRESHOLD -> Ops.threshold(input);
        };
    }

    @Override
    public Map<String, Variable> parameters() {
        return Map.of();
    }

    @Override
    public LayerSpec spec() {
        return LayerSpec.of(kind.typeName(), Map.of());
    }

    @Override
    public String toString() {
        return kind.typeName();
    }
}
