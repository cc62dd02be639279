package dev.backprop.data;

import dev.backprop.backend.BackpropException;

/** A data file is missing, truncated, corrupt or inconsistent; the message names the file and the problem. */
public class DataFormatException extends BackpropException {
    public DataFormatException(String message) {
        super(message);
    }

    public DataFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
