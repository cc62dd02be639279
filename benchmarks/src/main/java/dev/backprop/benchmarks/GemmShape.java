package dev.backprop.benchmarks;

import java.util.Locale;

/**
 * The shape of one GEMM benchmark: {@code C[m×n] = op(A)·op(B)} with {@code op(A)} {@code m×k} and
 * {@code op(B)} {@code k×n}, all row-major and contiguous.
 *
 * <p>Spelled {@code "N"} (square: m = k = n = N) or {@code "MxKxN"}, optionally followed by {@code ":TN"},
 * {@code ":NT"} or {@code ":TT"} for transposed operands (the first letter is A's). The MLP's backward
 * products use transposed operands, so they are benchmarked that way.
 *
 * @param m      rows of C
 * @param k      inner dimension
 * @param n      columns of C
 * @param transA whether A is stored {@code k×m} and used transposed
 * @param transB whether B is stored {@code n×k} and used transposed
 */
public record GemmShape(int m, int k, int n, boolean transA, boolean transB) {
    public GemmShape {
        if (m <= 0 || k <= 0 || n <= 0) {
            throw new IllegalArgumentException("GEMM sizes must be positive, got m=" + m + " k=" + k + " n=" + n);
        }
    }

    /**
     * Parses {@code "512"} or {@code "128x784x256:TN"}.
     *
     * @throws IllegalArgumentException naming the text when it is not of that form
     */
    public static GemmShape parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        boolean ta = false;
        boolean tb = false;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            String t = s.substring(colon + 1);
            if (!t.matches("[NT][NT]")) {
                throw new IllegalArgumentException("GEMM shape '" + text + "': transposes must be NN, NT, TN or TT");
            }
            ta = t.charAt(0) == 'T';
            tb = t.charAt(1) == 'T';
            s = s.substring(0, colon);
        }
        String[] parts = s.split("X", -1);
        try {
            if (parts.length == 1) {
                int size = Integer.parseInt(parts[0]);
                return new GemmShape(size, size, size, ta, tb);
            }
            if (parts.length == 3) {
                return new GemmShape(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]),
                        Integer.parseInt(parts[2]), ta, tb);
            }
        } catch (NumberFormatException e) {
            // fall through to the message below, which names the whole text
        }
        throw new IllegalArgumentException("GEMM shape '" + text + "' is not N or MxKxN[:TN]");
    }

    /** Floating-point operations of one call: {@code 2·m·n·k}. */
    public double flops() {
        return 2.0 * m * n * k;
    }

    /** Row stride of A as stored. */
    public int lda() {
        return transA ? m : k;
    }

    /** Row stride of B as stored. */
    public int ldb() {
        return transB ? k : n;
    }

    /** Elements of A, B and C. */
    public long sizeA() {
        return (long) m * k;
    }

    /** Elements of B. */
    public long sizeB() {
        return (long) k * n;
    }

    /** Elements of C. */
    public long sizeC() {
        return (long) m * n;
    }
}
