package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 loops on {@code jdk.incubator.vector} ({@link FloatVector#SPECIES_PREFERRED}). Exact operations
 * (arithmetic, comparisons, selections) finish their last {@code n mod L} elements with the scalar loops, which
 * give bit-identical results; unary ops are in {@link VectorUnary} (transcendental ones built on
 * {@link VectorMath}), binary ops in {@link VectorBinary}. LOG and POW use the scalar loops ({@link Math#log},
 * {@link Math#pow}).
 *
 * <p>Only loaded after {@link CpuVectorApi} has found the incubator module; nothing else refers to this class.
 */
final class VectorF32Kernels implements F32Kernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Integer lanes as many as the float lanes, for dropout's mask words. */
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);
    /**
     * The even (odd) elements of two vectors laid end to end: {@code a.rearrange(EVEN).blend(b.rearrange(EVEN),
     * SECOND)}. One-vector shuffles and a blend, since JDK 17 does not compile the two-vector rearrange to SIMD.
     */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i % L);
    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(S, i -> (2 * i + 1) % L);
    private static final VectorMask<Float> SECOND = VectorMask.fromLong(S, -1L << (L / 2));
    /** Vectors per block of {@link #sum} before the float partials move to double (16 per accumulator). */
    private static final int SUM_VECTORS = 64;
    /** Elements from which {@link #sum} reads four streams at once ({@link #sumStreams}). */
    static final int SUM_STREAMS_MIN = 1 << 15;

    private final ScalarF32Kernels scalar = new ScalarF32Kernels();

    @Override
    public String describe() {
        return "FloatVector " + L + " lanes";
    }

    @Override
    public void unary(UnaryOp op, double p1, double p2, float[] x, int xo, float[] y, int yo, int n) {
        if (VectorUnary.handles(op)) {
            VectorUnary.forward(op, (float) p1, (float) p2, x, xo, y, yo, n);
        } else {
            scalar.unary(op, p1, p2, x, xo, y, yo, n);
        }
    }

    @Override
    public void unaryBackward(UnaryOp op, double p1, double p2, float[] x, int xo, float[] g, int go, float[] dx,
                              int dxo, int n) {
        if (VectorUnary.handles(op)) {
            VectorUnary.backward(op, (float) p1, (float) p2, x, xo, g, go, dx, dxo, n);
        } else {
            scalar.unaryBackward(op, p1, p2, x, xo, g, go, dx, dxo, n);
        }
    }

    @Override
    public void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        int w = S.loopBound(n);
        VectorBinary.whole(op, a, ao, b, bo, out, oo, w);
        scalar.binary(op, a, ao + w, b, bo + w, out, oo + w, n - w);
    }

    @Override
    public void axpby(int n, float alpha, float[] x, int xo, float beta, float[] y, int yo) {
        int w = S.loopBound(n);
        if (beta == 0) {
            for (int i = 0; i < w; i += L) ld(x, xo + i).mul(alpha).intoArray(y, yo + i);
        } else {
            for (int i = 0; i < w; i += L) {
                ld(x, xo + i).mul(alpha).add(ld(y, yo + i).mul(beta)).intoArray(y, yo + i);
            }
        }
        scalar.axpby(n - w, alpha, x, xo + w, beta, y, yo + w);
    }

    @Override
    public void addScalar(float[] x, int xo, float s, float[] y, int yo, int n) {
        int w = S.loopBound(n);
        for (int i = 0; i < w; i += L) ld(x, xo + i).add(s).intoArray(y, yo + i);
        scalar.addScalar(x, xo + w, s, y, yo + w, n - w);
    }

    /**
     * Four float accumulators take 16 vectors each per block (so no float partial sums more than 16 values);
     * each block's partial is widened into double lanes, and the lanes are added across only once at the end
     * (against two accumulators and a horizontal add per 32 vectors: 16.2 to 19.4 GB/s over 16M floats on one
     * thread, same loop outside the backend).
     */
    @Override
    public double sum(float[] x, int xo, int n) {
        if (n >= SUM_STREAMS_MIN) {
            return sumStreams(x, xo, n);
        }
        DoubleVector t0 = DoubleVector.zero(D), t1 = t0;
        int i = 0;
        for (int block = SUM_VECTORS * L; i + block <= n; i += block) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (int j = xo + i, end = j + block; j < end; j += 4 * L) {
                s0 = s0.add(ld(x, j));
                s1 = s1.add(ld(x, j + L));
                s2 = s2.add(ld(x, j + 2 * L));
                s3 = s3.add(ld(x, j + 3 * L));
            }
            FloatVector s = s0.add(s1).add(s2.add(s3));
            t0 = t0.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0));
            t1 = t1.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 1));
        }
        double total = i == 0 ? 0 : t0.add(t1).reduceLanes(VectorOperators.ADD);
        return total + scalar.sum(x, xo + i, n - i);
    }

    @Override
    public void reluStreams(float[] x, int xo, float[] y, int yo, int q, int m) {
        VectorUnary.reluStreams(x, xo, y, yo, q, m);
    }

    /**
     * A long sum read as four quarters in one loop, one accumulator per quarter: four streams from memory at once
     * instead of one, which is what a single core needs to approach the memory's bandwidth (16M floats on one
     * thread, interleaved in one JVM: 1.4-1.55x over one stream, 1.2-1.3x over two). Each float partial still
     * takes 16 vectors per accumulator before it is widened, as in {@link #sum}; the rest after the four quarters
     * goes through the one-stream loop.
     */
    private double sumStreams(float[] x, int xo, int n) {
        int block = SUM_VECTORS / 4 * L;
        int q = n / 4 / block * block;
        DoubleVector t0 = DoubleVector.zero(D), t1 = t0;
        for (int i = xo, end = xo + q; i < end; i += block) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (int j = i, stop = i + block; j < stop; j += L) {
                s0 = s0.add(ld(x, j));
                s1 = s1.add(ld(x, j + q));
                s2 = s2.add(ld(x, j + 2 * q));
                s3 = s3.add(ld(x, j + 3 * q));
            }
            FloatVector s = s0.add(s1).add(s2.add(s3));
            t0 = t0.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0));
            t1 = t1.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 1));
        }
        double total = t0.add(t1).reduceLanes(VectorOperators.ADD);
        int rest = 4 * q;
        return rest == n ? total : total + sum(x, xo + rest, n - rest);
    }

    @Override
    public float max(float[] x, int xo, int n) {
        int w = S.loopBound(n);
        if (w == 0) {
            return scalar.max(x, xo, n);
        }
        FloatVector m = ld(x, xo);
        for (int i = L; i < w; i += L) m = m.max(ld(x, xo + i));
        float r = m.reduceLanes(VectorOperators.MAX);
        return w == n ? r : Math.max(r, scalar.max(x, xo + w, n - w));
    }

    @Override
    public double expShiftSum(float[] x, int xo, float shift, float[] y, int yo, int n) {
        addScalar(x, xo, -shift, y, yo, n);
        VectorUnary.forward(UnaryOp.EXP, 0, 0, y, yo, y, yo, n);
        return sum(y, yo, n);
    }

    /**
     * The shifts row by row, then the exponentials of all rows in one vector pass (a short softmax row, 10
     * logits, would otherwise go through the padded-tail path of the exp loop once per row), then the row sums:
     * the same operations on every element as {@link #expShiftSum} per row.
     */
    @Override
    public void expShiftSumRows(float[] x, int xo, float[] shifts, int rows, int cols, float[] y, int yo,
                                double[] sums) {
        for (int r = 0; r < rows; r++) {
            addScalar(x, xo + r * cols, -shifts[r], y, yo + r * cols, cols);
        }
        VectorUnary.forward(UnaryOp.EXP, 0, 0, y, yo, y, yo, rows * cols);
        for (int r = 0; r < rows; r++) {
            sums[r] = sum(y, yo + r * cols, cols);
        }
    }

    @Override
    public void sgdUpdate(int n, float[] p, int po, float[] g, int go, float[] v, int vo, float lr, float momentum,
                    float weightDecay, boolean nesterov) {
        int w = S.loopBound(n);
        for (int i = 0; i < w; i += L) {
            FloatVector pv = ld(p, po + i);
            FloatVector d = ld(g, go + i).add(pv.mul(weightDecay));
            if (v != null) {
                FloatVector vel = ld(v, vo + i).mul(momentum).add(d);
                vel.intoArray(v, vo + i);
                d = nesterov ? d.add(vel.mul(momentum)) : vel;
            }
            pv.sub(d.mul(lr)).intoArray(p, po + i);
        }
        scalar.sgdUpdate(n - w, p, po + w, g, go + w, v, vo + w, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public void adamUpdate(int n, float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo,
                     float decay, float l2, float beta1, float c1, float beta2, float c2, float stepSize, float vScale,
                     float eps) {
        int w = S.loopBound(n);
        for (int i = 0; i < w; i += L) {
            FloatVector pv = ld(p, po + i);
            FloatVector theta = pv.mul(decay);
            FloatVector grad = ld(g, go + i).add(pv.mul(l2));
            FloatVector mi = ld(m, mo + i).mul(beta1).add(grad.mul(c1));
            FloatVector vi = ld(v, vo + i).mul(beta2).add(grad.mul(c2).mul(grad));
            mi.intoArray(m, mo + i);
            vi.intoArray(v, vo + i);
            theta.sub(mi.mul(stepSize).div(vi.mul(vScale).sqrt().add(eps))).intoArray(p, po + i);
        }
        scalar.adamUpdate(n - w, p, po + w, g, go + w, m, mo + w, v, vo + w, decay, l2, beta1, c1, beta2, c2, stepSize,
                vScale, eps);
    }

    /**
     * Batch norm's second pass over one run of a channel: two float accumulators of at most 16 vectors each per
     * block, widened into double lanes as in {@link #sum}.
     */
    @Override
    public double sumSquaredDeviations(float[] x, int xo, int n, float shift) {
        DoubleVector t0 = DoubleVector.zero(D), t1 = t0;
        int i = 0;
        for (int block = 32 * L; i + block <= n; i += block) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0;
            for (int j = xo + i, end = j + block; j < end; j += 2 * L) {
                FloatVector d0 = ld(x, j).sub(shift), d1 = ld(x, j + L).sub(shift);
                s0 = d0.fma(d0, s0);
                s1 = d1.fma(d1, s1);
            }
            FloatVector s = s0.add(s1);
            t0 = t0.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0));
            t1 = t1.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 1));
        }
        for (; i + L <= n; i += L) {
            FloatVector d = ld(x, xo + i).sub(shift), s = d.mul(d);
            t0 = t0.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0));
            t1 = t1.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 1));
        }
        return t0.add(t1).reduceLanes(VectorOperators.ADD) + scalar.sumSquaredDeviations(x, xo + i, n - i, shift);
    }

    @Override
    public double sumProductDeviations(float[] g, int go, float[] x, int xo, int n, float shift) {
        DoubleVector t0 = DoubleVector.zero(D), t1 = t0;
        int i = 0;
        for (int block = 32 * L; i + block <= n; i += block) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0;
            for (int j = 0; j < block; j += 2 * L) {
                s0 = ld(g, go + i + j).fma(ld(x, xo + i + j).sub(shift), s0);
                s1 = ld(g, go + i + j + L).fma(ld(x, xo + i + j + L).sub(shift), s1);
            }
            FloatVector s = s0.add(s1);
            t0 = t0.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0));
            t1 = t1.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 1));
        }
        for (; i + L <= n; i += L) {
            FloatVector s = ld(g, go + i).mul(ld(x, xo + i).sub(shift));
            t0 = t0.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0));
            t1 = t1.add((DoubleVector) s.convertShape(VectorOperators.F2D, D, 1));
        }
        return t0.add(t1).reduceLanes(VectorOperators.ADD)
                + scalar.sumProductDeviations(g, go + i, x, xo + i, n - i, shift);
    }

    @Override
    public void scaleShiftDeviations(float[] x, int xo, float shift, float a, float b, float[] y, int yo, int n) {
        int w = S.loopBound(n);
        for (int i = 0; i < w; i += L) ld(x, xo + i).sub(shift).mul(a).add(b).intoArray(y, yo + i);
        scalar.scaleShiftDeviations(x, xo + w, shift, a, b, y, yo + w, n - w);
    }

    @Override
    public void combineDeviations(float[] u, int uo, float a, float[] v, int vo, float shift, float b, float c,
                                  float[] y, int yo, int n) {
        int w = S.loopBound(n);
        for (int i = 0; i < w; i += L) {
            ld(u, uo + i).mul(a).add(ld(v, vo + i).sub(shift).mul(b)).add(c).intoArray(y, yo + i);
        }
        scalar.combineDeviations(u, uo + w, a, v, vo + w, shift, b, c, y, yo + w, n - w);
    }

    /** The keep test in integer lanes (as wide as the float lanes), then one rounded multiply and a blend. */
    @Override
    public void dropout(int[] words, int wo, int threshold, float[] x, int xo, float scale, float[] y, int yo,
                        int n) {
        int w = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < w; i += L) {
            VectorMask<Integer> keep = IntVector.fromArray(I, words, wo + i).lanewise(VectorOperators.LSHR, 8)
                    .compare(VectorOperators.GE, threshold);
            zero.blend(ld(x, xo + i).mul(scale), keep.cast(S)).intoArray(y, yo + i);
        }
        scalar.dropout(words, wo + w, threshold, x, xo + w, scale, y, yo + w, n - w);
    }

    /**
     * Two passes over one plane. Across: each pair of neighbours in a row (never split by a row end, the width being
     * even) gives its first largest and whether the right one won, for the rows read, as one flat run: the pairs of
     * {@code 2L} inputs are separated by two lane shuffles. Down: row {@code 2oy} of those against row
     * {@code 2oy + 1}, a vector per output row (lanes past the row's end compute values the next row then
     * overwrites; the plane's last vector goes through a scratch copy so nothing past the plane is written).
     * Taking each pair's first largest, then the first largest of the two rows, is the same as comparing the four
     * taps in row-major order.
     */
    @Override
    public void maxPool2x2(float[] x, int xo, int width, int outH, float[] y, int yo, int[] arg, int ao, float[] h,
                           int[] hb) {
        int ow = width / 2, pairs = outH * width;
        int m = 0;
        for (; m + L <= pairs; m += L) {
            FloatVector v0 = ld(x, xo + 2 * m), v1 = ld(x, xo + 2 * m + L);
            FloatVector even = v0.rearrange(EVEN).blend(v1.rearrange(EVEN), SECOND);
            FloatVector odd = v0.rearrange(ODD).blend(v1.rearrange(ODD), SECOND);
            VectorMask<Float> wins = firstLoses(even, odd);
            even.blend(odd, wins).intoArray(h, m);
            IntVector.zero(I).blend(1, wins.cast(I)).intoArray(hb, m);
        }
        for (; m < pairs; m++) {
            float a = x[xo + 2 * m], b = x[xo + 2 * m + 1];
            boolean wins = b > a | b != b & a == a;
            h[m] = wins ? b : a;
            hb[m] = wins ? 1 : 0;
        }
        int outputs = outH * ow, spill = pairs + 2 * L;
        IntVector lanes = IntVector.zero(I).addIndex(2);
        for (int oy = 0; oy < outH; oy++) {
            int r0 = 2 * oy * ow, r1 = r0 + ow;
            for (int ox = 0; ox < ow; ox += L) {
                FloatVector top = ld(h, r0 + ox), bottom = ld(h, r1 + ox);
                VectorMask<Float> wins = firstLoses(top, bottom);
                VectorMask<Integer> down = wins.cast(I);
                IntVector col = IntVector.fromArray(I, hb, r0 + ox).blend(IntVector.fromArray(I, hb, r1 + ox), down);
                IntVector index = lanes.add(2 * oy * width + 2 * ox).add(col)
                        .add(IntVector.zero(I).blend(width, down));
                int q = oy * ow + ox;
                if (q + L <= outputs) {
                    top.blend(bottom, wins).intoArray(y, yo + q);
                    index.intoArray(arg, ao + q);
                } else {
                    top.blend(bottom, wins).intoArray(h, spill);
                    index.intoArray(hb, spill);
                    System.arraycopy(h, spill, y, yo + q, outputs - q);
                    System.arraycopy(hb, spill, arg, ao + q, outputs - q);
                }
            }
        }
    }

    /**
     * Where {@code later} beats {@code first} under the first-largest rule: larger, or NaN against a number. Built
     * with comparisons and blends only (a NaN is the value unequal to itself): JDK 17 compiles neither
     * {@code test(IS_NAN)} nor the logical operations of masks to SIMD.
     */
    private static VectorMask<Float> firstLoses(FloatVector first, FloatVector later) {
        FloatVector zero = FloatVector.zero(S);
        return zero.blend(1f, later.compare(VectorOperators.GT, first))
                .blend(1f, later.compare(VectorOperators.NE, later))
                .blend(0f, first.compare(VectorOperators.NE, first))
                .compare(VectorOperators.NE, 0f);
    }

    @Override
    public int maxPoolScratch(int width, int outH) {
        return outH * width + 3 * L;
    }

    private static FloatVector ld(float[] a, int i) {
        return FloatVector.fromArray(S, a, i);
    }
}
