package dev.backprop.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static dev.backprop.cli.HostileNamesOutputTest.ESCAPED;
import static dev.backprop.cli.HostileNamesOutputTest.HOSTILE;
import static dev.backprop.cli.HostileNamesOutputTest.printedEscaped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train} prints every file it reads or writes escaped when the names hold an escape sequence and a
 * right-to-left override: the data, the model it resumes or starts from, the model, checkpoint and plot it saves,
 * on Spark the master, the data and the model; {@code predict --json} keeps the real names, as valid JSON.
 */
class HostileNamesTrainTest {
    @TempDir
    Path temp;
    /** A directory whose own name is hostile, so every path under it is. */
    private Path dir;

    @BeforeEach
    void hostileDirectory() throws IOException {
        dir = Files.createDirectory(temp.resolve("run" + HOSTILE));
    }

    @Test
    void trainFromACsvPrintsTheDataModelCheckpointAndPlotEscaped() throws IOException {
        Path csv = ThreeClassCsv.write(dir.resolve("d" + HOSTILE + ".csv"), 300);
        Path model = dir.resolve("m.safetensors");
        Path checkpoint = dir.resolve("c.safetensors");
        Path plot = dir.resolve("p.png");
        CliRun r = CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--layers", "4-8-3", "--epochs",
                "2", "--out", model.toString(), "--checkpoint", checkpoint.toString(), "--plot", plot.toString());
        printedEscaped(r, "data:    CSV " + csv + " (240 train / 60 held-out test rows, seed 0): 240 train");
        printedEscaped(r, "saved:   " + model + " (test_acc ");
        printedEscaped(r, "saved:   checkpoint " + checkpoint + " (resume with --resume " + checkpoint + ")");
        printedEscaped(r, "plot:    " + plot);

        Path resumed = dir.resolve("r.safetensors");
        printedEscaped(CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--resume",
                checkpoint.toString(), "--epochs", "3", "--out", resumed.toString()),
                ", resumed from " + checkpoint + " after epoch 2");
        Path done = dir.resolve("done.safetensors");
        printedEscaped(CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--resume",
                checkpoint.toString(), "--epochs", "2", "--out", done.toString()),
                "saved:   " + done + " (the model of " + checkpoint + ", which had finished epoch 2 of 2");
        Path started = dir.resolve("s.safetensors");
        printedEscaped(CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--init", model.toString(),
                "--epochs", "1", "--out", started.toString()), ", weights from " + model + "\n");
    }

    /** The weights rescued when a checkpoint or --out failed (no run here can make a write fail on cue). */
    @Test
    void theRescuedWeightsLineIsEscaped() {
        StringWriter text = new StringWriter();
        new TrainOutput(new TrainCommand(), new PrintWriter(text)).rescued(dir.resolve("m.safetensors"), 3,
                "the checkpoint");
        CliRun r = new CliRun(0, text.toString(), "");
        printedEscaped(r, "saved:   " + dir.resolve("m.safetensors") + " (the weights after epoch 3; the checkpoint "
                + "failed)\n");
    }

    @Test
    void trainFromImagesPrintsTheFolderEscapedAndPredictJsonKeepsTheRealName() throws IOException {
        Path images = dir.resolve("i" + HOSTILE);
        Random random = new Random(5);
        Path first = null;
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 10; i++) {
                BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
                for (int p = 0; p < 16; p++) {
                    img.getRaster().setSample(p % 4, p / 4, 0, k * 128 + random.nextInt(128));
                }
                Path file = images.resolve("c" + k).resolve(i + HOSTILE + ".png");
                Files.createDirectories(file.getParent());
                assertTrue(ImageIO.write(img, "png", file.toFile()));
                first = first == null ? file : first;
            }
        }
        Path model = dir.resolve("m.safetensors");
        CliRun r = CliRun.of("train", "--backend", "cpu", "--images", images.toString(), "--layers", "16-8-2",
                "--epochs", "1", "--out", model.toString());
        printedEscaped(r, "data:    images " + images + " (16 train / 4 held-out test images, seed 0): 16 train");
        printedEscaped(r, "saved:   " + model + " (test_acc ");

        // JSON is for programs, which need the real name: Gson escapes the control character, and the
        // right-to-left override is a legal JSON string character.
        CliRun json = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--json", "--image",
                first.toString()).ok();
        assertFalse(json.out().contains("\u001b"), json.out());
        List<String> lines = json.out().lines().toList();
        assertEquals(1, lines.size(), json.out());
        JsonObject o = JsonParser.parseString(lines.get(0)).getAsJsonObject();
        assertEquals(first.toString(), o.get("file").getAsString());
    }

    /** A master that quotes a hostile name, refused by its form or for the cluster manager it needs. */
    @Test
    void aSparkMasterIsEchoedEscaped() {
        Path model = dir.resolve("m.safetensors");
        CliRun bad = CliRun.of("train", "--spark", "x" + HOSTILE, "--out", model.toString());
        assertEquals(2, bad.code(), bad.err());
        CliRun k8s = CliRun.of("train", "--spark", "k8s://h" + HOSTILE + ":443", "--out", model.toString());
        assertEquals(Main.EXIT_ERROR, k8s.code(), k8s.err());
        assertTrue(bad.err().startsWith("backprop: --spark x" + ESCAPED + ": not a Spark master URL"), bad.err());
        assertTrue(k8s.err().startsWith("backprop: --spark k8s://h" + ESCAPED + ":443 needs Spark's "), k8s.err());
        assertFalse((bad.err() + k8s.err()).contains("\u001b") || (bad.err() + k8s.err()).contains("\u202e"));
    }

    /**
     * {@code train --spark local[2]}: the spark line (its checkpoint directory), the data and the saved model. Spark
     * reads the CSV's path as a file pattern, where "[" opens a character class, so these names reset the terminal
     * (ESC c) instead of clearing it.
     */
    @Test
    void sparkTrainPrintsTheDataCheckpointDirectoryAndModelEscaped() throws IOException {
        String hostile = "\u001bc\u202e";
        Path sparkDir = Files.createDirectory(temp.resolve("spark" + hostile));
        Path csv = ThreeClassCsv.write(sparkDir.resolve("d.csv"), 120);
        Path model = sparkDir.resolve("m.safetensors");
        Path checkpoints = Files.createDirectory(sparkDir.resolve("ck"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = SparkTrainMain.run(new PrintWriter(out), new PrintWriter(err), "local[2]", "--csv",
                csv.toString(), "--ranks", "2", "--layers", "4-8-3", "--epochs", "1", "--batch-size", "20",
                "--checkpoint-dir", checkpoints.toString(), "--out", model.toString());
        String text = new CliRun(code, out.toString(), err.toString()).ok().out();
        assertFalse(text.contains("\u001b") || text.contains("\u202e"), text);
        for (String line : List.of(", checkpoints in " + checkpoints + "\n", "data:    CSV " + csv + "\n",
                "saved:   " + model + "\n", " model=" + model + "\n")) {
            assertTrue(text.contains(line.replace(hostile, "\\u001Bc\\u202E")), text);
        }
    }
}
