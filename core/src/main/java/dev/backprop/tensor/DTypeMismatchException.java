package dev.backprop.tensor;

import dev.backprop.backend.BackpropException;

/** An operand has a dtype the operation does not accept (or the backend does not support). */
public class DTypeMismatchException extends BackpropException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong, naming the operation and the values
     */
    public DTypeMismatchException(String message) {
        super(message);
    }
}
