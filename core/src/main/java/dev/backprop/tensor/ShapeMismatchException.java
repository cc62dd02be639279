package dev.backprop.tensor;

import dev.backprop.backend.BackpropException;

/** Operand shapes do not fit the operation; the message names the operation and every shape involved. */
public class ShapeMismatchException extends BackpropException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong, naming the operation and the values
     */
    public ShapeMismatchException(String message) {
        super(message);
    }
}
