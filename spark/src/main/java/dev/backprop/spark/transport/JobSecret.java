package dev.backprop.spark.transport;

import java.io.Serial;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;

/**
 * The key the ranks of one training job prove to each other that they hold, and the job's (public) id. Every
 * connection's handshake and frames are authenticated with keys derived from it; it never crosses a rank
 * connection. Make one per job: {@link #random()} on the driver (then it reaches the ranks inside the task, over
 * Spark's own RPC), or {@link #derive} from a secret the ranks already share (Spark's {@code spark.authenticate}
 * secret) and a job id made on the driver. {@link #toString()} never shows the key.
 */
public final class JobSecret implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    /** Bytes of a job id. */
    public static final int JOB_ID_BYTES = 16;

    private final byte[] key;
    private final byte[] jobId;
    private final String source;

    private JobSecret(byte[] key, byte[] jobId, String source) {
        this.key = key;
        this.jobId = jobId;
        this.source = source;
    }

    /** A fresh 256-bit key and job id from a {@link java.security.SecureRandom}. */
    public static JobSecret random() {
        return new JobSecret(Crypto.random(Crypto.KEY_BYTES), newJobId(), "a random secret made for this job");
    }

    /** A fresh random job id (public: it names the job, it does not protect it). */
    public static byte[] newJobId() {
        return Crypto.random(JOB_ID_BYTES);
    }

    /**
     * This job's key derived from {@code shared}, a secret every rank already holds: the same {@code shared} and
     * {@code jobId} give the same key on every rank, another job id an unrelated one.
     *
     * @param source where {@code shared} came from, for messages (e.g. {@code spark.authenticate})
     * @throws IllegalArgumentException for an empty secret or a job id of the wrong length
     */
    public static JobSecret derive(String shared, byte[] jobId, String source) {
        if (shared == null || shared.isEmpty()) {
            throw new IllegalArgumentException("the shared secret from " + source + " is empty");
        }
        if (jobId.length != JOB_ID_BYTES) {
            throw new IllegalArgumentException("a job id has " + JOB_ID_BYTES + " bytes, got " + jobId.length);
        }
        byte[] key = Crypto.derive(shared.getBytes(StandardCharsets.UTF_8), "backprop-spark rank transport job key",
                jobId);
        return new JobSecret(key, jobId.clone(), "derived from " + source);
    }

    byte[] key() {
        return key;
    }

    byte[] jobId() {
        return jobId;
    }

    /**
     * Where the key came from and the start of the job id, e.g. {@code derived from spark.authenticate, job 3fa2c1d0}.
     */
    public String describe() {
        return source + ", job " + Crypto.hex(jobId, 4);
    }

    @Override
    public String toString() {
        return "JobSecret[" + describe() + "]";
    }
}
