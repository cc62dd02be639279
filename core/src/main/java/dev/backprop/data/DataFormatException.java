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
     * {@code message} as one printable line: each code point a terminal acts on rather than shows
     * ({@link #unprintableKind}) escaped as {@code \\uXXXX} (per UTF-16 unit), and cut to
     * {@link #MAX_MESSAGE_CHARS}, since file names, tensor names and fields quoted from an untrusted file may hold
     * anything.
     */
    public static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(Math.min(message.length(), MAX_MESSAGE_CHARS + 16));
        for (int i = 0; i < message.length(); ) {
            if (b.length() >= MAX_MESSAGE_CHARS) {
                return b.append(" ...").toString();
            }
            int cp = message.codePointAt(i);
            int end = i + Character.charCount(cp);
            if (unprintableKind(cp) == null) {
                b.appendCodePoint(cp);
            } else {
                for (int j = i; j < end; j++) {
                    b.append(String.format("\\u%04X", (int) message.charAt(j)));
                }
            }
            i = end;
        }
        return b.toString();
    }

    /**
     * The kind of {@code codePoint}, in words, when a terminal acts on it rather than shows it, else null: a control
     * character (Unicode category Cc: C0, DEL, C1, with line breaks and escape sequences), a format character (Cf:
     * bidirectional overrides, isolates and marks, which reorder what follows on the line, and invisible ones), a line
     * or paragraph separator (Zl, Zp), or an unpaired surrogate (Cs). {@link #oneLine} escapes these, and class names,
     * which are printed, may not hold them.
     */
    public static String unprintableKind(int codePoint) {
        return switch (Character.getType(codePoint)) {
            case Character.CONTROL -> "a control character";
            case Character.FORMAT -> "a format character (bidirectional or invisible)";
            case Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> "a line or paragraph separator";
            case Character.SURROGATE -> "an unpaired surrogate";
            default -> null;
        };
    }
}
