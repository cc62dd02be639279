package dev.backprop.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * File names that would move a terminal's cursor (an escape sequence) or reorder the line (a right-to-left override)
 * are printed escaped by every command that names its files, as {@link dev.backprop.data.DataFormatException#oneLine}
 * escapes them in errors. {@code train}'s lines: {@link HostileNamesTrainTest}.
 */
class HostileNamesOutputTest {
    /** What a name holds, and how it is printed. */
    static final String HOSTILE = "\u001b[2J\u202e";
    static final String ESCAPED = "\\u001B[2J\\u202E";

    @TempDir
    Path dir;
    private Path model;
    private Path csv;

    @BeforeEach
    void trainUnderHostileNames() throws IOException {
        Path plainCsv = ThreeClassCsv.write(dir);
        Path plainModel = dir.resolve("m.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", plainCsv.toString(), "--layers", "4-8-3", "--epochs", "1",
                "--out", plainModel.toString()).ok();
        csv = Files.move(plainCsv, dir.resolve("d" + HOSTILE + ".csv"));
        model = Files.move(plainModel, dir.resolve("m" + HOSTILE + ".safetensors"));
    }

    /** Fails unless {@code r} succeeded, printed no raw ESC or U+202E, and printed {@code name} escaped. */
    static void printedEscaped(CliRun r, String name) {
        r.ok();
        assertFalse(r.out().contains("\u001b") || r.out().contains("\u202e"), r.out());
        assertTrue(r.out().contains(name.replace(HOSTILE, ESCAPED)), r.out());
    }

    @Test
    void evalPrintsTheModelAndDataNamesEscaped() {
        CliRun r = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString());
        printedEscaped(r, "model:   " + model);
        printedEscaped(r, csv.toString());
        printedEscaped(r, "eval: model=" + model + " task=");
    }

    @Test
    void predictPrintsTheModelAndDataNamesEscaped() throws IOException {
        printedEscaped(CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--csv",
                csv.toString(), "--index", "0"), csv.toString());
        Path rows = Files.writeString(dir.resolve("rows" + HOSTILE + ".csv"), "0.1,0.2,0.3,0.4\n");
        CliRun r = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--rows", rows.toString());
        printedEscaped(r, "model:   " + model);
        printedEscaped(r, "data:    " + rows + ": 1 row(s)");
    }

    @Test
    void exportPrintsBothNamesEscaped() {
        Path onnx = dir.resolve("o" + HOSTILE + ".onnx");
        CliRun r = CliRun.of("export", "--backend", "cpu", "--model", model.toString(), "--onnx", onnx.toString());
        printedEscaped(r, "wrote " + onnx + ": ONNX opset");
    }
}
