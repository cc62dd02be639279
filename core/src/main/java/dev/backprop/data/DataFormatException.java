package dev.backprop.data;

import dev.backprop.backend.BackpropException;

/**
 * A data file is missing, truncated, corrupt or inconsistent; the message names the file and the problem, on one
 * line (see {@link #oneLine}).
 */
public class DataFormatException extends BackpropException {
    /** Messages longer than this are cut: a hostile file can put megabytes into a field that a message quotes. */
    public static final int MAX_MESSAGE_CHARS = 1000;

    /** @param message what is wrong, naming the file */
    public DataFormatException(String message) {
        super(oneLine(message));
    }

    /**
     * @param message what is wrong, naming the file
     * @param cause   the underlying error
     */
    public DataFormatException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /**
     * {@code message} as one printable line: control characters (line breaks included) and Unicode line
     * separators escaped as {@code \\uXXXX}, and cut to {@link #MAX_MESSAGE_CHARS}, since file names, tensor names
     * and fields quoted from an untrusted file may hold anything.
     */
    public static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(Math.min(message.length(), MAX_MESSAGE_CHARS + 16));
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            if (b.length() >= MAX_MESSAGE_CHARS) {
                return b.append(" ...").toString();
            }
            boolean control = c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\u2028' || c == '\u2029';
            b.append(control ? String.format("\\u%04X", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }
}
