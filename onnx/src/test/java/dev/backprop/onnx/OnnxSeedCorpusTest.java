package dev.backprop.onnx;

import dev.backprop.io.ModelFileException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the ONNX fuzz target's committed seeds meaningful: every {@code valid-*} seed is read (so fuzzing starts
 * from inputs that reach every operator row), every {@code near-*} seed is refused with one line, and every past
 * finding is now read or refused cleanly. {@link OnnxSeedCorpus} rewrites the seeds.
 */
class OnnxSeedCorpusTest {
    static final Path SEEDS = Path.of("src/test/resources/dev/backprop/fuzz/OnnxFuzzTestInputs/onnx");

    @TestFactory
    Stream<DynamicTest> seeds() throws IOException {
        List<Path> seeds;
        try (Stream<Path> files = Files.list(SEEDS)) {
            seeds = files.sorted().toList();
        }
        assertTrue(seeds.stream().filter(p -> p.getFileName().toString().startsWith("valid-")).count() >= 4);
        return seeds.stream().map(seed -> DynamicTest.dynamicTest(seed.getFileName().toString(), () -> {
            String name = seed.getFileName().toString();
            if (name.startsWith("valid-")) {
                assertFalse(OnnxImport.read(seed).spec().layers().isEmpty());
            } else if (name.startsWith("near-")) {
                ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxImport.read(seed));
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            } else {
                try {
                    OnnxImport.read(seed);
                } catch (ModelFileException e) {
                    assertFalse(e.getMessage().contains("\n"), e.getMessage());
                }
            }
        }));
    }
}
