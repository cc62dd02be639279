package dev.backprop.autograd;

import dev.backprop.tensor.Tensor;

/** One recorded op: its inputs, its backward rule, and where it sits on its tape. */
final class Node {
    private final Tape tape;
    private final int index;
    private final String name;
    private final Variable[] inputs;
    private final BackwardFunction backward;
    private Variable output;
    /** {@link #valueVersions()} when the op was recorded. */
    private int recordedVersions;
    /** The number of the last backward pass that reaches this node (see {@link Tape#backward}). */
    private int reachedBy;

    Node(Tape tape, int index, String name, Variable[] inputs, BackwardFunction backward) {
        this.tape = tape;
        this.index = index;
        this.name = name;
        this.inputs = inputs;
        this.backward = backward;
    }

    Tape tape() {
        return tape;
    }

    int index() {
        return index;
    }

    String name() {
        return name;
    }

    Variable[] inputs() {
        return inputs;
    }

    BackwardFunction backward() {
        return backward;
    }

    Variable output() {
        return output;
    }

    void output(Variable v) {
        output = v;
        recordedVersions = valueVersions();
    }

    /** The sum of the write counts of the inputs' values and the output's value: it grows with every write. */
    private int valueVersions() {
        int sum = output.value().version();
        for (Variable v : inputs) {
            if (v != null) {
                sum += v.value().version();
            }
        }
        return sum;
    }

    /** {@return the first of the op's values (inputs, then output) that is closed, or null when all are open} */
    Tensor closedValue() {
        for (Variable v : inputs) {
            if (v != null && v.value().isClosed()) {
                return v.value();
            }
        }
        return output.value().isClosed() ? output.value() : null;
    }

    /**
     * Whether a value this op read or made was written in place after the op was recorded, so its backward rule
     * would compute a wrong gradient from it.
     */
    boolean valuesChanged() {
        return valueVersions() != recordedVersions;
    }

    /** {@return the shapes of the op's values, for messages: {@code inputs [2, 3], [3], output [2, 3]}} */
    String valueShapes() {
        StringBuilder b = new StringBuilder("inputs ");
        for (int i = 0; i < inputs.length; i++) {
            b.append(i > 0 ? ", " : "").append(inputs[i] == null ? "none" : inputs[i].shape().toString());
        }
        return b.append(", output ").append(output.shape()).toString();
    }

    int reachedBy() {
        return reachedBy;
    }

    void reachedBy(int pass) {
        reachedBy = pass;
    }
}
