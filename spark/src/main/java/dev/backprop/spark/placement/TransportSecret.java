package dev.backprop.spark.placement;

import dev.backprop.spark.transport.JobSecret;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

import java.io.Serial;
import java.io.Serializable;

/**
 * How the ranks of one job obtain the {@link JobSecret} their connections authenticate with. Made on the driver
 * for each job and carried to the ranks in the barrier stage's task. With {@code spark.authenticate} on, it carries
 * only a fresh job id, and each rank derives the job's key from Spark's own secret, which its executor already
 * holds: nothing secret travels with the task. Otherwise the driver makes a random 256-bit secret for the job and
 * the task carries it, so it is as well protected as Spark's RPC between driver and executors (encrypted with
 * {@code spark.network.crypto.enabled}; without {@code spark.authenticate}, whoever can reach Spark's ports can
 * run code on the executors anyway).
 */
public final class TransportSecret implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final String SPARK_AUTHENTICATE = "spark.authenticate";

    private final byte[] jobId;
    private final JobSecret carried;

    private TransportSecret(byte[] jobId, JobSecret carried) {
        this.jobId = jobId;
        this.carried = carried;
    }

    /**
     * A new job's secret, on the driver: derived from Spark's when {@code conf} has {@code spark.authenticate}
     * on (checked here, so that a missing Spark secret fails before the stage), else a random one.
     *
     * @throws IllegalArgumentException when {@code spark.authenticate} is on and Spark has no secret
     */
    public static TransportSecret forJob(SparkConf conf) {
        if (conf.getBoolean(SPARK_AUTHENTICATE, false)) {
            sparkSecret();
            return new TransportSecret(JobSecret.newJobId(), null);
        }
        return new TransportSecret(null, JobSecret.random());
    }

    /** Whether the ranks derive the secret from Spark's {@code spark.authenticate} secret. */
    public boolean fromSpark() {
        return carried == null;
    }

    /**
     * The job's secret, on a rank: the carried one, or the one derived from this executor's Spark secret (the same
     * on every executor of the application).
     */
    public JobSecret resolve() {
        return carried != null ? carried : JobSecret.derive(sparkSecret(), jobId, SPARK_AUTHENTICATE);
    }

    private static String sparkSecret() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            throw new IllegalStateException(SPARK_AUTHENTICATE + " is on, but this JVM runs no Spark driver or "
                    + "executor to take the secret from");
        }
        return env.securityManager().getSecretKey();
    }

    @Override
    public String toString() {
        return fromSpark() ? "TransportSecret[derived from " + SPARK_AUTHENTICATE + "]" : "TransportSecret[" + carried
                + "]";
    }
}
