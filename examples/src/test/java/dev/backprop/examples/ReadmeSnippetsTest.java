package dev.backprop.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every Java snippet in the project's README is taken from an example here, which the build compiles and runs: its
 * code appears verbatim (indented as a block) in one example file, and its imports are that file's imports for
 * every class the code names, so a reader who copies a snippet has all it needs. Every example is linked from the
 * README.
 */
class ReadmeSnippetsTest {
    private static final Path MODULE = Path.of("").toAbsolutePath();
    private static final Path README = MODULE.getParent().resolve("README.md");
    private static final Path SOURCES = MODULE.resolve("src/main/java/dev/backprop/examples");

    @Test
    void everyJavaSnippetComesFromAnExample() throws IOException {
        Map<String, List<String>> examples = examples();
        List<List<String>> snippets = blocks(Files.readAllLines(README, StandardCharsets.UTF_8), "```java");
        assertFalse(snippets.isEmpty(), "no ```java blocks in " + README);
        for (List<String> snippet : snippets) {
            List<String> problems = new ArrayList<>();
            boolean found = false;
            for (Map.Entry<String, List<String>> e : examples.entrySet()) {
                String problem = mismatch(snippet, e.getValue());
                if (problem == null) {
                    found = true;
                    break;
                }
                problems.add(e.getKey() + ": " + problem);
            }
            if (!found) {
                fail("README snippet not taken verbatim from an example:\n" + String.join("\n", snippet)
                        + "\n\n" + String.join("\n", problems));
            }
        }
    }

    @Test
    void everyExampleIsLinkedFromTheReadme() throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        for (String name : examples().keySet()) {
            assertTrue(readme.contains("(examples/src/main/java/dev/backprop/examples/" + name + ")"),
                    name + " is not linked from the README");
        }
    }

    @Test
    void theDependencyBlocksNameThisVersion() throws IOException {
        String version = System.getProperty("backprop.version");
        assertNotNull(version, "Surefire passes the project's version");
        List<String> readme = Files.readAllLines(README, StandardCharsets.UTF_8);
        List<String> versions = blocks(readme, "```xml").stream().flatMap(List::stream)
                .filter(l -> l.trim().startsWith("<version>")).map(String::trim).toList();
        assertFalse(versions.isEmpty(), "no <version> in the README's ```xml blocks");
        for (String v : versions) {
            assertEquals("<version>" + version + "</version>", v);
        }
    }

    @Test
    void theCheckRefusesAnEditedSnippetAndAMissingImport() {
        List<String> file = List.of("import a.b.Foo;", "import a.b.Bar;", "", "class X {", "    void m() {",
                "        Foo f = new Foo();", "", "        f.run();", "    }", "}");
        assertNull(mismatch(List.of("import a.b.Foo;", "", "Foo f = new Foo();", "", "f.run();"), file));
        assertNotNull(mismatch(List.of("Foo f = new Foo();", "", "f.run();"), file));
        assertNotNull(mismatch(List.of("import a.b.Foo;", "", "Foo f = new Foo();", "", "f.stop();"), file));
        assertNotNull(mismatch(List.of("import a.b.Baz;", "", "Foo f = new Foo();"), file));
    }

    private static Map<String, List<String>> examples() throws IOException {
        Map<String, List<String>> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                out.put(p.getFileName().toString(), Files.readAllLines(p, StandardCharsets.UTF_8));
            }
        }
        assertFalse(out.isEmpty(), "no examples in " + SOURCES);
        return out;
    }

    /** The contents of the README's blocks that open with {@code fence} ({@code ```java}). */
    static List<List<String>> blocks(List<String> readme, String fence) {
        List<List<String>> out = new ArrayList<>();
        List<String> current = null;
        for (String line : readme) {
            if (current == null && line.equals(fence)) {
                current = new ArrayList<>();
            } else if (current != null && line.equals("```")) {
                out.add(current);
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        return out;
    }

    /** Null when {@code snippet} is taken from {@code file}; else what differs. */
    static String mismatch(List<String> snippet, List<String> file) {
        List<String> imports = snippet.stream().filter(l -> l.startsWith("import ")).toList();
        List<String> code = new ArrayList<>(snippet.stream().filter(l -> !l.startsWith("import ")).toList());
        while (!code.isEmpty() && code.get(0).isBlank()) {
            code.remove(0);
        }
        if (code.isEmpty()) {
            return "the snippet has no code";
        }
        for (String i : imports) {
            if (!file.contains(i)) {
                return "the file lacks '" + i + "'";
            }
        }
        String joined = String.join("\n", code);
        for (String i : file.stream().filter(l -> l.startsWith("import ")).toList()) {
            if (!imports.contains(i)) {
                String simple = i.substring(i.lastIndexOf('.') + 1, i.length() - 1);
                if (Pattern.compile("\\b" + Pattern.quote(simple) + "\\b").matcher(joined).find()) {
                    return "the code names " + simple + " but the snippet lacks '" + i + "'";
                }
            }
        }
        for (int start = 0; start + code.size() <= file.size(); start++) {
            String first = file.get(start);
            if (!first.endsWith(code.get(0)) || !first.substring(0, first.length() - code.get(0).length()).isBlank()) {
                continue;
            }
            String indent = first.substring(0, first.length() - code.get(0).length());
            boolean all = true;
            for (int k = 1; k < code.size() && all; k++) {
                String want = code.get(k).isEmpty() ? "" : indent + code.get(k);
                all = file.get(start + k).equals(want);
            }
            if (all) {
                return null;
            }
        }
        return "no block of its " + code.size() + " code lines, starting '" + code.get(0).trim() + "'";
    }
}
