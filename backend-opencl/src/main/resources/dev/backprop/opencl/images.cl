/*
 * Kernels on NCHW image batches: im2col and its adjoint col2im, the strided copy, and max and average pooling with
 * their backward passes. Built for FLOAT32 and FLOAT64; the INT32 build holds only copy_strided (the one op here
 * that takes any dtype).
 *
 * Each work-item owns a line (a row of an image plane; for im2col an image's block of one row of the column matrix)
 * and loops along it, so the index arithmetic (a few integer divisions) is paid per line, not per element: on PoCL
 * a work-item per element, in 1-D, 2-D or 3-D ranges alike, spends several times the memory traffic's time on it. The backward passes are gathers: the work-item that owns an input row adds every contribution to it in
 * a fixed order that depends only on the shape, so no atomics are needed and results are the same on every run.
 */

/* The window geometry, in the order OpenClImages passes it (Window2d's fields plus outH, outW). */
#define WINDOW int channels, int height, int width, int kh, int kw, int sh, int sw, int ph, int pw, int dh, \
               int dw, int outH, int outW

/* a / s for a >= 0, without a division for the common s == 1 (an integer division costs tens of cycles on CPUs). */
inline int div_pos(int a, int s) { return s == 1 ? a : a / s; }

/* The output columns [lo, hi) whose tap at input column ox*s + base (base = j*dw - pw) lies inside [0, width). */
inline int2 inside_range(int base, int s, int width, int outW) {
    const int lo = base >= 0 ? 0 : min(outW, div_pos(-base + s - 1, s));
    const int hi = base >= width ? 0 : min(outW, div_pos(width - 1 - base, s) + 1);
    return (int2)(lo, max(lo, hi));
}

/*
 * copy_strided: dst[a][b][c][e] = src[so + a*s0 + b*s1 + c*s2 + e*s3] over sizes (d0, d1, d2, d3) (the host pads a
 * lower rank with leading 1s). One work-item per row of the last dimension.
 */
__kernel void copy_strided(long rows, int d1, int d2, int d3, __global const REAL* src, long so, long s0, long s1,
                           long s2, long s3, __global REAL* dst, long dso) {
    const long g = get_global_id(0);
    if (g >= rows) return;
    const long ab = g / d2;
    const long a = ab / d1;
    const long base = so + a * s0 + (ab - a * d1) * s1 + (g - ab * d2) * s2;
    __global REAL* out = dst + dso + g * d3;
    for (int e = 0; e < d3; e++) out[e] = src[base + e * s3];
}

#ifndef REAL_IS_INT

/*
 * im2col: work-item g = img*patch + row writes row `row` (= (c*kh + i)*kw + j) of image img's block of the column
 * matrix: its outH x outW output positions, zeros where the tap falls into the padding, the input row otherwise.
 * q is the matrix's row length, n*outH*outW. Adjacent work-items read the same image, so its planes stay in cache.
 */
__kernel void im2col(WINDOW, long blocks, int patch, long q, __global const REAL* x, long xo, __global REAL* cols,
                     long co) {
    const long g = get_global_id(0);
    if (g >= blocks) return;
    const int img = (int)(g / patch), row = (int)(g - (long)img * patch);
    const int k = kh * kw, c = row / k, ij = row - c * k, i = ij / kw, j = ij - i * kw;
    const int base = j * dw - pw;
    const int2 r = inside_range(base, sw, width, outW);
    __global REAL* out = cols + co + (long)row * q + (long)img * outH * outW;
    const long plane = xo + ((long)img * channels + c) * height * width + base;
    for (int oy = 0; oy < outH; oy++, out += outW) {
        const int iy = oy * sh - ph + i * dh;
        if (iy < 0 || iy >= height) {
            for (int ox = 0; ox < outW; ox++) out[ox] = 0;
            continue;
        }
        const long in = plane + (long)iy * width;
        for (int ox = 0; ox < r.x; ox++) out[ox] = 0;
        for (int ox = r.x; ox < r.y; ox++) out[ox] = x[in + ox * sw];
        for (int ox = r.y; ox < outW; ox++) out[ox] = 0;
    }
}

/*
 * col2im as a gather: work-item g = (img*channels + c)*height + iy owns input row iy of plane (img, c) and adds
 * every column-matrix entry that im2col would have filled from it, taps (i, j) in row-major order, each output
 * position at most once per tap. The row is zeroed first and accumulated in place (only this work-item touches it).
 */
__kernel void col2im(WINDOW, long lines, long q, __global const REAL* cols, long co, __global REAL* dx, long dxo) {
    const long g = get_global_id(0);
    if (g >= lines) return;
    const long plane = g / height;
    const int iy = (int)(g - plane * height);
    const int img = (int)(plane / channels), c = (int)(plane - (long)img * channels);
    __global REAL* out = dx + dxo + g * width;
    for (int ix = 0; ix < width; ix++) out[ix] = 0;
    for (int i = 0; i < kh; i++) {
        const int t = iy + ph - i * dh;
        if (t < 0) break;
        const int oy = div_pos(t, sh);
        if (oy * sh != t || oy >= outH) continue;
        for (int j = 0; j < kw; j++) {
            const int base = j * dw - pw;
            const int2 r = inside_range(base, sw, width, outW);
            __global const REAL* in = cols + co + (long)((c * kh + i) * kw + j) * q + ((long)img * outH + oy) * outW;
            for (int ox = r.x; ox < r.y; ox++) out[ox * sw + base] += in[ox];
        }
    }
}

/*
 * max_pool2d: work-item g = plane*outH + oy computes output row oy of one plane: the largest tap inside the image
 * and its plane index iy*width + ix, the first in row-major tap order; NaN beats everything and the first NaN stays.
 * The comparison is folded into selects: as a branch it mispredicts on about every other tap of random data.
 */
__kernel void max_pool2d(WINDOW, long lines, __global const REAL* x, long xo, __global REAL* y, long yo,
                         __global int* arg, long ao) {
    const long g = get_global_id(0);
    if (g >= lines) return;
    const long plane = g / outH;
    const int oy = (int)(g - plane * outH);
    __global const REAL* in = x + xo + plane * height * width;
    for (int ox = 0; ox < outW; ox++) {
        REAL m = 0;
        int best = -1;
        for (int i = 0; i < kh; i++) {
            const int iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= height) continue;
            for (int j = 0; j < kw; j++) {
                const int ix = ox * sw - pw + j * dw;
                if (ix < 0 || ix >= width) continue;
                const REAL v = in[iy * width + ix];
                const int take = (best < 0) | (v > m) | (isnan(v) & !isnan(m));
                best = take ? iy * width + ix : best;
                m = take ? v : m;
            }
        }
        y[yo + g * outW + ox] = m;
        arg[ao + g * outW + ox] = best;
    }
}

/* The output rows [lo, hi] whose window rows (oy*s - p + i*d, i < k) reach input row iy. */
inline int2 window_rows(int iy, int k, int s, int p, int d, int outH) {
    const int first = iy + p - (k - 1) * d;
    const int lo = first <= 0 ? 0 : (first + s - 1) / s;
    return (int2)(lo, min(outH - 1, (iy + p) / s));
}

/*
 * max_pool2d_backward as a gather: work-item g = plane*height + iy owns input row iy and adds dy of every output
 * (in output order) whose argmax lies in that row, scanning only the output rows whose windows reach it.
 */
__kernel void max_pool2d_backward(WINDOW, long lines, __global const REAL* dy, long dyo, __global const int* arg,
                                  long ao, __global REAL* dx, long dxo) {
    const long g = get_global_id(0);
    if (g >= lines) return;
    const long plane = g / height;
    const int iy = (int)(g - plane * height);
    __global REAL* out = dx + dxo + g * width;
    for (int ix = 0; ix < width; ix++) out[ix] = 0;
    const int2 rows = window_rows(iy, kh, sh, ph, dh, outH);
    const int first = iy * width;
    for (int oy = rows.x; oy <= rows.y; oy++) {
        const long o = (plane * outH + oy) * outW;
        for (int ox = 0; ox < outW; ox++) {
            const int a = arg[ao + o + ox] - first;
            if (a >= 0 && a < width) out[a] += dy[dyo + o + ox];
        }
    }
}

/* The divisor of output (oy, ox): the whole kernel, or only its taps inside the image. */
inline int avg_divisor(int includePad, int oy, int ox, int height, int width, int kh, int kw, int sh, int sw,
                       int ph, int pw) {
    if (includePad) return kh * kw;
    const int y0 = oy * sh - ph, x0 = ox * sw - pw;
    return (min(y0 + kh, height) - max(y0, 0)) * (min(x0 + kw, width) - max(x0, 0));
}

/* avg_pool2d: work-item g = plane*outH + oy computes output row oy of one plane (pooling has no dilation). */
__kernel void avg_pool2d(WINDOW, long lines, int includePad, __global const REAL* x, long xo, __global REAL* y,
                         long yo) {
    const long g = get_global_id(0);
    if (g >= lines) return;
    const long plane = g / outH;
    const int oy = (int)(g - plane * outH);
    __global const REAL* in = x + xo + plane * height * width;
    const int y0 = max(oy * sh - ph, 0), y1 = min(oy * sh - ph + kh, height);
    for (int ox = 0; ox < outW; ox++) {
        const int x0 = max(ox * sw - pw, 0), x1 = min(ox * sw - pw + kw, width);
        REAL sum = 0;
        for (int iy = y0; iy < y1; iy++) {
            for (int ix = x0; ix < x1; ix++) sum += in[iy * width + ix];
        }
        y[yo + g * outW + ox] = sum / (REAL)avg_divisor(includePad, oy, ox, height, width, kh, kw, sh, sw, ph, pw);
    }
}

/*
 * avg_pool2d_backward as a gather: work-item g = plane*height + iy owns input row iy and adds dy/divisor of every
 * window that covers it, in output order.
 */
__kernel void avg_pool2d_backward(WINDOW, long lines, int includePad, __global const REAL* dy, long dyo,
                                  __global REAL* dx, long dxo) {
    const long g = get_global_id(0);
    if (g >= lines) return;
    const long plane = g / height;
    const int iy = (int)(g - plane * height);
    __global REAL* out = dx + dxo + g * width;
    for (int ix = 0; ix < width; ix++) out[ix] = 0;
    const int2 rows = window_rows(iy, kh, sh, ph, 1, outH);
    for (int oy = rows.x; oy <= rows.y; oy++) {
        __global const REAL* grad = dy + dyo + (plane * outH + oy) * outW;
        for (int ox = 0; ox < outW; ox++) {
            const REAL v = grad[ox]
                    / (REAL)avg_divisor(includePad, oy, ox, height, width, kh, kw, sh, sw, ph, pw);
            const int x0 = max(ox * sw - pw, 0), x1 = min(ox * sw - pw + kw, width);
            for (int ix = x0; ix < x1; ix++) out[ix] += v;
        }
    }
}

#endif
