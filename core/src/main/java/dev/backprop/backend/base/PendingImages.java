package dev.backprop.backend.base;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.Window2d;

/**
 * INTEGRATION PLACEHOLDER, removed before this branch reaches main: the image and normalization families of a
 * backend module whose kernels are still being written, so the reactor builds meanwhile. Every call fails.
 */
public final class PendingImages<B> implements OpFamilies.Images<B>, OpFamilies.Normalization<B> {
    private final String backend;

    public PendingImages(String backend) {
        this.backend = backend;
    }

    private BackendFailureException pending(String op) {
        return new BackendFailureException(backend + ": " + op + " has no kernel in this build yet");
    }

    @Override
    public void im2col(Window2d w, B x, long xOffset, B cols, long colsOffset) {
        throw pending("im2col");
    }

    @Override
    public void col2im(Window2d w, B cols, long colsOffset, B dx, long dxOffset) {
        throw pending("col2im");
    }

    @Override
    public void copyStrided(int[] sizes, B src, long srcOffset, long[] srcStrides, B dst, long dstOffset) {
        throw pending("copyStrided");
    }

    @Override
    public void maxPool2d(Window2d w, B x, long xOffset, B y, long yOffset, B argmax, long argmaxOffset) {
        throw pending("maxPool2d");
    }

    @Override
    public void maxPool2dBackward(Window2d w, B dy, long dyOffset, B argmax, long argmaxOffset, B dx, long dxOffset) {
        throw pending("maxPool2dBackward");
    }

    @Override
    public void avgPool2d(Window2d w, boolean countIncludePad, B x, long xOffset, B y, long yOffset) {
        throw pending("avgPool2d");
    }

    @Override
    public void avgPool2dBackward(Window2d w, boolean countIncludePad, B dy, long dyOffset, B dx, long dxOffset) {
        throw pending("avgPool2dBackward");
    }

    @Override
    public void batchNormStats(int n, int c, int s, B x, long xOffset, B mean, long meanOffset, B var,
                               long varOffset) {
        throw pending("batchNormStats");
    }

    @Override
    public void batchNormForward(int n, int c, int s, double eps, B x, long xOffset, B mean, long meanOffset, B var,
                                 long varOffset, B gamma, long gammaOffset, B beta, long betaOffset, B y,
                                 long yOffset) {
        throw pending("batchNormForward");
    }

    @Override
    public void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, B x, long xOffset, B dy,
                                  long dyOffset, B mean, long meanOffset, B var, long varOffset, B gamma,
                                  long gammaOffset, B dx, long dxOffset, B dgamma, long dgammaOffset, B dbeta,
                                  long dbetaOffset) {
        throw pending("batchNormBackward");
    }

    @Override
    public void dropout(long n, int threshold, double scale, long seed, long offset, B x, long xOffset, B y,
                        long yOffset) {
        throw pending("dropout");
    }
}
