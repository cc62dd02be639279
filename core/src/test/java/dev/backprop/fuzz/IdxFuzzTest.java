package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.data.IdxProbe;

import java.nio.file.Path;

/** Fuzzes the IDX reader (plain and gzipped) and the conversion of its images to a data set. */
class IdxFuzzTest {
    @FuzzTest
    void idx(byte[] data) throws Exception {
        Path p = FuzzSupport.write("images-idx3-ubyte", data);
        FuzzSupport.read(() -> IdxProbe.readAsImages(p));
    }
}
