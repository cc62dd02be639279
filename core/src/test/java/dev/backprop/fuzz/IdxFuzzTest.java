package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.data.FashionMnist;
import dev.backprop.data.IdxFile;

import java.nio.file.Path;

/** Fuzzes the IDX reader (plain and gzipped) and the conversion of its images to a data set. */
class IdxFuzzTest {
    @FuzzTest
    void idx(byte[] data) throws Exception {
        Path p = FuzzSupport.write("images-idx3-ubyte", data);
        FuzzSupport.read(() -> {
            IdxFile images = IdxFile.read(p);
            // Labels as many as the images; a count of items without pixels is backed by no data, so keep it small.
            if (images.dims().length >= 2 && (images.itemSize() > 0 || images.count() <= 1 << 16)) {
                IdxFile labels = new IdxFile(p, new int[] {images.count()}, new byte[images.count()]);
                FashionMnist.fromIdx(images, labels, 10, null);
            }
        });
    }
}
