package dev.backprop.cli;

import java.util.regex.Matcher;
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
            "local-cluster\\[\\s*([0-9]+)\\s*,\\s*([0-9]+)\\s*,\\s*[0-9]+\\s*]");
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
     * Whether {@code master} (a form {@link #problem} accepts) runs its executors on this machine: {@code local}
     * threads or a {@code local-cluster}'s processes, whose ranks count this machine's processors.
     */
    static boolean onThisMachine(String master) {
        return LOCAL.matcher(master).matches() || LOCAL_CLUSTER.matcher(master).matches();
    }

    /**
     * Whether {@code master} (a form {@link #problem} accepts) runs its ranks as threads of this JVM ({@code local},
     * {@code local[N]}, {@code local[*]}, {@code local[N,F]}), which open their backends from this class path. The
     * executors of a {@code local-cluster} or a cluster have class paths of their own
     * ({@code spark.executor.extraClassPath}, a Spark installation's jars).
     */
    static boolean inThisJvm(String master) {
        return LOCAL.matcher(master).matches();
    }

    /**
     * The tasks {@code master} runs at once when it is one {@link #onThisMachine}, else -1 (a cluster's executors
     * are known once they register): {@code local[N]}'s N threads ({@code local[*]}: this machine's processors), or
     * a {@code local-cluster[N,C,M]}'s N workers of C cores, each task taking {@code taskCpus} of them, as Spark
     * counts them.
     */
    static int taskSlots(String master, int taskCpus) {
        if (taskCpus < 1) {
            return -1;  // Spark refuses the setting itself
        }
        try {
            Matcher local = LOCAL.matcher(master);
            if (local.matches()) {
                String threads = local.group(2);
                int n = threads == null ? 1 : threads.equals("*") ? Runtime.getRuntime().availableProcessors()
                        : Integer.parseInt(threads);
                return n / taskCpus;
            }
            Matcher cluster = LOCAL_CLUSTER.matcher(master);
            if (cluster.matches()) {
                return Math.multiplyExact(Integer.parseInt(cluster.group(1)), Integer.parseInt(cluster.group(2))
                        / taskCpus);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            return -1;  // beyond an int: Spark's to parse or refuse
        }
        return -1;
    }

    /**
     * Refuses {@code ranks} (null: one per task slot) on a master of this machine that cannot run them all at once,
     * which the ranks' barrier stage needs: Spark would wait for the slots for minutes, then fail.
     *
     * @param taskCpus {@code spark.task.cpus}, the cores each task takes
     * @throws IllegalArgumentException naming the ranks, the master's slots and what to give instead
     */
    static void checkRanks(String master, Integer ranks, int taskCpus) {
        int slots = taskSlots(master, taskCpus);
        if (ranks != null && slots >= 0 && ranks > slots) {
            throw new IllegalArgumentException("--ranks " + ranks + ": the ranks train in one barrier stage, which "
                    + "runs all of them at once, but --spark " + master + " runs " + slots + " task"
                    + (slots == 1 ? "" : "s") + " at once (spark.task.cpus " + taskCpus + "); give --ranks "
                    + Math.max(1, slots) + " or fewer, or a master with more threads, such as local[" + ranks + "]");
        }
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
