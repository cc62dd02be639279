package dev.backprop.backend;

/** An allocation did not fit in device memory. The backend stays usable: nothing was allocated. */
public class DeviceOutOfMemoryException extends BackpropException {
    /**
     * Creates the exception.
     *
     * @param message what went wrong and, where it helps, what to do
     */
    public DeviceOutOfMemoryException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message what went wrong and, where it helps, what to do
     * @param cause   the exception that led to it
     */
    public DeviceOutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
