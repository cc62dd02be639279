package dev.backprop.backend;

/** A backend was asked for by name (or selection policy demanded one) and cannot run here; the message
 *  carries the probe's reason. */
public class BackendUnavailableException extends BackpropException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
