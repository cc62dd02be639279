package dev.backprop.reference;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;

/**
 * The scalar functions behind {@link ReferenceBackend}, written straight from the Javadoc of {@link UnaryOp}
 * and {@link BinaryOp}, in float64 (and int arithmetic for INT32, which wraps as Java ints do).
 */
final class ReferenceMath {
    private ReferenceMath() {
    }

    /** {@code op(x; p1, p2)} as {@link UnaryOp} defines it. */
    static double unary(UnaryOp op, double p1, double p2, double x) {
        return switch (op) {
            case IDENTITY -> x;
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case RELU -> Math.max(0.0, x);
            case THRESHOLD -> x >= 0 ? 1.0 : 0.0;
            case CLAMP -> Math.min(Math.max(x, p1), p2);
            case POW -> Math.pow(x, p1);
        };
    }

    /** {@code op'(x; p1, p2)·g}; kinks as PyTorch: relu'(0) = 0, abs'(0) = 0, threshold' = 0. */
    static double unaryBackward(UnaryOp op, double p1, double p2, double x, double g) {
        return switch (op) {
            case IDENTITY -> g;
            case NEG -> -g;
            case EXP -> Math.exp(x) * g;
            case LOG -> g / x;
            case SQRT -> g / (2.0 * Math.sqrt(x));
            case ABS -> Math.signum(x) * g;
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield s * (1.0 - s) * g;
            }
            case TANH -> {
                double t = Math.tanh(x);
                yield (1.0 - t * t) * g;
            }
            case RELU -> x > 0 ? g : 0.0;
            case THRESHOLD -> 0.0;
            case CLAMP -> (p1 <= x && x <= p2) ? g : 0.0;
            case POW -> p1 * Math.pow(x, p1 - 1.0) * g;
        };
    }

    /** {@code a op b} on floating values; comparisons give 1 or 0. */
    static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case EQ -> a == b ? 1.0 : 0.0;
            case NE -> a != b ? 1.0 : 0.0;
            case LT -> a < b ? 1.0 : 0.0;
            case LE -> a <= b ? 1.0 : 0.0;
            case GT -> a > b ? 1.0 : 0.0;
            case GE -> a >= b ? 1.0 : 0.0;
        };
    }

    /** {@code a op b} on INT32 values with Java's wrapping int arithmetic; DIV is not defined on INT32. */
    static int binaryInt(BinaryOp op, int a, int b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case DIV -> throw new IllegalArgumentException("DIV is not defined on INT32");
        };
    }
}
