package dev.backprop.cli;

import dev.backprop.data.DataFormatException;

import java.io.PrintWriter;

/**
 * Runs {@code backprop train --spark MASTER} once Spark is known to be there. {@code backprop.jar} carries the
 * {@code spark} module but not Spark (the cluster brings Spark; its jars would multiply the jar's size), so this
 * class first checks that Spark is on the class path and otherwise says how to get it, before any class that links
 * against Spark is loaded.
 */
final class SparkTraining {
    /** A class every Spark 4 installation has; its absence means Spark is not on the class path. */
    static final String SPARK_PROBE_CLASS = "org.apache.spark.SparkContext";
    /** Spark's own logging (INFO by default, hundreds of lines) cut to what matters for a command-line run. */
    static final String LOG_CONFIG = "classpath:dev/backprop/cli/spark-log4j2.properties";

    /** A run that may throw what the train command reports. */
    @FunctionalInterface
    interface Run {
        void run() throws java.io.IOException;
    }

    private SparkTraining() {
    }

    /**
     * Runs {@code run} when Spark, and the cluster manager {@code master} needs, are on the class path.
     *
     * @return the exit code: 0 success, 1 when Spark or the cluster manager is missing
     * @throws java.io.IOException from the run, which the train command reports
     */
    static int run(PrintWriter err, String master, Run run) throws java.io.IOException {
        ClassLoader loader = SparkTraining.class.getClassLoader();
        String missing = !sparkOnClassPath(loader) ? missingSparkMessage()
                : SparkMaster.missingClusterManager(master, loader);
        if (missing != null) {
            err.println("backprop: " + DataFormatException.oneLine(missing));  // it quotes the master
            err.flush();
            return Main.EXIT_ERROR;
        }
        if (System.getProperty("log4j2.configurationFile") == null
                && System.getProperty("log4j.configurationFile") == null) {
            // Before Spark starts log4j; a configuration given by the user wins.
            System.setProperty("log4j2.configurationFile", LOG_CONFIG);
        }
        run.run();
        return 0;
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
                + "dev.backprop.cli.SparkTrainMain with spark-submit (see spark/README.md).";
    }
}
