package dev.backprop.cli;

import java.util.regex.Pattern;

/**
 * The {@code --spark MASTER} URL, checked before Spark starts: Spark itself takes seconds to start and then fails
 * with a stack trace and "Could not parse Master URL". The forms are those Spark 4 parses ({@code SparkMasterRegex}
 * and the external cluster managers it ships); Spark 4 has no Mesos support.
 */
final class SparkMaster {
    /** The forms, for messages. */
    static final String FORMS = "local, local[N], local[*], local[N,F], local-cluster[N,C,M], spark://HOST:PORT, "
            + "yarn or k8s://HOST:PORT";

    private static final Pattern LOCAL = Pattern.compile("local(\\[([0-9]+|\\*)(\\s*,\\s*[0-9]+)?])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile(
            "local-cluster\\[\\s*[0-9]+\\s*,\\s*[0-9]+\\s*,\\s*[0-9]+\\s*]");
    /** One master or, for standby masters, several: {@code spark://h1:7077,h2:7077}. */
    private static final Pattern STANDALONE = Pattern.compile(
            "spark://[^\\s:,/]+:[0-9]{1,5}(,[^\\s:,/]+:[0-9]{1,5})*");
    private static final Pattern KUBERNETES = Pattern.compile("k8s://\\S+");

    /** The cluster managers Spark loads from separate artifacts: the class each brings, and that artifact. */
    private static final String YARN_CLASS = "org.apache.spark.scheduler.cluster.YarnClusterManager";
    private static final String K8S_CLASS = "org.apache.spark.scheduler.cluster.k8s.KubernetesClusterManager";

    private SparkMaster() {
    }

    /**
     * The problem with {@code master}'s form, or null when Spark parses it.
     */
    static String problem(String master) {
        if (LOCAL.matcher(master).matches() || LOCAL_CLUSTER.matcher(master).matches()
                || STANDALONE.matcher(master).matches() || KUBERNETES.matcher(master).matches()
                || master.equals("yarn")) {
            return null;
        }
        if (master.startsWith("mesos://")) {
            return "Spark 4 has no Mesos support; use " + FORMS;
        }
        if (master.startsWith("spark://")) {
            return "a standalone master is spark://HOST:PORT (e.g. spark://host:7077)";
        }
        return "not a Spark master URL; use " + FORMS;
    }

    /**
     * The problem with running on {@code master} through {@code loader}, or null: {@code yarn} and {@code k8s://}
     * need Spark's YARN or Kubernetes module, which {@code bin/backprop}'s Spark (spark-core) leaves out.
     */
    static String missingClusterManager(String master, ClassLoader loader) {
        String artifact = master.equals("yarn") ? "spark-yarn_2.13" : master.startsWith("k8s://")
                ? "spark-kubernetes_2.13" : null;
        if (artifact == null || present(master.equals("yarn") ? YARN_CLASS : K8S_CLASS, loader)) {
            return null;
        }
        return "--spark " + master + " needs Spark's " + artifact + " on the class path; submit "
                + "dev.backprop.cli.SparkTrainMain with the spark-submit of a Spark installation that has it (see "
                + "spark/README.md)";
    }

    private static boolean present(String className, ClassLoader loader) {
        try {
            Class.forName(className, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
