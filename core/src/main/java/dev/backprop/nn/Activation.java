package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;

import java.util.Locale;
import java.util.Map;

/**
 * An elementwise activation layer without parameters. {@link Kind#THRESHOLD} is the hard threshold
 * {@code 1[z ≥ 0]}: its derivative is 0 everywhere, so it is for inference; training through it logs a warning.
 */
public final class Activation implements Layer {
    /** The activation functions offered as layers. */
    public enum Kind {
        IDENTITY, SIGMOID, TANH, RELU, THRESHOLD;

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

    public static Activation identity() {
        return new Activation(Kind.IDENTITY);
    }

    public static Activation sigmoid() {
        return new Activation(Kind.SIGMOID);
    }

    public static Activation tanh() {
        return new Activation(Kind.TANH);
    }

    public static Activation relu() {
        return new Activation(Kind.RELU);
    }

    /** The hard threshold (inference only; see the class comment). */
    public static Activation threshold() {
        return new Activation(Kind.THRESHOLD);
    }

    public Kind kind() {
        return kind;
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
