package dev.backprop.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.backend.DType;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Sgd;
import dev.backprop.optim.StepLR;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.testing.FileBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.backprop.testing.Blobs.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A trainer's checkpoint whose counters disagree with each other is refused before anything changes. */
class TrainerCheckpointTest {
    private final ReferenceBackend backend = new ReferenceBackend();
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private Sequential net(long seed) {
        return Sequential.builder(backend, DType.FLOAT32).seed(seed).dense(2, 5).relu().dense(5, 3).build();
    }

    private static Trainer trainer(Sequential m, Sgd opt) {
        return Trainer.builder(m, new SoftmaxCrossEntropy(), opt).schedule(new StepLR(opt, 5, 0.5)).batchSize(8)
                .seed(3).build();
    }

    /**
     * A schedule epoch other than the epochs done: with step size 5 the rate after epoch 1 and after epoch 2 is the
     * same 0.2, so only the counters tell, and resuming would lower the rate an epoch before the uninterrupted run.
     */
    @Test
    void aScheduleEpochOtherThanTheEpochsDoneIsRefusedAndChangesNothing() throws IOException {
        Path ckpt = dir.resolve("ckpt.safetensors"), tampered = dir.resolve("tampered.safetensors");
        try (Sequential a = net(1); Sgd oa = new Sgd(a.parameters(), 0.2);
             Sequential c = net(2); Sgd oc = new Sgd(c.parameters(), 0.2)) {
            Trainer first = trainer(a, oa);
            first.fit(blobs(16, 2), null, 1, null);
            first.saveCheckpoint(ckpt);
            String schedule;
            try (SafeTensorsFile f = SafeTensorsFile.open(ckpt)) {
                schedule = f.metadata().get(Checkpoint.SCHEDULE_KEY);
            }
            JsonObject s = JsonParser.parseString(schedule).getAsJsonObject();
            assertEquals(1, s.get("epoch").getAsInt(), schedule);
            s.addProperty("epoch", 2);
            Files.write(tampered, withMetadata(Files.readAllBytes(ckpt), Checkpoint.SCHEDULE_KEY, s.toString()));
            Trainer fresh = trainer(c, oc);
            float[] before = c.parameters().values().iterator().next().value().toFloatArray();
            String m = assertThrows(ModelFileException.class, () -> fresh.restoreCheckpoint(tampered)).getMessage();
            assertTrue(m.endsWith("tampered.safetensors: the schedule's epoch 2 is not the 1 epochs done that the "
                    + "progress counters record"), m);
            assertEquals(0, fresh.epoch());
            assertEquals(0, fresh.schedule().epoch());
            assertEquals(0, oc.stepCount());
            assertEquals(0.2, oc.learningRate());
            assertArrayEquals(before, c.parameters().values().iterator().next().value().toFloatArray());
        }
    }

    private static byte[] withMetadata(byte[] file, String key, String value) {
        int n = (int) ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h = JsonParser.parseString(new String(file, 8, n, StandardCharsets.UTF_8).trim())
                .getAsJsonObject();
        h.getAsJsonObject("__metadata__").addProperty(key, value);
        return FileBytes.file(h.toString(), Arrays.copyOfRange(file, 8 + n, file.length));
    }
}
