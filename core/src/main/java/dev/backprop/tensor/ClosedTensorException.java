package dev.backprop.tensor;

import dev.backprop.backend.BackpropException;

/** A tensor (or the backend that owns it) was used after it was closed. */
public class ClosedTensorException extends BackpropException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong, naming the operation and the values
     */
    public ClosedTensorException(String message) {
        super(message);
    }
}
