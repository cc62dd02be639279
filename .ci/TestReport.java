import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CI's account of one test run (one JDK): reads the Surefire and Failsafe XML reports of every module
 * ({@code MODULE/target/surefire-reports/TEST-*.xml}, {@code MODULE/target/failsafe-reports/TEST-*.xml}) and fails
 * when a test was skipped that {@code .ci/expected-skips} does not list, or when a module ran (passed, failed or
 * errored, not skipped) fewer tests than its floor in {@code .ci/test-floors}, or has no floor.
 *
 * <p>Skips are matched by module, test class and a phrase of the skip's message (JUnit's "Assumption failed: ..."
 * reason), so a listed reason covers every case it skips and nothing else. A class whose {@code @BeforeAll} skips
 * never generates its dynamic tests: its reports list only its {@code @Test} methods, so the cases it holds cannot
 * be counted. Such classes are named ("skipped whole") rather than counted.
 *
 * <p>Usage: {@code java .ci/TestReport.java JDK SUMMARY_FILE} from the repository root; appends
 * "jdk module tests failures errors skipped" lines to SUMMARY_FILE; exit status 1 on any violation.
 */
public final class TestReport {
    private record Expected(String module, String testClass, String phrase, String why) {
    }

    private record Totals(int[] counts, List<String> skippedWhole) {
    }

    public static void main(String[] args) throws Exception {
        String jdk = args[0];
        Path summary = Path.of(args[1]);
        List<Expected> expected = expectedSkips(Path.of(".ci/expected-skips"));
        Map<String, Integer> floors = floors(Path.of(".ci/test-floors"));
        Map<String, Totals> modules = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        Set<Expected> seen = new HashSet<>();
        for (Path report : reports()) {
            String module = report.getName(0).toString();
            Totals t = modules.computeIfAbsent(module, m -> new Totals(new int[4], new ArrayList<>()));
            read(module, report, t, expected, seen, problems);
        }
        Files.writeString(summary, table(jdk, modules, floors, problems), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        for (String module : floors.keySet()) {
            if (!modules.containsKey(module)) {
                problems.add("module " + module + " has a floor but wrote no test reports");
            }
        }
        expected.stream().filter(e -> !seen.contains(e)).forEach(e -> System.out.println("note: no test skipped for "
                + "the listed reason " + e.module() + " | " + e.testClass() + " | " + e.phrase()));
        problems.forEach(p -> System.out.println("FAIL: " + p));
        System.exit(problems.isEmpty() ? 0 : 1);
    }

    /** Adds one report's cases to {@code t}; an unlisted skip is a problem. */
    private static void read(String module, Path report, Totals t, List<Expected> expected, Set<Expected> seen,
                             List<String> problems) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(report.toFile());
        NodeList cases = doc.getElementsByTagName("testcase");
        int skipped = 0;
        for (int i = 0; i < cases.getLength(); i++) {
            Element c = (Element) cases.item(i);
            t.counts()[0]++;
            if (c.getElementsByTagName("failure").getLength() > 0) {
                t.counts()[1]++;
            } else if (c.getElementsByTagName("error").getLength() > 0) {
                t.counts()[2]++;
            } else if (c.getElementsByTagName("skipped").getLength() > 0) {
                t.counts()[3]++;
                skipped++;
                Element s = (Element) c.getElementsByTagName("skipped").item(0);
                String message = s.getAttribute("message") + "\n" + s.getTextContent();
                String testClass = simpleName(c.getAttribute("classname"));
                Expected match = expected.stream().filter(e -> e.module().equals(module)
                        && e.testClass().equals(testClass) && message.contains(e.phrase())).findFirst().orElse(null);
                if (match == null) {
                    problems.add("unexpected skip: " + module + " " + testClass + " " + c.getAttribute("name") + ": "
                            + firstLine(message));
                } else {
                    seen.add(match);
                }
            }
        }
        if (cases.getLength() > 0 && skipped == cases.getLength()) {
            t.skippedWhole().add(simpleName(doc.getDocumentElement().getAttribute("name")));
        }
    }

    /** Prints the per-module table, checks the floors, and returns the summary lines. */
    private static String table(String jdk, Map<String, Totals> modules, Map<String, Integer> floors,
                                List<String> problems) {
        System.out.printf("%-4s %-16s %6s %6s %8s %6s %7s%n", "JDK", "module", "tests", "run", "failures", "errors",
                "skipped");
        StringBuilder rows = new StringBuilder();
        for (Map.Entry<String, Totals> m : modules.entrySet()) {
            int[] c = m.getValue().counts();
            int run = c[0] - c[3];
            System.out.printf("%-4s %-16s %6d %6d %8d %6d %7d%n", jdk, m.getKey(), c[0], run, c[1], c[2], c[3]);
            if (!m.getValue().skippedWhole().isEmpty()) {
                System.out.println("     skipped whole (cases not generated, so not counted): "
                        + String.join(", ", m.getValue().skippedWhole()));
            }
            rows.append(String.join(" ", jdk, m.getKey(), Integer.toString(c[0]), Integer.toString(c[1]),
                    Integer.toString(c[2]), Integer.toString(c[3]))).append('\n');
            Integer floor = floors.get(m.getKey());
            if (floor == null) {
                problems.add("module " + m.getKey() + " has no floor in .ci/test-floors (it ran " + run + " tests)");
            } else if (run < floor) {
                problems.add("module " + m.getKey() + " ran " + run + " tests, fewer than its floor " + floor
                        + " in .ci/test-floors: tests vanished (or lower the floor, saying why)");
            }
        }
        return rows.toString();
    }

    private static List<Path> reports() throws IOException {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> modules = Files.list(Path.of("."))) {
            for (Path m : modules.filter(Files::isDirectory).map(p -> Path.of(".").relativize(p)).sorted().toList()) {
                for (String kind : List.of("surefire-reports", "failsafe-reports")) {
                    Path dir = m.resolve("target").resolve(kind);
                    if (Files.isDirectory(dir)) {
                        try (Stream<Path> files = Files.list(dir)) {
                            files.filter(f -> f.getFileName().toString().matches("TEST-.*\\.xml")).sorted()
                                    .forEach(all::add);
                        }
                    }
                }
            }
        }
        return all;
    }

    /** Lines "module | class | phrase | why"; '#' starts a comment. */
    private static List<Expected> expectedSkips(Path file) {
        List<Expected> list = new ArrayList<>();
        for (String line : lines(file)) {
            String[] f = line.split("\\s*\\|\\s*", 4);
            if (f.length != 4 || f[3].isBlank()) {
                throw new IllegalArgumentException(file + ": expected 'module | class | phrase | why', got: " + line);
            }
            list.add(new Expected(f[0], f[1], f[2], f[3]));
        }
        return list;
    }

    /** Lines "module fewest-tests-run". */
    private static Map<String, Integer> floors(Path file) {
        Map<String, Integer> floors = new TreeMap<>();
        for (String line : lines(file)) {
            String[] f = line.split("\\s+");
            if (f.length != 2 || !f[1].matches("[0-9]+")) {
                throw new IllegalArgumentException(file + ": expected 'module count', got: " + line);
            }
            floors.put(f[0], Integer.parseInt(f[1]));
        }
        return floors;
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static String firstLine(String message) {
        String m = message.strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
