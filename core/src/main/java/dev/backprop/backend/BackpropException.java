package dev.backprop.backend;

/** Base of every exception Backprop throws for a problem it detected (bad input, missing backend, ...). */
public class BackpropException extends RuntimeException {
    public BackpropException(String message) {
        super(message);
    }

    public BackpropException(String message, Throwable cause) {
        super(message, cause);
    }
}
