package dev.backprop.io;

import dev.backprop.data.DataFormatException;

import java.io.IOException;

/**
 * A model or checkpoint file that cannot be used: corrupt, truncated, hostile, or not matching the model it is
 * loaded into. The message names the file, the tensor or field, and what was expected, on one line (names and
 * fields quoted from the file are escaped as {@link DataFormatException#oneLine} does). Thrown before anything is
 * allocated on a backend.
 */
public class ModelFileException extends IOException {
    /** @param message what is wrong, naming the file and the tensor or field */
    public ModelFileException(String message) {
        super(DataFormatException.oneLine(message));
    }

    /**
     * @param message what is wrong
     * @param cause   the underlying parse or I/O error
     */
    public ModelFileException(String message, Throwable cause) {
        super(DataFormatException.oneLine(message), cause);
    }
}
