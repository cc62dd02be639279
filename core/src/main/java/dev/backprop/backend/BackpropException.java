package dev.backprop.backend;

/** Base of every exception Backprop throws for a problem it detected (bad input, missing backend, ...). */
public class BackpropException extends RuntimeException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong and, where it helps, what to do
     */
    public BackpropException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what went wrong and, where it helps, what to do
     * @param cause   the exception that led to it
     */
    public BackpropException(String message, Throwable cause) {
        super(message, cause);
    }
}
