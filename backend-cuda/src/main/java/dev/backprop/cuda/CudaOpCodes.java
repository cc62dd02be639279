package dev.backprop.cuda;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;

/**
 * The integer codes the kernels switch on, spelled out per constant rather than taken from
 * {@code ordinal()}, so reordering an SPI enum cannot silently change what a kernel computes. They mirror the
 * {@code #define}s in {@code src/main/cuda/common.cuh}; {@code CudaOpCodesTest} compares the two.
 */
final class CudaOpCodes {
    private CudaOpCodes() {
    }

    /** {@code UNARY_*} in common.cuh. */
    static int unary(UnaryOp op) {
        return switch (op) {
            case IDENTITY -> 0;
            case NEG -> 1;
            case EXP -> 2;
            case LOG -> 3;
            case SQRT -> 4;
            case ABS -> 5;
            case SIGMOID -> 6;
            case TANH -> 7;
            case RELU -> 8;
            case THRESHOLD -> 9;
            case CLAMP -> 10;
            case POW -> 11;
        };
    }

    /** {@code BINARY_*} in common.cuh. */
    static int binary(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case MAX -> 4;
            case MIN -> 5;
            case EQ -> 6;
            case NE -> 7;
            case LT -> 8;
            case LE -> 9;
            case GT -> 10;
            case GE -> 11;
        };
    }

    /** {@code BROADCAST_*} in common.cuh. */
    static int broadcast(Broadcast b) {
        return switch (b) {
            case FULL -> 0;
            case ROW -> 1;
            case COLUMN -> 2;
            case SCALAR -> 3;
        };
    }

    /** {@code REDUCE_*} in common.cuh. */
    static int reduce(ReduceOp op) {
        return switch (op) {
            case SUM -> 0;
            case MEAN -> 1;
            case MAX -> 2;
        };
    }
}
