package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;

/**
 * INT32 loops: binary ops with Java's wrapping int arithmetic (labels, masks, counters). Plain loops in both
 * modes; the JIT auto-vectorizes them. DIV is rejected by core before it gets here.
 */
final class I32Kernels {
    private I32Kernels() {
    }

    /** {@code out[i] = a[i] op b[i]} for {@code i < n}; comparisons give 0 or 1. */
    static void binary(BinaryOp op, int[] a, int ao, int[] b, int bo, int[] out, int oo, int n) {
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] + b[bo + i]; }
            case SUB -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] - b[bo + i]; }
            case MUL -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] * b[bo + i]; }
            case MAX -> { for (int i = 0; i < n; i++) out[oo + i] = Math.max(a[ao + i], b[bo + i]); }
            case MIN -> { for (int i = 0; i < n; i++) out[oo + i] = Math.min(a[ao + i], b[bo + i]); }
            case EQ -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] == b[bo + i] ? 1 : 0; }
            case NE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] != b[bo + i] ? 1 : 0; }
            case LT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] < b[bo + i] ? 1 : 0; }
            case LE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] <= b[bo + i] ? 1 : 0; }
            case GT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] > b[bo + i] ? 1 : 0; }
            case GE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] >= b[bo + i] ? 1 : 0; }
            case DIV -> throw new IllegalArgumentException("cpu: DIV is not defined on INT32");
        }
    }
}
