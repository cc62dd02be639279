package dev.backprop.cuda;

import dev.backprop.backend.DType;

import java.util.Arrays;
import java.util.List;

import static dev.backprop.cuda.CudaKernel.Param.F64;
import static dev.backprop.cuda.CudaKernel.Param.I32;
import static dev.backprop.cuda.CudaKernel.Param.I64;
import static dev.backprop.cuda.CudaKernel.Param.PTR;

/**
 * Every kernel entry point of the shipped PTX with its parameter list. {@link CudaLaunch} checks each launch
 * against it (a wrong argument type would be read as garbage by the GPU, silently), and
 * {@code CudaKernelSignatureTest} checks it against the {@code .entry} declarations in the PTX, so the Java
 * and CUDA sides cannot drift apart unnoticed.
 */
enum CudaKernel {
    FILL_F64(PtxModule.ELEMENTWISE, "fill_f64", PTR, I64, F64),
    UNARY_F32(PtxModule.ELEMENTWISE, "unary_f32", I32, F64, F64, PTR, PTR, I64),
    UNARY_F64(PtxModule.ELEMENTWISE, "unary_f64", I32, F64, F64, PTR, PTR, I64),
    UNARY_BACKWARD_F32(PtxModule.ELEMENTWISE, "unary_backward_f32", I32, F64, F64, PTR, PTR, PTR, I64),
    UNARY_BACKWARD_F64(PtxModule.ELEMENTWISE, "unary_backward_f64", I32, F64, F64, PTR, PTR, PTR, I64),
    BINARY_F32(PtxModule.ELEMENTWISE, "binary_f32", I32, I32, I32, PTR, I32, PTR, I32, PTR),
    BINARY_F64(PtxModule.ELEMENTWISE, "binary_f64", I32, I32, I32, PTR, I32, PTR, I32, PTR),
    BINARY_I32(PtxModule.ELEMENTWISE, "binary_i32", I32, I32, I32, PTR, I32, PTR, I32, PTR),
    AXPBY_F32(PtxModule.ELEMENTWISE, "axpby_f32", I64, F64, PTR, F64, PTR),
    AXPBY_F64(PtxModule.ELEMENTWISE, "axpby_f64", I64, F64, PTR, F64, PTR),
    SCALE_MATRICES_F32(PtxModule.ELEMENTWISE, "scale_matrices_f32", I32, I32, I32, F64, PTR, I32, I64),
    SCALE_MATRICES_F64(PtxModule.ELEMENTWISE, "scale_matrices_f64", I32, I32, I32, F64, PTR, I32, I64),
    CONVERT_F32_BF16(PtxModule.ELEMENTWISE, "convert_f32_bf16", I64, PTR, PTR),
    TRANSPOSE_B32(PtxModule.TRANSPOSE, "transpose_b32", I32, I32, PTR, PTR),
    TRANSPOSE_B64(PtxModule.TRANSPOSE, "transpose_b64", I32, I32, PTR, PTR),
    GATHER_ROWS_B32(PtxModule.TRANSPOSE, "gather_rows_b32", I64, I32, I32, PTR, PTR, PTR),
    GATHER_ROWS_B64(PtxModule.TRANSPOSE, "gather_rows_b64", I64, I32, I32, PTR, PTR, PTR),

    REDUCE_ALL_PARTIAL_F32(PtxModule.REDUCTIONS, "reduce_all_partial_f32", I32, PTR, I64, PTR),
    REDUCE_ALL_PARTIAL_F64(PtxModule.REDUCTIONS, "reduce_all_partial_f64", I32, PTR, I64, PTR),
    REDUCE_ROWS_F32(PtxModule.REDUCTIONS, "reduce_rows_f32", I32, I32, I32, PTR, PTR, F64),
    REDUCE_ROWS_F64(PtxModule.REDUCTIONS, "reduce_rows_f64", I32, I32, I32, PTR, PTR, F64),
    REDUCE_COLS_F32(PtxModule.REDUCTIONS, "reduce_cols_f32", I32, I32, I32, I32, PTR, PTR, F64),
    REDUCE_COLS_F64(PtxModule.REDUCTIONS, "reduce_cols_f64", I32, I32, I32, I32, PTR, PTR, F64),
    ARGMAX_ROWS_F32(PtxModule.REDUCTIONS, "argmax_rows_f32", I32, I32, PTR, PTR),
    ARGMAX_ROWS_F64(PtxModule.REDUCTIONS, "argmax_rows_f64", I32, I32, PTR, PTR),

    SOFTMAX_ROWS_F32(PtxModule.SOFTMAX, "softmax_rows_f32", I32, I32, I32, PTR, PTR),
    SOFTMAX_ROWS_F64(PtxModule.SOFTMAX, "softmax_rows_f64", I32, I32, I32, PTR, PTR),
    SOFTMAX_CROSS_ENTROPY_F32(PtxModule.SOFTMAX, "softmax_cross_entropy_f32", I32, I32, PTR, PTR, PTR, PTR),
    SOFTMAX_CROSS_ENTROPY_F64(PtxModule.SOFTMAX, "softmax_cross_entropy_f64", I32, I32, PTR, PTR, PTR, PTR),
    SOFTMAX_CROSS_ENTROPY_BACKWARD_F32(PtxModule.SOFTMAX, "softmax_cross_entropy_backward_f32", I32, I32, PTR, PTR,
            PTR, PTR),
    SOFTMAX_CROSS_ENTROPY_BACKWARD_F64(PtxModule.SOFTMAX, "softmax_cross_entropy_backward_f64", I32, I32, PTR, PTR,
            PTR, PTR),

    SGD_UPDATE_F32(PtxModule.UPDATES, "sgd_update_f32", I64, PTR, PTR, PTR, F64, F64, F64, I32),
    SGD_UPDATE_F64(PtxModule.UPDATES, "sgd_update_f64", I64, PTR, PTR, PTR, F64, F64, F64, I32),
    ADAM_UPDATE_F32(PtxModule.UPDATES, "adam_update_f32", I64, PTR, PTR, PTR, PTR, F64, F64, F64, F64, F64, I32, F64,
            F64),
    ADAM_UPDATE_F64(PtxModule.UPDATES, "adam_update_f64", I64, PTR, PTR, PTR, PTR, F64, F64, F64, F64, F64, I32, F64,
            F64),

    IM2COL_B32(PtxModule.IMAGES, "im2col_b32", window(PTR, PTR)),
    IM2COL_B64(PtxModule.IMAGES, "im2col_b64", window(PTR, PTR)),
    COL2IM_F32(PtxModule.IMAGES, "col2im_f32", window(PTR, PTR)),
    COL2IM_F64(PtxModule.IMAGES, "col2im_f64", window(PTR, PTR)),
    COPY_STRIDED_B32(PtxModule.IMAGES, "copy_strided_b32", I64, I32, I32, I32, PTR, I64, I64, I64, I64, PTR),
    COPY_STRIDED_B64(PtxModule.IMAGES, "copy_strided_b64", I64, I32, I32, I32, PTR, I64, I64, I64, I64, PTR),
    MAX_POOL2D_F32(PtxModule.IMAGES, "max_pool2d_f32", window(PTR, PTR, PTR)),
    MAX_POOL2D_F64(PtxModule.IMAGES, "max_pool2d_f64", window(PTR, PTR, PTR)),
    MAX_POOL2D_BACKWARD_F32(PtxModule.IMAGES, "max_pool2d_backward_f32", window(PTR, PTR, PTR)),
    MAX_POOL2D_BACKWARD_F64(PtxModule.IMAGES, "max_pool2d_backward_f64", window(PTR, PTR, PTR)),
    AVG_POOL2D_F32(PtxModule.IMAGES, "avg_pool2d_f32", window(I32, PTR, PTR)),
    AVG_POOL2D_F64(PtxModule.IMAGES, "avg_pool2d_f64", window(I32, PTR, PTR)),
    AVG_POOL2D_BACKWARD_F32(PtxModule.IMAGES, "avg_pool2d_backward_f32", window(I32, PTR, PTR)),
    AVG_POOL2D_BACKWARD_F64(PtxModule.IMAGES, "avg_pool2d_backward_f64", window(I32, PTR, PTR)),

    BN_STATS_F32(PtxModule.NORMALIZATION, "bn_stats_f32", I32, I32, I32, I64, I32, PTR, PTR, PTR, F64),
    BN_STATS_F64(PtxModule.NORMALIZATION, "bn_stats_f64", I32, I32, I32, I64, I32, PTR, PTR, PTR, F64),
    BN_FORWARD_F32(PtxModule.NORMALIZATION, "bn_forward_f32", I32, I32, I32, F64, PTR, PTR, PTR, PTR, PTR, PTR),
    BN_FORWARD_F64(PtxModule.NORMALIZATION, "bn_forward_f64", I32, I32, I32, F64, PTR, PTR, PTR, PTR, PTR, PTR),
    BN_BACKWARD_SUMS_F32(PtxModule.NORMALIZATION, "bn_backward_sums_f32", I32, I32, I32, I64, F64, PTR, PTR, PTR, PTR,
            PTR, PTR),
    BN_BACKWARD_SUMS_F64(PtxModule.NORMALIZATION, "bn_backward_sums_f64", I32, I32, I32, I64, F64, PTR, PTR, PTR, PTR,
            PTR, PTR),
    BN_BACKWARD_DX_F32(PtxModule.NORMALIZATION, "bn_backward_dx_f32", I32, I32, I32, F64, I32, PTR, PTR, PTR, PTR, PTR,
            PTR, PTR, PTR),
    BN_BACKWARD_DX_F64(PtxModule.NORMALIZATION, "bn_backward_dx_f64", I32, I32, I32, F64, I32, PTR, PTR, PTR, PTR, PTR,
            PTR, PTR, PTR),
    DROPOUT_F32(PtxModule.NORMALIZATION, "dropout_f32", I64, I32, F64, I64, I64, PTR, PTR),
    DROPOUT_F64(PtxModule.NORMALIZATION, "dropout_f64", I64, I32, F64, I64, I64, PTR, PTR),

    BIAS_ACT_F32(PtxModule.FUSED, "bias_act_f32", I32, I32, I32, PTR, PTR, PTR),
    BIAS_ACT_F64(PtxModule.FUSED, "bias_act_f64", I32, I32, I32, PTR, PTR, PTR),
    BIAS_ACT_BACKWARD_F32(PtxModule.FUSED, "bias_act_backward_f32", I32, I32, I32, I32, PTR, PTR, PTR, PTR),
    BIAS_ACT_BACKWARD_F64(PtxModule.FUSED, "bias_act_backward_f64", I32, I32, I32, I32, PTR, PTR, PTR, PTR),
    SGD_UPDATE_MULTI_F32(PtxModule.FUSED, "sgd_update_multi_f32", I32, PTR, F64, F64, F64, I32),
    SGD_UPDATE_MULTI_F64(PtxModule.FUSED, "sgd_update_multi_f64", I32, PTR, F64, F64, F64, I32),
    ADAM_UPDATE_MULTI_F32(PtxModule.FUSED, "adam_update_multi_f32", I32, PTR, F64, F64, F64, F64, F64, I32, F64, F64),
    ADAM_UPDATE_MULTI_F64(PtxModule.FUSED, "adam_update_multi_f64", I32, PTR, F64, F64, F64, F64, F64, I32, F64, F64);

    /** A kernel parameter as the PTX declares it. */
    enum Param {
        /** A device pointer ({@code .u64}); passed as a {@code CUdeviceptr}, possibly offset. */
        PTR(".u64"),
        /** A C {@code int} ({@code .u32}); passed as an {@code Integer}. */
        I32(".u32"),
        /** A C {@code long long} ({@code .u64}); passed as a {@code Long}. */
        I64(".u64"),
        /** A C {@code double} ({@code .f64}); passed as a {@code Double}. */
        F64(".f64");

        private final String ptxType;

        Param(String ptxType) {
            this.ptxType = ptxType;
        }

        /** The PTX parameter type, e.g. {@code .u32}. */
        String ptxType() {
            return ptxType;
        }
    }

    private final PtxModule module;
    private final String entry;
    private final List<Param> params;

    CudaKernel(PtxModule module, String entry, Param... params) {
        this.module = module;
        this.entry = entry;
        this.params = List.of(params);
    }

    /** The module whose PTX defines it. */
    PtxModule module() {
        return module;
    }

    /** The {@code extern "C"} entry name. */
    String entry() {
        return entry;
    }

    /** Parameter kinds in order. */
    List<Param> params() {
        return params;
    }

    /** An image kernel's parameters: the twelve {@code int}s of its window ({@code WINDOW_PARAMS} in images.cu), then
     *  {@code rest}. */
    private static Param[] window(Param... rest) {
        Param[] all = new Param[12 + rest.length];
        Arrays.fill(all, 0, 12, I32);
        System.arraycopy(rest, 0, all, 12, rest.length);
        return all;
    }

    /** Picks the FLOAT32 or FLOAT64 variant of a floating kernel family. */
    static CudaKernel floating(DType dtype, CudaKernel f32, CudaKernel f64) {
        return switch (dtype) {
            case FLOAT32 -> f32;
            case FLOAT64 -> f64;
            case INT32 -> throw new IllegalArgumentException(f32.entry + ": no INT32 variant");
        };
    }
}
