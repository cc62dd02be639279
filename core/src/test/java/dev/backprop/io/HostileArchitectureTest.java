package dev.backprop.io;

import dev.backprop.nn.Layer;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.backprop.testing.FileBytes.B;
import static dev.backprop.testing.FileBytes.W;
import static dev.backprop.testing.FileBytes.file;
import static dev.backprop.testing.FileBytes.floats;
import static dev.backprop.testing.FileBytes.quote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Architectures that are valid layer by layer but ask for more than any network Backprop builds: a few megabytes of
 * header naming hundreds of thousands of layers would build them all, then exhaust the heap on the first batch.
 */
class HostileArchitectureTest {
    @TempDir
    Path dir;

    /** The base model's dense(2, 3) followed by {@code relus} ReLU layers, in one sequential. */
    private Path denseThenRelus(int relus) throws IOException {
        String arch = "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,\"bias\":1}"
                + ",{\"type\":\"relu\"}".repeat(relus) + "]}";
        Path p = dir.resolve("deep.safetensors");
        Files.write(p, file("{\"__metadata__\":{\"format\":\"pt\",\"backprop.version\":\"1\","
                + "\"backprop.architecture\":" + quote(arch) + "}," + W + "," + B + "}",
                floats(1, 2, 3, 4, 5, 6, 7, 8, 9)));
        return p;
    }

    @Test
    void moreLayersThanAnyNetworkBackpropBuildsAreRefusedBeforeBuildingOne() throws IOException {
        Path p = denseThenRelus(300_000);
        try (ReferenceBackend be = new ReferenceBackend()) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(p, be).close());
            assertEquals(p + ": architecture metadata: 300002 layers; Backprop reads at most 10000", e.getMessage());
            assertEquals(0, be.memoryStats().liveBuffers());
        }
    }

    @Test
    void theLayerLimitCountsTheContainerAndLetsTheLargestAllowedNetworkLoad() throws IOException {
        try (ReferenceBackend be = new ReferenceBackend()) {
            try (Layer l = ModelFile.load(denseThenRelus(ArchitectureJson.MAX_LAYERS - 2), be)) {
                assertEquals(2, l.parameters().size());
            }
            Path past = denseThenRelus(ArchitectureJson.MAX_LAYERS - 1);
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(past, be).close());
            assertEquals(past + ": architecture metadata: 10001 layers; Backprop reads at most 10000", e.getMessage());
        }
    }
}
