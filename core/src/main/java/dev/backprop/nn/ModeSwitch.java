package dev.backprop.nn;

import java.util.ArrayList;
import java.util.List;

/**
 * Puts a model in training or evaluation mode ({@link Layer#train(boolean)}) for a block and, on close, every layer
 * back in the mode it had, so a caller that evaluates in the middle of training (or trains a model a user left in
 * evaluation mode) changes nothing it does not own:
 *
 * <pre>{@code
 * try (ModeSwitch eval = ModeSwitch.to(model, false)) {
 *     ... forward passes with running statistics and without dropout ...
 * }
 * }</pre>
 */
public final class ModeSwitch implements AutoCloseable {
    private final List<Layer> layers = new ArrayList<>();
    private final List<Boolean> modes = new ArrayList<>();

    private ModeSwitch(Layer model) {
        remember(model);
    }

    /** Sets {@code model}'s mode to {@code training}, remembering the mode of each of its layers. */
    public static ModeSwitch to(Layer model, boolean training) {
        ModeSwitch s = new ModeSwitch(model);
        model.train(training);
        return s;
    }

    /** Remembers {@code l}'s mode, then its children's: restored in this order, a child's own mode wins. */
    private void remember(Layer l) {
        layers.add(l);
        modes.add(l.isTraining());
        if (l instanceof Sequential s) {
            s.layers().forEach(this::remember);
        }
    }

    /** Puts every layer back in the mode it had. */
    @Override
    public void close() {
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).train(modes.get(i));
        }
    }
}
