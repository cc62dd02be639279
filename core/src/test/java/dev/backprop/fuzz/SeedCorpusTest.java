package dev.backprop.fuzz;

import dev.backprop.backend.DType;
import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.IdxProbe;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.StepLR;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keeps the committed seed corpus meaningful: every {@code valid-*} seed is read without error by its reader (so
 * the fuzzers start from inputs that reach deep), every {@code near-*} seed is refused with the reader's
 * documented exception, and every past finding ({@code crash-*}, {@code timeout-*} ...) is now read or refused
 * cleanly. Rewrite the seeds with {@link SeedCorpus} after a format change.
 */
class SeedCorpusTest {
    private interface Reader {
        void read(Path p) throws Exception;
    }

    @TestFactory
    Stream<DynamicTest> seeds() throws IOException, URISyntaxException {
        Path root = Path.of(SeedCorpusTest.class.getResource("SafeTensorsFuzzTestInputs").toURI()).getParent();
        Map<String, Reader> readers = Map.of(
                "SafeTensorsFuzzTestInputs/modelFile", SeedCorpusTest::loadInto,
                "CheckpointFuzzTestInputs/checkpoint", SeedCorpusTest::restore,
                "IdxFuzzTestInputs/idx", IdxProbe::readAsImages,
                "CsvFuzzTestInputs/csv", p -> CsvData.readClassification(p, 10),
                "MetadataFuzzTestInputs/metadata", p -> SavedModel.load(MetadataFuzzTest.file(Files.readAllBytes(p)),
                        FuzzSupport.BACKEND).close());
        List<DynamicTest> tests = new java.util.ArrayList<>();
        for (Map.Entry<String, Reader> e : readers.entrySet()) {
            try (Stream<Path> files = Files.list(root.resolve(e.getKey()))) {
                for (Path seed : files.sorted().toList()) {
                    String name = seed.getFileName().toString();
                    tests.add(DynamicTest.dynamicTest(e.getKey() + "/" + name, () -> {
                        if (name.startsWith("valid-")) {
                            e.getValue().read(seed);
                        } else if (name.matches("(crash|timeout|oom|slow-unit)-.*")) {
                            // A past finding: read as the fuzz target reads it, accepted or refused cleanly.
                            FuzzSupport.read(() -> e.getValue().read(seed));
                        } else {
                            assertTrue(name.startsWith("near-"), "seeds are valid-*, near-* or findings: " + name);
                            Exception x = assertThrows(Exception.class, () -> e.getValue().read(seed));
                            assertTrue(x instanceof ModelFileException || x instanceof DataFormatException,
                                    x.toString());
                            assertFalse(x.getMessage().contains("\n"), x.getMessage());
                        }
                    }));
                }
            }
        }
        assertTrue(tests.size() >= 15, "the corpus has seeds: " + tests.size());
        return tests.stream();
    }

    /** Loads into the first of the fuzz target's models that the file fits (the last one's refusal otherwise). */
    private static void loadInto(Path p) throws IOException {
        try (Sequential m = SafeTensorsFuzzTest.model(false)) {
            ModelFile.loadInto(p, m);
        } catch (ModelFileException plain) {
            try (Sequential m = SafeTensorsFuzzTest.model(true)) {
                ModelFile.loadInto(p, m);
            }
        }
    }

    /** Restores into the first of the fuzz target's models that the file fits (the last one's refusal otherwise). */
    private static void restore(Path p) throws IOException {
        try {
            restore(p, false);
        } catch (ModelFileException plain) {
            restore(p, true);
        }
    }

    private static void restore(Path p, boolean stateful) throws IOException {
        try (Sequential m = CheckpointFuzzTest.model(stateful);
             Optimizer adam = Adam.adam(m.parameters(), 0.01)) {
            Checkpoint.restore(p, m, adam, new StepLR(adam, 2, 0.5));
        }
    }
}
