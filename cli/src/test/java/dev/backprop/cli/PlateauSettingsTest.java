package dev.backprop.cli;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train's {@code --plateau-threshold}, {@code --plateau-threshold-mode}, {@code --plateau-cooldown},
 * {@code --plateau-min-lr} and {@code --plateau-eps}: PyTorch's {@code ReduceLROnPlateau(threshold, threshold_mode,
 * cooldown, min_lr, eps)} on the command line. The scheduler they build follows PyTorch 1.13's over a metric sequence,
 * their defaults build the one the command line built before they existed, a resumed run takes them from its
 * checkpoint, and bad values or values for another schedule are refused before anything is written.
 */
class PlateauSettingsTest {
    @TempDir
    Path dir;
    private Path csv;
    private final ReferenceBackend backend = new ReferenceBackend();

    @BeforeEach
    void writeCsv() throws IOException {
        csv = ThreeClassCsv.write(dir);
    }

    @AfterEach
    void close() {
        backend.close();
    }

    /** The options {@code train} parses from {@code args}, without running it. */
    private static OptimizerOptions parsed(String... args) {
        CommandLine cl = new CommandLine(new Main());
        String[] all = new String[args.length + 1];
        all[0] = "train";
        System.arraycopy(args, 0, all, 1, args.length);
        cl.parseArgs(all);
        TrainCommand cmd = cl.getSubcommands().get("train").getCommand();
        return cmd.optimizerOptions;
    }

    private Sgd sgd(double lr) {
        return new Sgd(Map.of("w", Variable.parameter(Tensor.zeros(backend, DType.FLOAT64, 1))), lr);
    }

    /** The optimizer's rate after each step of the scheduler {@code options} build, watching {@code mode}. */
    private double[] rates(OptimizerOptions options, ReduceLROnPlateau.Mode mode, double... metrics) {
        try (Sgd opt = sgd(options.learningRate())) {
            ReduceLROnPlateau s = options.plateau(opt, mode);
            double[] out = new double[metrics.length];
            for (int i = 0; i < metrics.length; i++) {
                s.step(metrics[i]);
                out[i] = opt.learningRate();
            }
            return out;
        }
    }

    /**
     * The rates PyTorch 1.13 gives, from {@code /usr/bin/python3} (Debian's python3-torch) running, for each case,
     * <pre>
     * opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
     * s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, threshold=0.05,
     *         threshold_mode="abs", cooldown=2, min_lr=0.02, eps=1e-3)
     * for m in metrics: s.step(m); print(repr(opt.param_groups[0]["lr"]))
     * </pre>
     * and the same with {@code mode="max", factor=0.3, patience=0, threshold=0.05, threshold_mode="rel", cooldown=1,
     * min_lr=0, eps=0.004}. The first meets the cooldown (two epochs after each decay uncounted) and ends at min_lr;
     * the second's last decay (0.0027 to 0.00081) lowers the rate by less than eps and is skipped.
     */
    @Test
    void theSettingsBuildPyTorchsScheduler() {
        OptimizerOptions min = parsed("--validation", "0.2", "--schedule", "plateau", "--lr", "0.1", "--gamma", "0.5",
                "--plateau-patience", "1", "--plateau-threshold", "0.05", "--plateau-threshold-mode", "abs",
                "--plateau-cooldown", "2", "--plateau-min-lr", "0.02", "--plateau-eps", "1e-3");
        assertArrayEquals(new double[] {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025,
            0.025, 0.02}, rates(min, ReduceLROnPlateau.Mode.MIN, 1.0, 0.97, 0.9, 0.88, 0.87, 0.86, 0.85, 0.84, 0.7,
                0.69, 0.69, 0.69, 0.69, 0.69, 0.69));

        OptimizerOptions max = parsed("--validation", "0.2", "--monitor", "val_acc", "--schedule", "plateau", "--lr",
                "0.1", "--gamma", "0.3", "--plateau-patience", "0", "--plateau-threshold", "0.05",
                "--plateau-threshold-mode", "REL", "--plateau-cooldown", "1", "--plateau-eps", "0.004");
        assertArrayEquals(new double[] {0.1, 0.1, 0.03, 0.03, 0.03, 0.009, 0.009, 0.0026999999999999997,
            0.0026999999999999997, 0.0026999999999999997}, rates(max, ReduceLROnPlateau.Mode.MAX, 0.5, 0.6, 0.62,
                0.63, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85));
    }

    /** Left out, the settings are PyTorch's defaults, which the command line's scheduler has always had. */
    @Test
    void theDefaultsArePyTorchs() {
        OptimizerOptions o = parsed("--validation", "0.2", "--schedule", "plateau");
        try (Sgd a = sgd(0.1); Sgd b = sgd(0.1)) {
            Map<String, Double> ours = o.plateau(a, ReduceLROnPlateau.Mode.MIN).settings();
            Map<String, Double> core = OptimizerChoice.of("sgd", null, 0, null, "plateau", 1, 0.1)
                    .plateau(b, ReduceLROnPlateau.Mode.MIN, 2).settings();
            assertEquals(core, ours);
            assertEquals(1e-4, ours.get("threshold"));
            assertEquals(0.0, ours.get("threshold_mode"));  // rel
            assertEquals(0.0, ours.get("cooldown"));
            assertEquals(0.0, ours.get("min_lr"));
            assertEquals(1e-8, ours.get("eps"));
        }
    }

    private CliRun train(String... more) {
        return CliRun.train(ThreeClassCsv.adamRun(csv, 16, dir.resolve("model.safetensors")), more);
    }

    @Test
    void aResumedRunTakesTheSettingsFromItsCheckpoint() throws IOException {
        String[] opts = {"--validation", "0.2", "--schedule", "plateau", "--plateau-patience", "0", "--gamma", "0.5",
            "--plateau-threshold", "0.02", "--plateau-threshold-mode", "abs", "--plateau-cooldown", "1",
            "--plateau-min-lr", "0.01", "--plateau-eps", "1e-6"};
        Path straight = dir.resolve("straight.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        CliRun whole = train(with(opts, "--out", straight.toString())).ok();
        assertTrue(whole.out().contains("# lr 0.025 -> 0.0125 after epoch"), "the run decays more than once:\n"
                + whole.out());
        assertFalse(whole.out().contains("-> 0.00625"), "and stops at --plateau-min-lr:\n" + whole.out());
        train(with(opts, "--epochs", "6", "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString())).ok();
        Path resumed = dir.resolve("resumed.safetensors");
        train("--resume", ck.toString(), "--out", resumed.toString()).ok();
        assertArrayEquals(CliRun.tensorBytes(straight), CliRun.tensorBytes(resumed));

        String[][] changed = {
            {"--plateau-threshold", "0.03", "--plateau-threshold 0.03: " + ck + " was trained with "
                + "--plateau-threshold 0.02"},
            {"--plateau-threshold-mode", "rel", "--plateau-threshold-mode rel: " + ck + " was trained with "
                + "--plateau-threshold-mode abs"},
            {"--plateau-cooldown", "2", "--plateau-cooldown 2: " + ck + " was trained with --plateau-cooldown 1"},
            {"--plateau-min-lr", "0", "--plateau-min-lr 0: " + ck + " was trained with --plateau-min-lr 0.01"},
            {"--plateau-eps", "1e-8", "--plateau-eps 1E-8: " + ck + " was trained with --plateau-eps 0.000001"},
        };
        Path never = dir.resolve("never.safetensors");
        for (String[] c : changed) {
            CliRun r = train("--resume", ck.toString(), c[0], c[1], "--out", never.toString());
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertEquals("backprop: " + c[2] + "; leave " + c[0] + " out to resume with it, or start a new run "
                    + "without --resume", r.err().trim());
        }
        // the same values given are taken
        train("--resume", ck.toString(), "--plateau-threshold", "0.02", "--plateau-threshold-mode", "ABS",
                "--plateau-cooldown", "1", "--out", dir.resolve("again.safetensors").toString()).ok();
        assertFalse(Files.exists(never));
    }

    @Test
    void badValuesAreRefusedBeforeAnythingIsWritten() {
        Path out = dir.resolve("never.safetensors");
        String[][] cases = {
            {"--plateau-threshold", "-0.5", "--plateau-threshold must be a finite number >= 0, got -0.5"},
            {"--plateau-threshold", "Infinity", "--plateau-threshold must be a finite number >= 0, got Infinity"},
            {"--plateau-threshold-mode", "relative", "--plateau-threshold-mode must be rel or abs, got 'relative'"},
            {"--plateau-cooldown", "-1", "--plateau-cooldown must be at least 0 epochs, got -1"},
            {"--plateau-min-lr", "-0.001", "--plateau-min-lr must be a finite number >= 0, got -0.001"},
            {"--plateau-min-lr", "NaN", "--plateau-min-lr must be a finite number >= 0, got NaN"},
            {"--plateau-eps", "-1e-8", "--plateau-eps must be a finite number >= 0, got -1E-8"},
        };
        for (String[] c : cases) {
            CliRun r = train("--validation", "0.2", "--schedule", "plateau", c[0], c[1], "--checkpoint",
                    dir.resolve("ck.safetensors").toString(), "--out", out.toString());
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertEquals("backprop: " + c[2], r.err().trim());
            assertEquals("", r.out());
        }
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("ck.safetensors")));
    }

    /** Each setting applies only to the plateau schedule; given with another, it would be ignored. */
    @Test
    void theSettingsAreRefusedWithAnotherSchedule() {
        Path out = dir.resolve("never.safetensors");
        for (String schedule : List.of("none", "step", "cosine")) {
            for (String[] c : new String[][] {{"--plateau-threshold", "0.01"}, {"--plateau-threshold-mode", "abs"},
                {"--plateau-cooldown", "3"}, {"--plateau-min-lr", "0.001"}, {"--plateau-eps", "0.000001"}}) {
                CliRun r = train("--schedule", schedule, c[0], c[1], "--out", out.toString());
                assertEquals("backprop: " + c[0] + " " + c[1] + " applies only to --schedule plateau, and the "
                        + "schedule is " + schedule + ": leave it out or choose its schedule", r.err().trim());
            }
        }
        CliRun spark = train("--plateau-cooldown", "1", "--spark", "local[2]", "--out", out.toString());
        assertTrue(spark.err().contains("--plateau-cooldown 1 applies only to --schedule plateau"), spark.err());
        assertFalse(Files.exists(out));
    }

    private static String[] with(String[] base, String... more) {
        String[] all = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }
}
