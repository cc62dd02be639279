package dev.backprop.testing;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every line of Java in the repository's modules ({@code MODULE/src/**.java}) is at most {@value #LIMIT} characters
 * (code points, as an editor counts them), the style the code is written to. Core's suite runs in every build, so a
 * longer line fails it, one line per offending source line naming the file, the line and its length.
 */
class SourceLineLengthTest {
    static final int LIMIT = 120;

    @Test
    void everyJavaLineFitsTheLimit() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")) && Files.isDirectory(root.resolve("core/src")),
                "the tests run in core/, under the repository's root; got " + root);
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path src : modules.map(m -> m.resolve("src")).filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> files = Files.walk(src)) {
                    files.filter(f -> f.toString().endsWith(".java") && Files.isRegularFile(f)).sorted()
                            .forEach(sources::add);
                }
            }
        }
        assertTrue(sources.size() > 100, "found the modules' sources: " + sources.size() + " files under " + root);
        List<String> tooLong = new ArrayList<>();
        for (Path f : sources) {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                int length = line.codePointCount(0, line.length());
                if (length > LIMIT) {
                    tooLong.add(root.relativize(f) + ":" + (i + 1) + ": " + length + " characters, over " + LIMIT);
                }
            }
        }
        assertTrue(tooLong.isEmpty(), tooLong.size() + " line(s) of Java over " + LIMIT + " characters; wrap them:"
                + System.lineSeparator() + String.join(System.lineSeparator(), tooLong));
    }
}
