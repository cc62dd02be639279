package dev.backprop.cli;

import dev.backprop.io.SwapAfterOpen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code --resume} checkpoint replaced while the run starts (another run writing the path): the run takes its
 * settings, its network and task, and the state it restores from the one file it opened, never the settings of one
 * file and the state of the other.
 */
class ResumeSnapshotTest {
    @TempDir
    Path dir;

    @Test
    void aResumeRestoresTheFileItOpenedWhenAnotherReplacesItMeanwhile() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path first = dir.resolve("first.safetensors");
        Path second = dir.resolve("second.safetensors");
        train(null, csv, "--epochs", "1", "--checkpoint", first.toString(), "--out", p("a.safetensors")).ok();
        train(null, csv, "--epochs", "2", "--checkpoint", second.toString(), "--out", p("b.safetensors")).ok();
        SwapAfterOpen swap = SwapAfterOpen.of(first, second);
        CliRun r = train(swap, csv, "--epochs", "3", "--resume", "SWAP", "--out", p("resumed.safetensors")).ok();
        assertTrue(r.out().contains("resumed from " + first + " after epoch 1"), r.out());
        assertEquals(1, swap.opens(), "the settings, the network and the state come from one open file");
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    /** Runs train on {@code csv}; the path {@code SWAP} stands for {@code swap}'s. */
    private static CliRun train(SwapAfterOpen swap, Path csv, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--backend", "cpu", "--csv", csv.toString(),
                "--layers", "4-8-3", "--batch-size", "16"));
        args.addAll(List.of(more));
        CommandLine cl = Main.commandLine(new Main());
        cl.registerConverter(Path.class, s -> s.equals("SWAP") ? swap.path() : Path.of(s));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args.toArray(String[]::new));
        out.flush();
        return new CliRun(code, out.toString(), err.toString());
    }
}
