package dev.backprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one rule for class names ({@link Dataset#classNameProblem}) and the one escaping of untrusted text
 * ({@link DataFormatException#oneLine}): what a terminal acts on rather than shows (controls, bidirectional controls,
 * line and paragraph separators, unpaired surrogates) is refused in a name, at every reader that takes class names
 * from outside, and escaped in a message; format characters that are parts of words are names' own.
 */
class ClassNameTest {
    @TempDir
    Path dir;

    /**
     * Line and paragraph separators, bidirectional embeddings, overrides, isolates and marks, the deprecated
     * controls of shaping and digit shapes, interlinear annotation (which hides text), controls and lone surrogates.
     */
    @ParameterizedTest
    @ValueSource(ints = {0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
            0x2069, 0x200E, 0x200F, 0x061C, 0x206A, 0x206E, 0x206F, 0xFFF9, 0xFFFA, 0xFFFB, 0x001B, 0x0085, 0xD800,
            0xDC00})
    void everyCodePointATerminalActsOnIsRefusedAndEscaped(int cp) {
        String name = "cat" + new String(Character.toChars(cp)) + "x";
        String escaped = escapes(name.substring(3, name.length() - 1));
        String problem = Dataset.classNameProblem(name);
        assertEquals("class name 'cat" + escaped + "x' holds " + String.format("U+%04X", cp) + ", "
                + DataFormatException.unprintableKind(cp), problem);
        assertEquals("cat" + escaped + "x", DataFormatException.oneLine(name));
    }

    /**
     * Format characters that are part of ordinary text: joiners in Persian, Hindi and emoji sequences, the soft
     * hyphen, zero-width spaces and no-break spaces, emoji tags, Arabic number signs. A terminal shows them (or
     * nothing) in place; messages still escape them, so that an invisible one is seen.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645",
            "\u0915\u094D\u200D\u0937", "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67",
            "Silben\u00ADtrennung", "a\u200Bb", "a\u2060b", "\uFEFFa", "\u0600\u0661\u0662",
            "\uD83C\uDFF4\uDB40\uDC67\uDB40\uDC62\uDB40\uDC73\uDB40\uDC63\uDB40\uDC74\uDB40\uDC7F"})
    void formatCharactersOfOrdinaryTextAreAccepted(String name) {
        assertNull(Dataset.classNameProblem(name), DataFormatException.oneLine(name));
        Dataset d = Dataset.classification(new float[2], new int[] {1}, new int[] {0, 1}, 2, List.of("cat", name));
        assertEquals(name, d.classNames().get(1));
        assertTrue(DataFormatException.oneLine(name).contains("\\u"), "escaped in a message");
    }

    @Test
    void aPersianFolderWithAZeroWidthNonJoinerIsAClass() throws IOException {
        String persian = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645";
        Files.write(Files.createDirectories(dir.resolve("cat")).resolve("a.png"), HostilePng.flat(2, 2, null, null));
        Files.write(Files.createDirectories(dir.resolve(persian)).resolve("a.png"),
                HostilePng.flat(2, 2, null, null));
        assertEquals(List.of("cat", persian), ImageFolder.read(dir).classNames());
    }

    @Test
    void namesInAnyScriptArePrintable() {
        for (String name : List.of("cat", "Katze mit Hut", "猫", "قطة", "кошка", "🐈", "a\u0301", "\u00e9")) {
            assertNull(Dataset.classNameProblem(name), name);
            assertEquals(name, DataFormatException.oneLine(name));
        }
        assertEquals("class name 'dog\\u202Egnp.exe' holds U+202E, a bidirectional control character",
                Dataset.classNameProblem("dog\u202Egnp.exe"));
        assertEquals("class name 'a\\u2028b' holds U+2028, a line or paragraph separator",
                Dataset.classNameProblem("a\u2028b"));
        assertEquals("class name 'a\\uD800' holds U+D800, an unpaired surrogate", Dataset.classNameProblem("a\uD800"));
    }

    @Test
    void aDataSetRefusesTheName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dataset.classification(
                new float[2], new int[] {1}, new int[] {0, 1}, 2, List.of("cat", "d\u2066og")));
        assertEquals("class name 'd\\u2066og' holds U+2066, a bidirectional control character",
                e.getMessage());
    }

    @Test
    void csvLabelsAndGivenNamesAreRefused() throws IOException {
        Path labels = write("5.1,1.4,setosa\n5.2,1.1,vir\u202Eginica\n");
        assertEquals(labels + ": line 2: label: class name 'vir\\u202Eginica' holds U+202E, a bidirectional control "
                + "character", assertThrows(DataFormatException.class,
                () -> CsvData.readClassColumn(labels)).getMessage());
        Path plain = write("5.1,1.4,setosa\n");
        assertEquals(plain + ": class name 'a\\u2029b' holds U+2029, a line or paragraph separator",
                assertThrows(IllegalArgumentException.class, () -> CsvData.readClassification(plain,
                        List.of("setosa", "a\u2029b"))).getMessage());
    }

    @Test
    void anImageFolderNamedWithAnOverrideIsRefused() throws IOException {
        Files.write(Files.createDirectories(dir.resolve("cat")).resolve("a.png"), HostilePng.flat(2, 2, null, null));
        Files.write(Files.createDirectories(dir.resolve("god\u202E")).resolve("a.png"),
                HostilePng.flat(2, 2, null, null));
        assertEquals(dir + ": class folder: class name 'god\\u202E' holds U+202E, a bidirectional control "
                + "character", assertThrows(DataFormatException.class, () -> ImageFolder.read(dir)).getMessage());
    }

    private Path write(String content) throws IOException {
        Path p = dir.resolve("d.csv");
        Files.write(p, content.getBytes(StandardCharsets.UTF_8));
        return p;
    }

    private static String escapes(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(String.format("\\u%04X", (int) c));
        }
        return b.toString();
    }
}
