package dev.backprop.testing;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every line of Java in the repository (every module's sources and the scripts', such as {@code .ci/*.java}) is at
 * most {@value #LIMIT} characters (code points, as an editor counts them), the style the code is written to. The
 * check reads the whole tree, so it lives in the module every build runs first: core's suite runs in every build and
 * on both JDKs in CI, so a longer line anywhere fails it, one line per offending source line naming the file, the
 * line and its length. The repository's root is found by walking up from the working directory to the parent pom
 * that lists {@code core} as a module, so the check runs from a module's directory, the root, or an unpacked source
 * tree alike; outside the repository (core's sources alone) it is skipped, saying why.
 */
class SourceLineLengthTest {
    static final int LIMIT = 120;

    @Test
    void everyJavaLineFitsTheLimit() throws IOException {
        Path start = Path.of("").toAbsolutePath();
        Path root = repositoryRoot(start);
        Assumptions.assumeTrue(root != null, "not inside the Backprop repository: no pom.xml listing <module>core"
                + "</module> in " + start + " or above it, so there are no other modules' sources to check");
        List<Path> sources = javaSources(root);
        assertTrue(sources.size() > 100, "found the modules' sources: " + sources.size() + " files under " + root);
        List<String> tooLong = tooLong(root, sources);
        assertTrue(tooLong.isEmpty(), tooLong.size() + " line(s) of Java over " + LIMIT + " characters; wrap them:"
                + System.lineSeparator() + String.join(System.lineSeparator(), tooLong));
    }

    @Test
    void findsTheRootFromAnyDirectoryBelowIt(@TempDir Path dir) throws IOException {
        Path root = fakeRepository(dir);
        assertEquals(root, repositoryRoot(root));
        assertEquals(root, repositoryRoot(root.resolve("core")));
        assertEquals(root, repositoryRoot(root.resolve("examples/src/main/java")));
        // core on its own (its pom names no modules): not the repository
        assertNull(repositoryRoot(dir.resolve("alone")));
    }

    @Test
    void checksEveryModuleAndTheScriptsButNotBuildOutput(@TempDir Path dir) throws IOException {
        Path root = fakeRepository(dir);
        String longLine = "class A { String s = \"" + "x".repeat(LIMIT) + "\"; }";
        write(root.resolve("examples/src/main/java/Ex.java"), "class Ex {}\n" + longLine + "\n");
        write(root.resolve("spark/src/bench/java/Bench.java"), longLine + "\n");
        write(root.resolve(".ci/Report.java"), longLine + "\n");
        write(root.resolve("core/target/generated-sources/Gen.java"), longLine + "\n");
        // 120 code points, some outside the BMP (two chars each), is not over the limit
        write(root.resolve("core/src/main/java/Fits.java"), "//" + "\uD835\uDC31".repeat(LIMIT - 2) + "\n");
        int n = longLine.codePointCount(0, longLine.length());
        assertEquals(List.of(
                        ".ci/Report.java:1: " + n + " characters, over " + LIMIT,
                        "examples/src/main/java/Ex.java:2: " + n + " characters, over " + LIMIT,
                        "spark/src/bench/java/Bench.java:1: " + n + " characters, over " + LIMIT),
                tooLong(root, javaSources(root)));
    }

    /** The nearest directory at or above {@code dir} whose pom.xml lists core as a module, or null. */
    static Path repositoryRoot(Path dir) throws IOException {
        for (Path d = dir.toAbsolutePath().normalize(); d != null; d = d.getParent()) {
            Path pom = d.resolve("pom.xml");
            if (Files.isRegularFile(pom) && Files.readString(pom, StandardCharsets.UTF_8)
                    .contains("<module>core</module>")) {
                return d;
            }
        }
        return null;
    }

    /** Every .java file under {@code root}, sorted, leaving out build output ({@code target}) and {@code .git}. */
    static List<Path> javaSources(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".java") && Files.isRegularFile(f))
                    .filter(f -> {
                        for (Path part : root.relativize(f)) {
                            if (part.toString().equals("target") || part.toString().equals(".git")) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .sorted().toList();
        }
    }

    /** One line per line over the limit: the file relative to {@code root}, the line number and its length. */
    static List<String> tooLong(Path root, List<Path> sources) throws IOException {
        List<String> tooLong = new ArrayList<>();
        for (Path f : sources) {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                int length = line.codePointCount(0, line.length());
                if (length > LIMIT) {
                    tooLong.add(root.relativize(f).toString().replace('\\', '/') + ":" + (i + 1) + ": " + length
                            + " characters, over " + LIMIT);
                }
            }
        }
        return tooLong;
    }

    private static Path fakeRepository(Path dir) throws IOException {
        Path root = dir.resolve("repo");
        write(root.resolve("pom.xml"), "<project><modules><module>core</module><module>examples</module>"
                + "</modules></project>\n");
        write(root.resolve("core/pom.xml"), "<project><artifactId>backprop-core</artifactId></project>\n");
        write(root.resolve("examples/src/main/java/.keep"), "");
        write(dir.resolve("alone/pom.xml"), "<project><artifactId>backprop-core</artifactId></project>\n");
        return root;
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
