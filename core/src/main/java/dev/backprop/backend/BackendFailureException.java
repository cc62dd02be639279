package dev.backprop.backend;

/** A native call failed (OpenCL/CUDA error code, kernel build failure). The message names the call and the
 *  platform's error name. */
public class BackendFailureException extends BackpropException {
    public BackendFailureException(String message) {
        super(message);
    }

    public BackendFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
