package dev.backprop.backend;

/** A backend was asked for by name (or selection policy demanded one) and cannot run here; the message
 *  carries the probe's reason. */
public class BackendUnavailableException extends BackpropException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong and, where it helps, what to do
     */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what went wrong and, where it helps, what to do
     * @param cause   the exception that led to it
     */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
