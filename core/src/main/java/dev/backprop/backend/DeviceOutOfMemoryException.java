package dev.backprop.backend;

/** An allocation did not fit in device memory. The backend stays usable: nothing was allocated. */
public class DeviceOutOfMemoryException extends BackpropException {
    public DeviceOutOfMemoryException(String message) {
        super(message);
    }

    public DeviceOutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
