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

/**
 * The one rule for class names ({@link Dataset#classNameProblem}) and the one escaping of untrusted text
 * ({@link DataFormatException#oneLine}): what a terminal acts on rather than shows (controls, bidirectional and other
 * format characters, line and paragraph separators, unpaired surrogates) is refused in a name and escaped in a message,
 * at every reader that takes class names from outside.
 */
class ClassNameTest {
    @TempDir
    Path dir;

    /** Line and paragraph separators, bidirectional embeddings, overrides, isolates and marks, and other Cf. */
    @ParameterizedTest
    @ValueSource(ints = {0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
            0x2069, 0x200E, 0x200F, 0x061C, 0x200B, 0x00AD, 0xFEFF, 0x001B, 0x0085, 0xD800, 0xDC00, 0xE0001})
    void everyCodePointATerminalActsOnIsRefusedAndEscaped(int cp) {
        String name = "cat" + new String(Character.toChars(cp)) + "x";
        String escaped = escapes(name.substring(3, name.length() - 1));
        String problem = Dataset.classNameProblem(name);
        assertEquals("class name 'cat" + escaped + "x' holds " + String.format("U+%04X", cp) + ", "
                + DataFormatException.unprintableKind(cp), problem);
        assertEquals("cat" + escaped + "x", DataFormatException.oneLine(name));
    }

    @Test
    void namesInAnyScriptArePrintable() {
        for (String name : List.of("cat", "Katze mit Hut", "猫", "قطة", "кошка", "🐈", "a\u0301", "\u00e9")) {
            assertNull(Dataset.classNameProblem(name), name);
            assertEquals(name, DataFormatException.oneLine(name));
        }
        assertEquals("class name 'dog\\u202Egnp.exe' holds U+202E, a format character (bidirectional or invisible)",
                Dataset.classNameProblem("dog\u202Egnp.exe"));
        assertEquals("class name 'a\\u2028b' holds U+2028, a line or paragraph separator",
                Dataset.classNameProblem("a\u2028b"));
        assertEquals("class name 'a\\uD800' holds U+D800, an unpaired surrogate", Dataset.classNameProblem("a\uD800"));
    }

    @Test
    void aDataSetRefusesTheName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dataset.classification(
                new float[2], new int[] {1}, new int[] {0, 1}, 2, List.of("cat", "d\u2066og")));
        assertEquals("class name 'd\\u2066og' holds U+2066, a format character (bidirectional or invisible)",
                e.getMessage());
    }

    @Test
    void csvLabelsAndGivenNamesAreRefused() throws IOException {
        Path labels = write("5.1,1.4,setosa\n5.2,1.1,vir\u202Eginica\n");
        assertEquals(labels + ": line 2: label: class name 'vir\\u202Eginica' holds U+202E, a format character "
                + "(bidirectional or invisible)", assertThrows(DataFormatException.class,
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
        assertEquals(dir + ": class folder: class name 'god\\u202E' holds U+202E, a format character (bidirectional "
                + "or invisible)", assertThrows(DataFormatException.class, () -> ImageFolder.read(dir)).getMessage());
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
