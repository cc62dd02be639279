package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.data.CsvData;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Fuzzes the CSV reader (regression and classification) and the single-row parser of {@code predict --row}. */
class CsvFuzzTest {
    @FuzzTest
    void csv(byte[] data) throws Exception {
        Path p = FuzzSupport.write("data.csv", data);
        FuzzSupport.read(() -> CsvData.readRegression(p, 1));
        FuzzSupport.read(() -> CsvData.readClassification(p, 10));
        String text = new String(data, StandardCharsets.UTF_8);
        FuzzSupport.read(() -> CsvData.parseRow(text.lines().findFirst().orElse("")));
    }
}
