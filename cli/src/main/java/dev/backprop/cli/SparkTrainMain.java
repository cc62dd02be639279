package dev.backprop.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code spark-submit} entry point: {@code backprop train --spark MASTER} with the master spark-submit set
 * ({@code spark.master}), so the options and their parser are the command line's.
 *
 * <pre>
 * spark-submit --class dev.backprop.cli.SparkTrainMain --master spark://host:7077 \
 *     --conf spark.task.cpus=4 backprop.jar --ranks 4 --data /data/fashion-mnist --epochs 5 --out model.safetensors
 * </pre>
 */
public final class SparkTrainMain {
    private SparkTrainMain() {
    }

    /** Runs {@code train --spark} with spark-submit's master; exits with the command's code when it is not 0. */
    public static void main(String[] args) {
        Main.configureLogging();
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = run(out, err, System.getProperty("spark.master"), args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Runs {@code train --spark master args...}.
     *
     * @param master spark-submit's master, or null when not run by spark-submit (a usage error)
     * @return the exit code
     */
    static int run(PrintWriter out, PrintWriter err, String master, String... args) {
        if (master == null || master.isBlank()) {
            err.println("backprop: " + SparkTrainMain.class.getName() + " runs under spark-submit, which sets "
                    + "spark.master; on this machine use backprop train --spark MASTER");
            err.flush();
            return 2;
        }
        List<String> all = new ArrayList<>(List.of("train", "--spark", master));
        all.addAll(List.of(args));
        return Main.execute(out, err, all.toArray(String[]::new));
    }
}
