package dev.backprop.tensor;

import dev.backprop.backend.BackpropException;

/** Operands of one operation live on different backends; copy one with {@link Tensor#to}. */
public class BackendMismatchException extends BackpropException {
    public BackendMismatchException(String message) {
        super(message);
    }
}
