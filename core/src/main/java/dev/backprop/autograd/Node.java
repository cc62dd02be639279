package dev.backprop.autograd;

/** One recorded op: its inputs, its backward rule, and where it sits on its tape. */
final class Node {
    private final Tape tape;
    private final int index;
    private final String name;
    private final Variable[] inputs;
    private final BackwardFunction backward;
    private Variable output;

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
    }
}
