package dev.backprop.cli;

import dev.backprop.io.SafeTensorsFile;
import dev.backprop.optim.OptimizerChoice;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README and the build scripts as a user follows them: the regression example makes its own data, the train
 * options table states the defaults the parser has, the options a Spark run refuses, the metadata keys of a model
 * file and the public classes of {@code dev.backprop.io} are all listed, the scripts the docs run are executable,
 * and Maven's log holds no terminal escapes.
 */
class DocumentedCommandsTest {
    static final Path ROOT = Path.of("..");

    @TempDir
    Path dir;

    private static String readme() throws IOException {
        return Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    }

    @Test
    void theRegressionExampleMakesPlaneCsvFirst() throws IOException {
        List<String> lines = readme().lines().toList();
        int train = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("bin/backprop train --task regression --csv plane.csv")) {
                train = i;
            }
        }
        assertTrue(train > 0, "the README trains on plane.csv");
        assertTrue(lines.get(train - 1).matches("bin/plane-csv\\s+#.*"), lines.get(train - 1));
        Path script = ROOT.resolve("bin/plane-csv");
        assertTrue(Files.isExecutable(script), script.toString());
        assertTrue(Files.readString(script).contains("dev.backprop.cli.PlaneCsv \"$@\""));

        Path csv = dir.resolve("plane.csv");
        PlaneCsv.write(csv);
        List<String> rows = Files.readAllLines(csv);
        assertEquals(PlaneCsv.ROWS + 1, rows.size());
        assertEquals("x1,x2,y", rows.get(0));
        for (String row : rows.subList(1, rows.size())) {
            String[] v = row.split(",");
            double a = Double.parseDouble(v[0]);
            double b = Double.parseDouble(v[1]);
            assertEquals(1.5 * a - 2 * b + 0.5 * a * b, Double.parseDouble(v[2]), 5e-6, row);
        }
        Files.writeString(csv, "mine");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> PlaneCsv.write(csv));
        assertEquals(csv + " exists already; remove it or name another file", e.getMessage());
        assertEquals("mine", Files.readString(csv), "an existing file is left as it is");
    }

    /** The optimizer row gives each default as what it is: the learning rate per optimizer, then --momentum's. */
    @Test
    void theTrainOptionsTableStatesTheParsersDefaults() throws IOException {
        String row = readme().lines().filter(l -> l.startsWith("| `--optimizer ")).findFirst().orElseThrow();
        for (String name : List.of("sgd", "momentum", "adam")) {
            String lr = OptimizerChoice.number(OptimizerChoice.of(name, null, 0.9, null, "none", 1, 1)
                    .learningRate());
            assertTrue(row.contains(" " + lr + " for " + name), name + " lr " + lr + " in " + row);
        }
        String momentum = new CommandLine(new Main()).getSubcommands().get("train").getCommandSpec()
                .findOption("--momentum").defaultValue();
        assertTrue(row.contains("`--momentum` " + momentum), row);
        assertFalse(row.contains("(momentum 0.01"), "reads as a momentum of 0.01: " + row);
    }

    /** The README's paragraph on Spark and {@code train --help} name every option a {@code --spark} run refuses. */
    @Test
    void theOptionsSparkRefusesAreListed() throws IOException {
        String text = readme().replaceAll("\\s+", " ");
        int end = text.indexOf("which it refuses by name");
        int start = text.lastIndexOf("(except ", end);
        assertTrue(start > 0 && end > start, "the README lists what train --spark refuses");
        String readmeList = text.substring(start, end);
        String help = String.join(" ", new CommandLine(new Main()).getSubcommands().get("train").getCommandSpec()
                .findOption("--spark").description());
        for (String option : TrainCommand.LOCAL_ONLY) {
            assertTrue(readmeList.contains("`" + option + "`"), option + " missing from the README's " + readmeList);
            assertTrue(Pattern.compile("(?<![\\w-])" + option + "(?![\\w-])").matcher(help).find(),
                    option + " missing from --spark's help: " + help);
        }
    }

    /** Every metadata key {@code train} writes into a model file has its row in the README's table. */
    @Test
    void theMetadataTableNamesEveryKeyTrainWrites() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("binary.safetensors");
        CliRun.of("train", "--backend", "cpu", "--task", "binary", "--positive-class", "1", "--layers", "784-4-1",
                "--train-limit", "256", "--test-limit", "256", "--epochs", "1", "--out", model.toString()).ok();
        List<String> rows = readme().lines().filter(l -> l.startsWith("| `")).toList();
        try (SafeTensorsFile f = SafeTensorsFile.open(model)) {
            assertTrue(f.metadata().containsKey("backprop.input_shape"), f.metadata().toString());
            for (String key : f.metadata().keySet()) {
                assertTrue(rows.stream().anyMatch(r -> r.split(" \\| ")[0].contains("`" + key + "`")),
                        "no README table row for metadata key " + key);
            }
        }
    }

    /**
     * The README's API tiers name each public class of {@code dev.backprop.io} one by one (the package is part
     * supported, part internal), so a public class there must be named in one tier or the other.
     */
    @Test
    void everyPublicIoClassHasItsApiTier() throws IOException {
        String text = readme().replaceAll("\\s+", " ");
        int start = text.indexOf("**What you may rely on.**");
        int end = text.indexOf("## Benchmarks", start);
        assertTrue(start > 0 && end > start, "the README has its API tiers");
        String tiers = text.substring(start, end);
        Path io = ROOT.resolve("core/src/main/java/dev/backprop/io");
        try (var files = Files.list(io)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String name = f.getFileName().toString().replace(".java", "");
                if (Pattern.compile("(?m)^public ").matcher(Files.readString(f)).find()) {
                    assertTrue(tiers.contains("`" + name + "`") || tiers.contains("`io." + name + "`"),
                            "public class dev.backprop.io." + name + " is in no API tier of the README");
                }
            }
        }
    }

    /** A command line in the docs' code blocks that starts with a file of the repository can run as shown. */
    @Test
    void everyScriptTheDocsRunIsExecutable() throws IOException {
        List<Path> docs = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("spark/README.md"),
                ROOT.resolve("onnx/README.md")));
        try (var files = Files.list(ROOT.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).forEach(docs::add);
        }
        int scripts = 0;
        for (Path doc : docs) {
            boolean code = false;
            boolean continued = false;
            for (String line : Files.readAllLines(doc, StandardCharsets.UTF_8)) {
                if (line.strip().startsWith("```")) {
                    code = !code;
                    continued = false;
                    continue;
                }
                String command = line.strip().replaceFirst("^([A-Z_0-9]+=\\S+\\s+)+", "");
                String program = command.split("\\s+")[0];
                if (code && !continued && (program.startsWith("bin/") || program.startsWith("benchmarks/"))) {
                    Path file = ROOT.resolve(program);
                    assertTrue(Files.isRegularFile(file), doc + " runs " + file + ", which is missing");
                    assertTrue(Files.isExecutable(file), doc + " runs " + file + ", which is not executable");
                    scripts++;
                }
                continued = code && line.endsWith("\\");
            }
        }
        assertTrue(scripts >= 20, "the docs' commands were found: " + scripts);
    }

    /** {@code bin/test}'s Maven command writes plain text (Maven 3.8 writes ANSI resets even with colours off). */
    @Test
    void mavenLogsNoTerminalEscapes() throws IOException, InterruptedException {
        Path mvn = null;
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "mvn"))) {
                mvn = Path.of(d, "mvn");
                break;
            }
        }
        Assumptions.assumeTrue(mvn != null, "Maven is not on the PATH");
        Path log = dir.resolve("mvn.log");
        Process p = new ProcessBuilder(mvn.toString(), "-B", "-Dstyle.color=never", "-N", "-o", "validate")
                .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "mvn validate finishes");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("BUILD SUCCESS"), out);
        assertFalse(out.contains("\u001b"), "an escape in:\n" + out.replace("\u001b", "ESC"));
    }
}
