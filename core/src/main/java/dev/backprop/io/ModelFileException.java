package dev.backprop.io;

import java.io.IOException;

/**
 * A model or checkpoint file that cannot be used: corrupt, truncated, hostile, or not matching the model it is
 * loaded into. The message names the file, the tensor or field, and what was expected. Thrown before anything is
 * allocated on a backend.
 */
public class ModelFileException extends IOException {
    public ModelFileException(String message) {
        super(message);
    }

    public ModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
