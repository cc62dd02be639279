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
     * {@code message} as one printable line: each code point a terminal acts on or shows as nothing
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
     * What {@link #oneLine} escapes: the {@linkplain #hazardKind hazards}, and every other format character (Unicode
     * category Cf: zero-width joiners and spaces, the soft hyphen, tags), which a terminal shows as nothing and a
     * message therefore shows escaped. The kind in words, else null.
     */
    public static String unprintableKind(int codePoint) {
        String hazard = hazardKind(codePoint);
        return hazard != null || Character.getType(codePoint) != Character.FORMAT ? hazard
                : "an invisible format character";
    }

    /**
     * The kind of {@code codePoint}, in words, when a terminal acts on it rather than shows it, else null: a control
     * character (Unicode category Cc: C0, DEL, C1, with line breaks and escape sequences), a line or paragraph
     * separator (Zl, Zp), an unpaired surrogate (Cs), a bidirectional control (embeddings, overrides, isolates and the
     * marks U+200E, U+200F and U+061C), which reorder what follows on the line, the deprecated controls of shaping and
     * digit shapes (U+206A to U+206F), which change how what follows is drawn, or an interlinear annotation character
     * (U+FFF9 to U+FFFB), which hides text. Class names, which are printed, may not hold them
     * ({@link Dataset#classNameProblem}); the other format characters are parts of words (U+200C and U+200D join
     * letters in Persian and Hindi and emoji into one) and are allowed there.
     */
    public static String hazardKind(int codePoint) {
        return switch (Character.getType(codePoint)) {
            case Character.CONTROL -> "a control character";
            case Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> "a line or paragraph separator";
            case Character.SURROGATE -> "an unpaired surrogate";
            case Character.FORMAT -> formatHazard(codePoint);
            default -> null;
        };
    }

    private static String formatHazard(int codePoint) {
        if (codePoint == 0x061C || codePoint == 0x200E || codePoint == 0x200F
                || codePoint >= 0x202A && codePoint <= 0x202E || codePoint >= 0x2066 && codePoint <= 0x2069) {
            return "a bidirectional control character";
        }
        if (codePoint >= 0x206A && codePoint <= 0x206F) {
            return "a deprecated shaping or digit-shape control character";
        }
        if (codePoint >= 0xFFF9 && codePoint <= 0xFFFB) {
            return "an interlinear annotation character";
        }
        return null;
    }
}
