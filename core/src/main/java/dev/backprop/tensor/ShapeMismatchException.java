package dev.backprop.tensor;

import dev.backprop.backend.BackpropException;

/** Operand shapes do not fit the operation; the message names the operation and every shape involved. */
public class ShapeMismatchException extends BackpropException {
    public ShapeMismatchException(String message) {
        super(message);
    }
}
