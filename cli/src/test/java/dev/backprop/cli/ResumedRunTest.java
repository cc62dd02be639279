package dev.backprop.cli;

import dev.backprop.io.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** What {@code train --resume} refuses of a checkpoint before it reads the data or writes anything. */
class ResumedRunTest {
    @TempDir
    Path dir;

    /**
     * A Spark run's checkpoint (its progress as {@code Snapshots} writes it: ranks and global steps, no epochs) is
     * refused as what it is, not as a checkpoint with invalid epoch counters.
     */
    @Test
    void aSparkRunsCheckpointIsRefusedAsOne() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path ck = dir.resolve("ck.safetensors");
        Map<String, String> opts = ThreeClassCsv.adamRun(csv, 1, dir.resolve("model.safetensors"));
        CliRun.train(opts, "--checkpoint", ck.toString()).ok();
        Path spark = dir.resolve("checkpoint-000000000008.safetensors");
        Files.write(spark, CliRun.withMetadata(ck, Checkpoint.PROGRESS_KEY, "{\"batch_per_rank\":16,\"ranks\":2,"
                + "\"seed\":0,\"step\":8,\"steps_per_epoch\":8,\"sync_every\":0}"));
        Path out = dir.resolve("never.safetensors");
        CliRun r = CliRun.train(opts, "--resume", spark.toString(), "--epochs", "2", "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertEquals("backprop: " + spark + ": a checkpoint of a train --spark run (ranks 2, step 8), which counts "
                + "global steps, not epochs: resume it with train --spark and --checkpoint-dir naming its directory",
                r.err().trim());
        assertFalse(Files.exists(out));
    }
}
