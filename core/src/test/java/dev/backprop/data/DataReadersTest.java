package dev.backprop.data;

import dev.backprop.testing.FileBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataReadersTest {
    @TempDir
    Path dir;

    private void writeSplit(String prefix, int n, boolean gz, int labelMax) throws IOException {
        byte[] px = new byte[n * 4];
        new Random(1).nextBytes(px);
        byte[] lb = new byte[n];
        for (int i = 0; i < n; i++) {
            lb[i] = (byte) (i % labelMax);
        }
        byte[] im = FileBytes.idx(new int[] {n, 2, 2}, px), la = FileBytes.idx(new int[] {n}, lb);
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte" + (gz ? ".gz" : "")), gz ? FileBytes.gzip(im) : im);
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte" + (gz ? ".gz" : "")), gz ? FileBytes.gzip(la) : la);
    }

    @Test
    void readsGzippedAndPlainSplitsScaledToUnitRange() throws IOException {
        writeSplit("train", 12, true, 10);
        writeSplit("t10k", 5, false, 10);
        FashionMnist.Splits s = FashionMnist.load(dir);
        assertEquals(12, s.train().size());
        assertEquals(5, s.test().size());
        assertArrayEquals(new int[] {2, 2}, s.train().featureShape());
        assertEquals(3, s.train().label(3));
        for (float v : s.train().features(7)) {
            assertTrue(v >= 0 && v <= 1, "pixel " + v);
        }
    }

    @Test
    void rejectsWrongMagicTruncationCountMismatchAndBadLabels() throws IOException {
        Path bad = dir.resolve("bad");
        Files.write(bad, new byte[] {1, 2, 8, 1, 0, 0, 0, 1, 5});
        assertTrue(assertThrows(DataFormatException.class, () -> IdxFile.read(bad)).getMessage().contains("magic"));

        Path trunc = dir.resolve("trunc");
        Files.write(trunc, FileBytes.idx(new int[] {10, 2}, new byte[7]));
        assertTrue(assertThrows(DataFormatException.class,
                () -> IdxFile.read(trunc)).getMessage().contains("truncated"));

        Path gzTrunc = dir.resolve("gztrunc");
        byte[] g = FileBytes.gzip(FileBytes.idx(new int[] {100}, new byte[100]));
        Files.write(gzTrunc, java.util.Arrays.copyOf(g, g.length - 12));
        assertThrows(DataFormatException.class, () -> IdxFile.read(gzTrunc));

        IdxFile im = new IdxFile(dir, new int[] {3, 2}, new byte[6]);
        IdxFile la = new IdxFile(dir, new int[] {4}, new byte[4]);
        assertTrue(assertThrows(DataFormatException.class, () -> FashionMnist.fromIdx(im, la, 10, null))
                .getMessage().contains("count mismatch"));
        IdxFile la3 = new IdxFile(dir, new int[] {3}, new byte[] {0, 11, 2});
        assertTrue(assertThrows(DataFormatException.class, () -> FashionMnist.fromIdx(im, la3, 10, null))
                .getMessage().contains("label 11"));
        assertTrue(assertThrows(DataFormatException.class, () -> FashionMnist.load(dir.resolve("nowhere")))
                .getMessage().contains("dataset-fashion-mnist"));
        // a path that exists but is a file is named as what it is, by load and by split alike
        Path file = Files.writeString(dir.resolve("fashion.txt"), "not a directory");
        String isFile = file + ": is a file, not a directory; pass --data DIR, the directory that holds the IDX files "
                + "(train-images-idx3-ubyte.gz and friends)";
        assertEquals(isFile, assertThrows(DataFormatException.class, () -> FashionMnist.load(file)).getMessage());
        assertEquals(isFile, assertThrows(DataFormatException.class, () -> FashionMnist.split(file, "t10k"))
                .getMessage());
    }

    @Test
    void csvWithHeaderRegressionAndClassification() throws IOException {
        Path p = dir.resolve("r.csv");
        Files.writeString(p, "x1,x2,y\n1,2,3.5\n\n4,5,6\n");
        Dataset d = CsvData.readRegression(p, 1);
        assertEquals(2, d.size());
        assertEquals(2, d.featureSize());
        float[] t = new float[2];
        d.gatherTargets(d.identityOrder(), 0, 2, t);
        assertArrayEquals(new float[] {3.5f, 6f}, t);
        Dataset c = CsvData.readClassification(write("c.csv", "0.5,1\n0.2,0\n"), 2);
        assertEquals(1, c.label(0));
        assertThrows(DataFormatException.class, () -> CsvData.readClassification(write("c2.csv", "0.5,2\n"), 2));
        assertTrue(assertThrows(DataFormatException.class, () -> CsvData.readRegression(write("c3.csv",
                "1,2\n3,x\n"), 1)).getMessage().contains("line 2"));
        assertTrue(assertThrows(DataFormatException.class, () -> CsvData.readRegression(write("c4.csv",
                "1,2\n3,4,5\n"), 1)).getMessage().contains("columns"));
    }

    @Test
    void shuffleIsSeededPermutation() {
        int[] a = new int[100], b = new int[100];
        for (int i = 0; i < 100; i++) {
            a[i] = i;
            b[i] = i;
        }
        Dataset.shuffle(a, new Random(7));
        Dataset.shuffle(b, new Random(7));
        assertArrayEquals(a, b);
        int[] sorted = a.clone();
        java.util.Arrays.sort(sorted);
        for (int i = 0; i < 100; i++) {
            assertEquals(i, sorted[i]);
        }
    }

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }
}
