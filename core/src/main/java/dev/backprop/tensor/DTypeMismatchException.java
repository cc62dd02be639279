package dev.backprop.tensor;

import dev.backprop.backend.BackpropException;

/** An operand has a dtype the operation does not accept (or the backend does not support). */
public class DTypeMismatchException extends BackpropException {
    public DTypeMismatchException(String message) {
        super(message);
    }
}
