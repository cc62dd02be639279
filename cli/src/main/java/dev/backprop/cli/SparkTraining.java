package dev.backprop.cli;

import dev.backprop.spark.SparkTrainMain;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;

/**
 * {@code backprop train --spark MASTER ...}: data-parallel training on Apache Spark, run by the {@code spark}
 * module's {@link SparkTrainMain}, which parses the arguments itself (the train flags where they apply, plus
 * {@code --ranks}, {@code --sync}, {@code --checkpoint-dir}, ...; a train flag with no meaning there is rejected
 * by name).
 *
 * <p>{@code backprop.jar} carries that module but not Spark (the cluster brings Spark; its jars would multiply
 * the jar's size). So this class first checks that Spark is on the class path and otherwise says how to get it,
 * before any class that links against Spark is loaded.
 */
final class SparkTraining {
    /** A class every Spark 4 installation has; its absence means Spark is not on the class path. */
    static final String SPARK_PROBE_CLASS = "org.apache.spark.SparkContext";
    /** Spark's own logging (INFO by default, hundreds of lines) cut to what matters for a command-line run. */
    static final String LOG_CONFIG = "classpath:dev/backprop/cli/spark-log4j2.properties";

    private SparkTraining() {
    }

    /** True when {@code args} (a whole {@code backprop} command line) are a {@code train} run with {@code --spark}. */
    static boolean requested(String... args) {
        if (args.length == 0 || !args[0].equals("train")) {
            return false;
        }
        return Arrays.stream(args).anyMatch(a -> a.equals("--spark") || a.startsWith("--spark="));
    }

    /**
     * Runs {@code trainArgs} (what follows {@code train}) on Spark.
     *
     * @return the exit code: 0 success, 1 a failed run or Spark missing, 2 a usage error
     */
    static int run(PrintWriter out, PrintWriter err, String... trainArgs) {
        if (!sparkOnClassPath(SparkTraining.class.getClassLoader())) {
            err.println("backprop: " + missingSparkMessage());
            err.flush();
            return Main.EXIT_ERROR;
        }
        if (System.getProperty("log4j2.configurationFile") == null
                && System.getProperty("log4j.configurationFile") == null) {
            // Before Spark starts log4j; a configuration given by the user wins.
            System.setProperty("log4j2.configurationFile", LOG_CONFIG);
        }
        try {
            return SparkTrainMain.runTrainArguments(out, err, trainArgs);
        } catch (IllegalArgumentException e) {
            // --spark without a master: a usage error, like picocli's own.
            err.println("backprop: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    /** What follows {@code train} in a whole command line as picocli received it. */
    static String[] trainArguments(List<String> originalArgs) {
        int i = originalArgs.indexOf("train");
        return originalArgs.subList(i + 1, originalArgs.size()).toArray(String[]::new);
    }

    /** True when {@value #SPARK_PROBE_CLASS} can be loaded through {@code loader}. */
    static boolean sparkOnClassPath(ClassLoader loader) {
        try {
            Class.forName(SPARK_PROBE_CLASS, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The error when Spark is missing: what is wrong and the three ways to run with Spark. */
    static String missingSparkMessage() {
        return "--spark needs Apache Spark (spark-core_2.13, Spark 4) on the class path, and backprop.jar leaves it "
                + "out. Start it with bin/backprop (it adds Spark's jars, fetched by Maven the first time), or run "
                + "java -cp backprop.jar:<Spark's jars> dev.backprop.cli.Main train --spark ..., or submit "
                + "dev.backprop.spark.SparkTrainMain with spark-submit --jars backprop.jar (see spark/README.md).";
    }
}
