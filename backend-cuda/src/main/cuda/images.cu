// Image kernels on NCHW batches: im2col and its adjoint col2im, the strided copy behind permutes and the
// convolution's layout changes, and max/average pooling with their backward passes. Every kernel is a
// grid-stride loop in which each output element has exactly one writing thread, so no atomics are needed: the
// backward passes gather each input element's contributions (taps, then windows, in ascending order) instead of
// scattering them, which fixes the order of every sum and keeps results bit-identical run to run.
#include "common.cuh"

// The geometry of dev.backprop.backend.Window2d (validated there) with its output size.
struct Window {
    int n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};

#define WINDOW_PARAMS int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw
#define WINDOW_ARGS n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw

__device__ __forceinline__ Window window(WINDOW_PARAMS) {
    Window g = {WINDOW_ARGS, 0, 0};
    g.oh = (int) (((i64) h + 2LL * ph - (i64) dh * (kh - 1) - 1) / sh + 1);
    g.ow = (int) (((i64) w + 2LL * pw - (i64) dw * (kw - 1) - 1) / sw + 1);
    return g;
}

// The outputs o whose window along one axis (start o·s - p, taps t·d for t < k) can cover input coordinate i:
// lo..hi, clamped to [0, out). With dilation above 1 a window in that range may still step over i.
__device__ __forceinline__ void covering(int i, int k, int s, int p, int d, int out, int* lo, int* hi) {
    const i64 first = (i64) i + p - (i64) (k - 1) * d;  // o·s >= i + p - (k - 1)·d
    *lo = first <= 0 ? 0 : (int) ((first + s - 1) / s);
    *hi = (int) min((i64) out - 1, ((i64) i + p) / s);  // o·s <= i + p
}

// Element e of a [planes, rows, cols] array: its plane, row and column.
struct Pixel {
    i64 plane;
    int y, x;
};
__device__ __forceinline__ Pixel pixel(i64 e, int rows, int cols) {
    const i64 r = e / cols;
    return {r / rows, (int) (r % rows), (int) (e - r * cols)};
}

// Calls f(p) for every tap of output (oy, ox)'s window that lies inside the image, in row-major tap order, with p
// the tap's index iy·w + ix in its plane.
template <typename F> __device__ __forceinline__ void for_each_tap(const Window& g, int oy, int ox, F f) {
    for (int i = 0; i < g.kh; i++) {
        const int iy = oy * g.sh - g.ph + i * g.dh;
        if (iy < 0 || iy >= g.h) {
            continue;
        }
        for (int j = 0; j < g.kw; j++) {
            const int ix = ox * g.sw - g.pw + j * g.dw;
            if (ix >= 0 && ix < g.w) {
                f(iy * g.w + ix);
            }
        }
    }
}

// Calls f(oy, ox) for every output whose window holds input pixel (iy, ix), in ascending output order.
template <typename F> __device__ __forceinline__ void for_each_window(const Window& g, int iy, int ix, F f) {
    int y0, y1, x0, x1;
    covering(iy, g.kh, g.sh, g.ph, g.dh, g.oh, &y0, &y1);
    covering(ix, g.kw, g.sw, g.pw, g.dw, g.ow, &x0, &x1);
    for (int oy = y0; oy <= y1; oy++) {
        if ((iy + g.ph - oy * g.sh) % g.dh != 0) {
            continue;  // the window's taps step over this row
        }
        for (int ox = x0; ox <= x1; ox++) {
            if ((ix + g.pw - ox * g.sw) % g.dw == 0) {
                f(oy, ox);
            }
        }
    }
}

// Taps t < k of a window starting at `start` (spacing d) that fall inside [0, size).
__device__ __forceinline__ int taps_inside(i64 start, int k, int d, int size) {
    const i64 first = start >= 0 ? 0 : (-start + d - 1) / d;
    const i64 last = start >= size ? -1 : min((i64) k - 1, (size - 1 - start) / d);
    return last >= first ? (int) (last - first + 1) : 0;
}

// cols[(ch·kh + i)·kw + j][col] for col = (img·oh + oy)·ow + ox. One thread per (channel, column) writes the
// channel's kh·kw taps of that column: consecutive threads take consecutive columns, so every row of cols is
// written in coalesced runs and neighbouring threads read neighbouring input pixels.
template <typename T> __device__ void im2col_body(const Window g, const T* x, T* cols) {
    const i64 q = (i64) g.n * g.oh * g.ow;
    const i64 total = q * g.c;
    const i64 plane = (i64) g.h * g.w;
    GRID_STRIDE(t, total) {
        const i64 ch = t / q, col = t - ch * q;
        const int ox = (int) (col % g.ow);
        const i64 rest = col / g.ow;
        const int oy = (int) (rest % g.oh);
        const i64 img = rest / g.oh;
        const T* xp = x + (img * g.c + ch) * plane;
        T* out = cols + ch * g.kh * g.kw * q + col;
        for (int i = 0; i < g.kh; i++) {
            const int iy = oy * g.sh - g.ph + i * g.dh;
            for (int j = 0; j < g.kw; j++) {
                const int ix = ox * g.sw - g.pw + j * g.dw;
                *out = (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) ? xp[(i64) iy * g.w + ix] : T(0);
                out += q;
            }
        }
    }
}
extern "C" __global__ void im2col_b32(WINDOW_PARAMS, const unsigned* x, unsigned* cols) {
    im2col_body<unsigned>(window(WINDOW_ARGS), x, cols);
}
extern "C" __global__ void im2col_b64(WINDOW_PARAMS, const unsigned long long* x, unsigned long long* cols) {
    im2col_body<unsigned long long>(window(WINDOW_ARGS), x, cols);
}

// dx[img][ch][iy][ix] = the sum of the cols entries im2col fills from that pixel: for each tap (i, j) in order,
// the one output position whose window puts that tap on the pixel, if any.
template <typename T> __device__ void col2im_body(const Window g, const T* cols, T* dx) {
    const i64 q = (i64) g.n * g.oh * g.ow;
    const i64 total = (i64) g.n * g.c * g.h * g.w;
    GRID_STRIDE(e, total) {
        const Pixel px = pixel(e, g.h, g.w);
        const i64 ch = px.plane % g.c, img = px.plane / g.c;
        T acc = T(0);
        for (int i = 0; i < g.kh; i++) {
            const int ty = px.y + g.ph - i * g.dh;  // oy·sh
            if (ty < 0) {
                break;
            }
            if (ty % g.sh != 0 || ty / g.sh >= g.oh) {
                continue;
            }
            const i64 row_base = (img * g.oh + ty / g.sh) * g.ow;
            for (int j = 0; j < g.kw; j++) {
                const int tx = px.x + g.pw - j * g.dw;  // ox·sw
                if (tx < 0) {
                    break;
                }
                if (tx % g.sw != 0 || tx / g.sw >= g.ow) {
                    continue;
                }
                acc += cols[((ch * g.kh + i) * g.kw + j) * q + row_base + tx / g.sw];
            }
        }
        dx[e] = acc;
    }
}
extern "C" __global__ void col2im_f32(WINDOW_PARAMS, const float* cols, float* dx) {
    col2im_body<float>(window(WINDOW_ARGS), cols, dx);
}
extern "C" __global__ void col2im_f64(WINDOW_PARAMS, const double* cols, double* dx) {
    col2im_body<double>(window(WINDOW_ARGS), cols, dx);
}

// dst[i0][i1][i2][i3] (contiguous, n elements) = src[i0·s0 + i1·s1 + i2·s2 + i3·s3]; lower ranks come padded with
// leading sizes of 1. Only bits move, so one kernel per element size serves every dtype.
template <typename T> __device__ void copy_strided_body(i64 n, int d1, int d2, int d3, const T* src, i64 s0, i64 s1,
                                                        i64 s2, i64 s3, T* dst) {
    GRID_STRIDE(e, n) {
        const i64 i3 = e % d3, r3 = e / d3;
        const i64 i2 = r3 % d2, r2 = r3 / d2;
        const i64 i1 = r2 % d1, i0 = r2 / d1;
        dst[e] = src[i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3];
    }
}
extern "C" __global__ void copy_strided_b32(i64 n, int d1, int d2, int d3, const unsigned* src, i64 s0, i64 s1,
                                            i64 s2, i64 s3, unsigned* dst) {
    copy_strided_body<unsigned>(n, d1, d2, d3, src, s0, s1, s2, s3, dst);
}
extern "C" __global__ void copy_strided_b64(i64 n, int d1, int d2, int d3, const unsigned long long* src, i64 s0,
                                            i64 s1, i64 s2, i64 s3, unsigned long long* dst) {
    copy_strided_body<unsigned long long>(n, d1, d2, d3, src, s0, s1, s2, s3, dst);
}

// One thread per output: the first largest tap inside the image in row-major tap order (NaN counts as largest,
// the first NaN wins), its value and its index iy·w + ix within the plane.
template <typename T> __device__ void max_pool2d_body(const Window g, const T* x, T* y, int* argmax) {
    const i64 total = (i64) g.n * g.c * g.oh * g.ow;
    const i64 plane = (i64) g.h * g.w;
    GRID_STRIDE(o, total) {
        const Pixel out = pixel(o, g.oh, g.ow);
        const T* xp = x + out.plane * plane;
        int best = -1;
        T m = d_neg_inf<T>();
        for_each_tap(g, out.y, out.x, [&](int p) {
            const T v = xp[p];
            if (best < 0 || v > m || (d_isnan(v) && !d_isnan(m))) {
                best = p;
                m = v;
            }
        });
        y[o] = m;
        argmax[o] = best;
    }
}
extern "C" __global__ void max_pool2d_f32(WINDOW_PARAMS, const float* x, float* y, int* argmax) {
    max_pool2d_body<float>(window(WINDOW_ARGS), x, y, argmax);
}
extern "C" __global__ void max_pool2d_f64(WINDOW_PARAMS, const double* x, double* y, int* argmax) {
    max_pool2d_body<double>(window(WINDOW_ARGS), x, y, argmax);
}

// dx[plane][p] = the sum of dy over the outputs of the plane whose argmax is p, gathered from the windows that can
// cover p in ascending output order (an argmax is always inside its own window).
template <typename T> __device__ void max_pool2d_backward_body(const Window g, const T* dy, const int* argmax, T* dx) {
    const i64 total = (i64) g.n * g.c * g.h * g.w;
    const i64 out_plane = (i64) g.oh * g.ow;
    GRID_STRIDE(e, total) {
        const Pixel px = pixel(e, g.h, g.w);
        const int p = px.y * g.w + px.x;
        const i64 first = px.plane * out_plane;
        T acc = T(0);
        for_each_window(g, px.y, px.x, [&](int oy, int ox) {
            const i64 q = first + (i64) oy * g.ow + ox;
            if (argmax[q] == p) {
                acc += dy[q];
            }
        });
        dx[e] = acc;
    }
}
extern "C" __global__ void max_pool2d_backward_f32(WINDOW_PARAMS, const float* dy, const int* argmax, float* dx) {
    max_pool2d_backward_body<float>(window(WINDOW_ARGS), dy, argmax, dx);
}
extern "C" __global__ void max_pool2d_backward_f64(WINDOW_PARAMS, const double* dy, const int* argmax, double* dx) {
    max_pool2d_backward_body<double>(window(WINDOW_ARGS), dy, argmax, dx);
}

// Average pooling's divisor for output (oy, ox): the whole window, or only its taps inside the image.
__device__ __forceinline__ int avg_divisor(const Window& g, int include_pad, int oy, int ox) {
    if (include_pad) {
        return g.kh * g.kw;
    }
    return taps_inside((i64) oy * g.sh - g.ph, g.kh, g.dh, g.h) * taps_inside((i64) ox * g.sw - g.pw, g.kw, g.dw, g.w);
}

// One thread per output: the sum of the window's taps inside the image (row-major) over the divisor.
template <typename T> __device__ void avg_pool2d_body(const Window g, int include_pad, const T* x, T* y) {
    const i64 total = (i64) g.n * g.c * g.oh * g.ow;
    const i64 plane = (i64) g.h * g.w;
    GRID_STRIDE(o, total) {
        const Pixel out = pixel(o, g.oh, g.ow);
        const T* xp = x + out.plane * plane;
        T acc = T(0);
        for_each_tap(g, out.y, out.x, [&](int p) { acc += xp[p]; });
        y[o] = acc / (T) avg_divisor(g, include_pad, out.y, out.x);
    }
}
extern "C" __global__ void avg_pool2d_f32(WINDOW_PARAMS, int include_pad, const float* x, float* y) {
    avg_pool2d_body<float>(window(WINDOW_ARGS), include_pad, x, y);
}
extern "C" __global__ void avg_pool2d_f64(WINDOW_PARAMS, int include_pad, const double* x, double* y) {
    avg_pool2d_body<double>(window(WINDOW_ARGS), include_pad, x, y);
}

// dx[plane][iy][ix] = the sum, over the windows holding the pixel in ascending output order, of dy / divisor.
template <typename T> __device__ void avg_pool2d_backward_body(const Window g, int include_pad, const T* dy, T* dx) {
    const i64 total = (i64) g.n * g.c * g.h * g.w;
    const i64 out_plane = (i64) g.oh * g.ow;
    GRID_STRIDE(e, total) {
        const Pixel px = pixel(e, g.h, g.w);
        const i64 first = px.plane * out_plane;
        T acc = T(0);
        for_each_window(g, px.y, px.x, [&](int oy, int ox) {
            acc += dy[first + (i64) oy * g.ow + ox] / (T) avg_divisor(g, include_pad, oy, ox);
        });
        dx[e] = acc;
    }
}
extern "C" __global__ void avg_pool2d_backward_f32(WINDOW_PARAMS, int include_pad, const float* dy, float* dx) {
    avg_pool2d_backward_body<float>(window(WINDOW_ARGS), include_pad, dy, dx);
}
extern "C" __global__ void avg_pool2d_backward_f64(WINDOW_PARAMS, int include_pad, const double* dy, double* dx) {
    avg_pool2d_backward_body<double>(window(WINDOW_ARGS), include_pad, dy, dx);
}
