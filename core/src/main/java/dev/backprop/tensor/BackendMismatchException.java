package dev.backprop.tensor;

import dev.backprop.backend.BackpropException;

/** Operands of one operation live on different backends; copy one with {@link Tensor#to}. */
public class BackendMismatchException extends BackpropException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong, naming the operation and the values
     */
    public BackendMismatchException(String message) {
        super(message);
    }
}
