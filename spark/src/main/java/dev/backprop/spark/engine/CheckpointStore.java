package dev.backprop.spark.engine;

import java.io.IOException;
import java.util.Optional;

/**
 * Where rank 0 keeps checkpoints so that a rerun (on whichever executor Spark picks) finds them: storage every
 * executor can read, such as HDFS, S3 or a shared file system.
 */
public interface CheckpointStore {
    /**
     * The newest complete checkpoint, if any.
     *
     * @param step      the global step it was written after
     * @param bytes     the checkpoint file's bytes (a Backprop checkpoint in the safetensors format)
     * @param location  where it is, for messages
     */
    record Stored(long step, byte[] bytes, String location) {
    }

    /** The newest complete checkpoint, or empty when none has been written. */
    Optional<Stored> latest() throws IOException;

    /** Stores a checkpoint written after global step {@code step}, atomically (readers never see part of it). */
    void save(long step, byte[] bytes) throws IOException;

    /** Where the checkpoints go, for messages. */
    String describe();
}
