package dev.backprop.backend;

/** A native call failed (OpenCL/CUDA error code, kernel build failure). The message names the call and the
 *  platform's error name. */
public class BackendFailureException extends BackpropException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong and, where it helps, what to do
     */
    public BackendFailureException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what went wrong and, where it helps, what to do
     * @param cause   the exception that led to it
     */
    public BackendFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
