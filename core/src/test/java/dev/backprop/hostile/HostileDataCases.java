package dev.backprop.hostile;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.IdxProbe;
import dev.backprop.testing.FileBytes;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Hostile IDX and CSV files, each derived from a valid file by one systematic change that makes it invalid: every
 * truncation (plain and gzipped), every other element type and dimension count, dimensions past the file, the
 * limit or the int range, gzip bombs and corrupt trailers; in CSV, each cell replaced by each number form that is
 * not a finite float32 decimal, each label by each value that is no class, broken structure and each byte made
 * invalid UTF-8.
 */
final class HostileDataCases {
    private static final List<String> NOT_NUMBERS = List.of("NaN", "nan", "-NaN", "inf", "Infinity", "-Infinity",
            "1e39", "-1e39", "1e400", "3.5e38", "5d", "5f", "5D", "0x1p3", "0x10", "1_000", "", " ", "\u0000",
            "5\u0000", "\u00005", "1e", "e1", "--1", "+-1", "1..2", ".", "-", "\u0663", "'1'", "\"1", "\"1\"x",
            "\"1,5\"", "1 2", "\u00a01", "1\u2028", "\uFEFF1", "1,5", "true", "null", "0b1", "1e+", "١");
    private static final List<String> NOT_LABELS = List.of("999999", "10000", "10", "-1", "1.5", "0.999999",
            "2.0000001", "1e39", "NaN", "1e4", "-0.5");

    private HostileDataCases() {
    }

    static void idx(List<HostileCase> out) {
        HostileCase.Call call = IdxProbe::readAsImages;
        String reader = "IDX";
        byte[] plain = FileBytes.idx(new int[] {3, 2, 2}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        byte[] gz = FileBytes.gzip(plain);
        for (int n = 0; n < plain.length; n++) {
            out.add(new HostileCase(reader, "plain truncated to " + n, Arrays.copyOf(plain, n), call));
        }
        for (int n = 2; n < gz.length; n++) {
            out.add(new HostileCase(reader, "gzip truncated to " + n, Arrays.copyOf(gz, n), call));
        }
        for (int v = 1; v < 256; v++) {
            byte[] b = plain.clone();
            b[v % 2] = (byte) v;  // a non-zero magic byte, alternately the first and the second
            if (!(b[0] == 0x1f && b[1] == (byte) 0x8b)) {
                out.add(new HostileCase(reader, "magic byte " + (v % 2) + " = " + v, b, call));
            }
        }
        for (int t = 0; t < 256; t++) {
            if (t != 8) {
                byte[] b = plain.clone();
                b[2] = (byte) t;
                out.add(new HostileCase(reader, "element type " + t, b, call));
            }
        }
        for (int nd = 0; nd < 256; nd += nd < 12 ? 1 : 17) {
            if (nd != 3) {
                byte[] b = plain.clone();
                b[3] = (byte) nd;
                out.add(new HostileCase(reader, "dimension count " + nd, b, call));
            }
        }
        int[][] dims = {{4, 2, 2}, {3, 2, 3}, {0, 2, 2}, {3, 0, 2}, {-1, 2, 2}, {1 << 30, 2, 2}, {65536, 65536, 1},
            {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, {300_000, 28, 28}, {13}, {2, 2, 2},
            {0, 768, 1 << 25}, {0, 0, 0}, {0x7c000000, 0}};
        for (int[] d : dims) {
            byte[] b = FileBytes.idx(d, Arrays.copyOfRange(plain, 16, 28));
            out.add(new HostileCase(reader, "dimensions " + Arrays.toString(d), b, call));
            out.add(new HostileCase(reader, "gzipped dimensions " + Arrays.toString(d), FileBytes.gzip(b), call));
        }
        out.add(new HostileCase(reader, "trailing byte", FileBytes.concat(plain, new byte[1]), call));
        out.add(new HostileCase(reader, "gzipped trailing byte", FileBytes.gzip(FileBytes.concat(plain, new byte[1])),
                call));
        out.add(new HostileCase(reader, "gzip bomb: 300000 images declared in 2 MB of zeros",
                FileBytes.gzip(FileBytes.idx(new int[] {300_000, 28, 28}, new byte[2_000_000])), call));
        for (int i = gz.length - 8; i < gz.length; i++) {
            byte[] b = gz.clone();
            b[i] ^= 0x5A;
            out.add(new HostileCase(reader, "gzip trailer byte " + (i - gz.length + 8) + " flipped", b, call));
        }
    }

    static void csv(List<HostileCase> out) {
        String reader = "CSV";
        HostileCase.Call both = p -> {
            try {
                CsvData.readRegression(p, 1);
                return;  // accepted: the case counts as a silent success
            } catch (DataFormatException e) {
                HostileCase.checkOneLine(e);
            }
            CsvData.readClassification(p, 10);
        };
        HostileCase.Call labels = p -> CsvData.readClassification(p, 10);
        String[][] cells = {{"0.5", "1.25", "0"}, {"2", "-3e-2", "1"}};
        for (int r = 0; r < cells.length; r++) {
            for (int c = 0; c < 3; c++) {
                for (String bad : NOT_NUMBERS) {
                    out.add(new HostileCase(reader, "row " + r + " column " + c + " = " + bad, csvBytes(cells, r, c,
                            bad), both));
                }
            }
            for (String bad : NOT_LABELS) {
                out.add(new HostileCase(reader, "label of row " + r + " = " + bad, csvBytes(cells, r, 2, bad), labels));
            }
        }
        List<String> structure = List.of("", "\n\n", "x,y,z\n", "\uFEFF", "1\n", "1,2,0\n3,4\n", "1,2,0\n3,4,1,5\n",
                "x,y\n1,2,0\n", "1,2,0\nx,y,z\n", "1,2,0\n\uFEFF3,4,1\n", "1;2;0\n", "1\t2\t0\n", "\"1\",\"2\",\"0\n",
                "\"1\"x,2,0\n", "1,\"2\n3\",0\n",
                "1,2,0\r3,4,NaN\r", "1,2,0\n" + "1,".repeat(10) + "0\n");
        for (String s : structure) {
            out.add(new HostileCase(reader, "structure " + s.replace("\n", "\\n"),
                    s.getBytes(StandardCharsets.UTF_8), both));
        }
        byte[] good = csvBytes(cells, 0, 0, "0.5");
        for (int i = 0; i < good.length; i++) {
            if (good[i] != '\n') {
                byte[] b = good.clone();
                b[i] = (byte) 0xFF;
                out.add(new HostileCase(reader, "byte " + i + " = 0xFF", b, both));
            }
        }
    }

    private static byte[] csvBytes(String[][] cells, int row, int col, String value) {
        StringBuilder b = new StringBuilder("x1,x2,label\n");
        for (int r = 0; r < cells.length; r++) {
            for (int c = 0; c < cells[r].length; c++) {
                b.append(c == 0 ? "" : ",").append(r == row && c == col ? value : cells[r][c]);
            }
            b.append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
