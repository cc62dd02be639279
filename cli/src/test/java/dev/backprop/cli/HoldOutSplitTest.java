package dev.backprop.cli;

import dev.backprop.backend.BackpropException;
import dev.backprop.data.CsvData;
import dev.backprop.data.Dataset;
import dev.backprop.data.ImageFolder;
import dev.backprop.data.LabelColumn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The digest a hold-out split records ({@link HoldOutSplit#digest}) against SHA-256 computed outside Java over the
 * byte layout its Javadoc states, and what it is and is not robust to; the JSON it is recorded in.
 */
class HoldOutSplitTest {
    @TempDir
    Path dir;

    @Test
    void theDigestIsSha256OverTheDocumentedLayout() {
        // Python: hashlib.sha256(struct.pack('<ii', 2, 1) + struct.pack('<fff', 1, 2, 0)
        //                        + struct.pack('<fff', 3, 4.5, 1)).hexdigest()
        Dataset labels = Dataset.classification(new float[] {1, 2, 3, 4.5f}, new int[] {2}, new int[] {0, 1}, 2,
                null);
        assertEquals("f152413116414765a63029f99926cf5fa1c537c877fa3656c14da738bdff2656",
                HoldOutSplit.digest(labels));
        // the same numbers read as one target each are the same data: the task does not change the rows
        assertEquals(HoldOutSplit.digest(labels), HoldOutSplit.digest(Dataset.regression(new float[] {1, 2, 3, 4.5f},
                new int[] {2}, new float[] {0, 1}, 1)));
        // Python: hashlib.sha256(struct.pack('<ii', 2, 1) + struct.pack('<fff', 1, 2, 0.25)
        //                        + struct.pack('<fff', 3, 4.5, -1)).hexdigest()
        Dataset targets = Dataset.regression(new float[] {1, 2, 3, 4.5f}, new int[] {2}, new float[] {0.25f, -1}, 1);
        assertEquals("9a4758c3c8a8b07de51117647ec3d47c8896c4556e76a7ebb52476d7c60d205f",
                HoldOutSplit.digest(targets));
        // a view hashes its examples in its own order, as the split sees them
        assertEquals(HoldOutSplit.digest(Dataset.classification(new float[] {3, 4.5f, 1, 2}, new int[] {2},
                new int[] {1, 0}, 2, null)), HoldOutSplit.digest(labels.view(new int[] {1, 0})));
    }

    @Test
    void theDigestSpansMoreThanOneChunk() {
        int n = 300_000;  // 300 000 x 4 values of 4 bytes: several gathers of 1 MiB
        float[] x = new float[n * 3];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.5f;
        }
        for (int i = 0; i < n; i++) {
            y[i] = i % 4;
        }
        Dataset d = Dataset.classification(x, new int[] {3}, y, 4, null);
        // the documented layout hashed in one pass: the gathers must not show in the digest
        java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate(8 + n * 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        all.putInt(3).putInt(1);
        for (int i = 0; i < n; i++) {
            all.putFloat(x[3 * i]).putFloat(x[3 * i + 1]).putFloat(x[3 * i + 2]).putFloat(y[i]);
        }
        assertEquals(java.util.HexFormat.of().formatHex(assertDoesNotThrow(() -> java.security.MessageDigest
                .getInstance("SHA-256")).digest(all.array())), HoldOutSplit.digest(d));
        float[] changed = x.clone();
        changed[x.length - 1] += 1;  // the last value of the last chunk
        assertNotEquals(HoldOutSplit.digest(d), HoldOutSplit.digest(Dataset.classification(changed, new int[] {3}, y,
                4, null)));
        int[] relabelled = y.clone();
        relabelled[0] = 3;
        assertNotEquals(HoldOutSplit.digest(d), HoldOutSplit.digest(Dataset.classification(x, new int[] {3},
                relabelled, 4, null)));
    }

    @Test
    void harmlessDifferencesInTheFileKeepTheDigest() throws IOException {
        String digest = digest("1,2,0\n3,4.5,1\n");
        assertEquals(digest, digest("1,2,0\r\n3,4.5,1\r\n"), "CRLF line ends");
        assertEquals(digest, digest("1,2,0\n3,4.5,1"), "no trailing newline");
        assertEquals(digest, digest("a,b,label\n1,2,0\n3,4.5,1\n"), "a header line");
        assertEquals(digest, digest("1.0,2e0,0\n\"3\",4.50,1\n"), "numbers spelled otherwise, a quoted field");
        assertEquals(digest("0,2,0\n3,4.5,1\n"), digest("-0,2,0\n3,4.5,1\n"), "-0 is 0 to a model");

        assertNotEquals(digest, digest("3,4.5,1\n1,2,0\n"), "rows reordered");
        assertNotEquals(digest, digest("1,2,0\n3,4.25,1\n"), "a value changed");
        assertNotEquals(digest, digest("1,2,1\n3,4.5,1\n"), "a label changed");
        assertNotEquals(digest, digest("1,2,0,3,4.5,1\n"), "the same numbers in one row");
        Path file = Files.writeString(dir.resolve("d.csv"), "1,2,0\n3,4.5,1\n");
        assertEquals(digest, HoldOutSplit.digest(CsvData.readRegression(file, 1)), "read for regression");
    }

    @Test
    void theSameExamplesWithTheLabelColumnElsewhereDigestTheSame() throws IOException {
        // scikit-learn's X and y: the features keep their file order wherever the label stands
        String last = digest("a,b,label\n1,2,0\n3,4.5,1\n");
        Path first = Files.writeString(dir.resolve("first.csv"), "label,a,b\n0,1,2\n1,3,4.5\n");
        assertEquals(last, HoldOutSplit.digest(CsvData.readClassification(first, 2, LabelColumn.of("label"))));
        assertEquals(last, HoldOutSplit.digest(CsvData.readClassification(first, 2, LabelColumn.of("0"))));
        Path middle = Files.writeString(dir.resolve("middle.csv"), "1,0,2\n3,1,4.5\n");
        assertEquals(last, HoldOutSplit.digest(CsvData.readClassification(middle, 2, LabelColumn.of("1"))));
        assertEquals(last, HoldOutSplit.digest(CsvData.readRegression(first, 1, LabelColumn.of("label"))));
        // the same file read by another column is other examples
        assertNotEquals(last, HoldOutSplit.digest(CsvData.readRegression(first, 1, LabelColumn.of("b"))));
    }

    @Test
    void classNamesIndexInSortedOrderNotInTheOrderTheyComeIn() throws IOException {
        // 'dog' comes first, but 'cat' < 'dog' is class 0, as scikit-learn's LabelEncoder numbers them
        Path named = Files.writeString(dir.resolve("named.csv"), "1,2,dog\n3,4.5,cat\n5,6,dog\n");
        List<String> names = CsvData.readClassColumn(named).names();
        assertEquals(List.of("cat", "dog"), names);
        String digest = HoldOutSplit.digest(CsvData.readClassification(named, names));
        assertEquals(digest("1,2,1\n3,4.5,0\n5,6,1\n"), digest);
        Path reread = Files.writeString(dir.resolve("named-crlf.csv"), "x,y,animal\r\n1,2,dog\r\n3,4.5,cat\r\n"
                + "5,6,dog\r\n");
        assertEquals(digest, HoldOutSplit.digest(CsvData.readClassification(reread,
                CsvData.readClassColumn(reread).names())));
        // a class renamed so that it sorts elsewhere renumbers every row of both classes
        Path renamed = Files.writeString(dir.resolve("renamed.csv"), "1,2,dog\n3,4.5,emu\n5,6,dog\n");
        assertNotEquals(digest, HoldOutSplit.digest(CsvData.readClassification(renamed,
                CsvData.readClassColumn(renamed).names())));
    }

    @Test
    void everyNanDigestsAsOneAndMinusZeroAsZero() {
        float[] quiet = {Float.NaN, -0f, 1};
        float[] payloads = {Float.intBitsToFloat(0x7fc00123), 0f, 1};
        float[] negative = {Float.intBitsToFloat(0xffc00000), 0f, 1};
        String digest = HoldOutSplit.digest(Dataset.regression(quiet, new int[] {3}, new float[] {-0f}, 1));
        assertEquals(digest, HoldOutSplit.digest(Dataset.regression(payloads, new int[] {3}, new float[] {0f}, 1)));
        assertEquals(digest, HoldOutSplit.digest(Dataset.regression(negative, new int[] {3}, new float[] {0f}, 1)));
        assertNotEquals(digest, HoldOutSplit.digest(Dataset.regression(new float[] {Float.POSITIVE_INFINITY, 0, 1},
                new int[] {3}, new float[] {0f}, 1)));
    }

    @Test
    void imagesDigestByTheirPixelsInSortedFileOrder() throws IOException {
        String[][] shades = {{"cat/1", "10"}, {"cat/2", "20"}, {"dog/1", "30"}};
        String digest = HoldOutSplit.digest(ImageFolder.read(images("png", "png", shades)));
        // the same pixels re-encoded without loss, and files written (and listed) in another order
        assertEquals(digest, HoldOutSplit.digest(ImageFolder.read(images("bmp", "bmp", shades))));
        String[][] reversed = {{"dog/1", "30"}, {"cat/2", "20"}, {"cat/1", "10"}};
        assertEquals(digest, HoldOutSplit.digest(ImageFolder.read(images("reversed", "png", reversed))));
        // renamed files that sort as before are the same examples in the same places
        String[][] renamed = {{"cat/a", "10"}, {"cat/b", "20"}, {"dog/z", "30"}};
        assertEquals(digest, HoldOutSplit.digest(ImageFolder.read(images("renamed", "png", renamed))));
        // renamed so that they sort the other way: the seed's positions hold out other images
        String[][] swapped = {{"cat/1", "20"}, {"cat/2", "10"}, {"dog/1", "30"}};
        assertNotEquals(digest, HoldOutSplit.digest(ImageFolder.read(images("swapped", "png", swapped))));
    }

    /** A folder of 3x2 RGB images, {@code {name, shade}} each, written in the order given. */
    private Path images(String root, String format, String[][] files) throws IOException {
        Path folder = dir.resolve(root);
        for (String[] f : files) {
            int shade = Integer.parseInt(f[1]);
            BufferedImage image = new BufferedImage(3, 2, BufferedImage.TYPE_3BYTE_BGR);
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 3; x++) {
                    image.setRGB(x, y, (shade + x) << 16 | (shade + 2 * y) << 8 | shade + 40);
                }
            }
            Path file = folder.resolve(f[0] + "." + format);
            Files.createDirectories(file.getParent());
            assertTrue(ImageIO.write(image, format, file.toFile()), format);
        }
        return folder;
    }

    private String digest(String csv) throws IOException {
        Path file = Files.writeString(dir.resolve("d.csv"), csv);
        return HoldOutSplit.digest(CsvData.readClassification(file, 2));
    }

    @Test
    void theSplitIsRecordedWithItsDigestAndReadWithOrWithout() {
        Path file = Path.of("m.safetensors");
        String sha = "63667daac8245b5f3249c93d3604a23fc84d83249f4498b7967d1ec0ce09fb36";
        HoldOutSplit split = new HoldOutSplit(7, 300, sha);
        String json = "{\"seed\":7,\"examples\":300,\"sha256\":\"" + sha + "\"}";
        assertEquals(json, split.toJson());
        assertEquals(split, HoldOutSplit.parse(file, json));
        assertEquals("{\"seed\":7,\"examples\":300}", split.withoutDigest().toJson());
        assertNull(HoldOutSplit.parse(file, "{\"seed\":7,\"examples\":300}").sha256());
        for (String bad : new String[] {"\"" + sha.toUpperCase(java.util.Locale.ROOT) + "\"", "\"" + sha + "0\"",
            "\"" + sha.substring(1) + "\"", "null", "7", "[\"" + sha + "\"]"}) {
            String value = "{\"seed\":7,\"examples\":300,\"sha256\":" + bad + "}";
            BackpropException e = assertThrows(BackpropException.class, () -> HoldOutSplit.parse(file, value));
            assertTrue(e.getMessage().startsWith("m.safetensors: metadata backprop.holdout has sha256 " + bad
                    + ", not 64 lowercase hex digits, so the hold-out split it records cannot be made"),
                    e.getMessage());
        }
    }

    @Test
    void theSameCountOfOtherExamplesIsRefusedNamingBothDigests() {
        String a = "63667daac8245b5f3249c93d3604a23fc84d83249f4498b7967d1ec0ce09fb36";
        String b = "9a4758c3c8a8b07de51117647ec3d47c8896c4556e76a7ebb52476d7c60d205f";
        HoldOutSplit recorded = new HoldOutSplit(7, 300, a);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> recorded.checkSameExamples(
                new HoldOutSplit(7, 300, b), "--csv d.csv", "rows", "m.safetensors", "give the file train read"));
        assertEquals("--csv d.csv has 300 rows, as many as m.safetensors held its test rows out of, but not the same "
                + "ones: their SHA-256 is 9a4758c3c8a8..., the recorded one 63667daac824... (rows reordered, replaced "
                + "or changed), so seed 7 would hold out rows it was trained on; give the file train read",
                e.getMessage());
        recorded.checkSameExamples(new HoldOutSplit(7, 300, a), "--csv d.csv", "rows", "m", "");
        // a split recorded without a digest vouches for its count only
        new HoldOutSplit(7, 300, null).checkSameExamples(new HoldOutSplit(7, 300, b), "--csv d.csv", "rows", "m", "");
    }
}
