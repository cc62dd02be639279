package dev.backprop.cli;

import dev.backprop.spark.SyncMode;
import dev.backprop.spark.transport.NetworkDelay;
import dev.backprop.spark.transport.TransportOptions;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * The options only {@code train --spark MASTER} takes: the ranks, how they keep their models together, rank 0's
 * checkpoints and the ranks' connections. Every other option of {@code train} means the same with or without
 * {@code --spark}.
 */
final class SparkOptions {
    /** The names of these options, refused without {@code --spark}. */
    static final List<String> NAMES = List.of("--ranks", "--sync", "--checkpoint-dir", "--checkpoint-every", "--port",
            "--io-timeout", "--net-delay");

    @Option(names = "--ranks", paramLabel = "N", description = "--spark: ranks (partitions); default: Spark's default "
            + "parallelism / spark.task.cpus (the task slots). The cluster must run N tasks at once (a local "
            + "master that cannot is refused).")
    Integer ranks;

    @Option(names = "--sync", paramLabel = "MODE", defaultValue = "gradients", description = "--spark: gradients "
            + "(every step; the maths of single-machine training) or parameters:K (average parameters and optimizer "
            + "state every K steps; changes the maths) (default: ${DEFAULT-VALUE}).")
    String sync;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "--spark: checkpoints (rank 0) in this "
            + "directory every executor can reach (hdfs://, s3a://, shared path); a rerun resumes from the newest, "
            + "and one with other ranks, batch size, steps per epoch, seed, --sync or loss settings is refused.")
    String checkpointDir;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "0", description = "--spark: steps "
            + "between checkpoints; 0: every epoch; refused without --checkpoint-dir (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--port", paramLabel = "N", defaultValue = "0", description = "--spark: port the ranks listen "
            + "on: the first free one of N..N+31; 0: any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--io-timeout", paramLabel = "SECONDS", defaultValue = "300", description = "--spark: how long "
            + "a rank waits for a peer in one step before failing (default: ${DEFAULT-VALUE}).")
    long ioTimeout;

    @Option(names = "--net-delay", paramLabel = "LATENCY[,BANDWIDTH]", defaultValue = "none", description = "--spark: "
            + "simulated network delay per message, e.g. 200us,10Gbit (default: ${DEFAULT-VALUE}).")
    String netDelay;

    /** The synchronisation mode. */
    SyncMode syncMode() {
        try {
            return SyncMode.parse(sync);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--sync: " + e.getMessage(), e);
        }
    }

    /** Timeouts and simulated delay of the ranks' connections. */
    TransportOptions transport() {
        if (ioTimeout < 1) {
            throw new IllegalArgumentException("--io-timeout must be at least 1 second, got " + ioTimeout);
        }
        return TransportOptions.defaults().withIoTimeout(Duration.ofSeconds(ioTimeout))
                .withDelay(NetworkDelay.parse(netDelay));
    }

    /**
     * Checks every option that can be checked before Spark starts.
     *
     * @param given whether an option was given on the command line
     */
    void check(Predicate<String> given) {
        if (ranks != null && ranks < 1) {
            throw new IllegalArgumentException("--ranks must be at least 1, got " + ranks);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be >= 0, got " + checkpointEvery);
        }
        if (checkpointDir == null && given.test("--checkpoint-every")) {
            throw new IllegalArgumentException("--checkpoint-every " + checkpointEvery + " applies only to "
                    + "--checkpoint-dir DIR, and there is none: leave it out or give --checkpoint-dir");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        }
        SyncMode sync = syncMode();
        if (checkpointDir != null) {
            try {
                sync.checkCheckpointInterval(checkpointEvery);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--checkpoint-every: " + e.getMessage(), e);
            }
        }
        transport();
    }
}
