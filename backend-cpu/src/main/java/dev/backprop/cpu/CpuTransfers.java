package dev.backprop.cpu;

import dev.backprop.backend.HostArray;
import dev.backprop.backend.base.OpFamilies;

import java.util.Arrays;

/**
 * Host transfers, copies and fills of the cpu backend: array copies on the calling thread; nothing is queued. A
 * source is read through {@link CpuBuffer#readOnly}, so downloading or copying a dense layer's weights keeps their
 * {@link PackedPanels}.
 */
final class CpuTransfers implements OpFamilies.Transfers<CpuBuffer> {
    @Override
    public void upload(HostArray src, CpuBuffer dst, long dstOffset) {
        System.arraycopy(src.array(), src.offset(), dst.array(), (int) dstOffset, src.length());
    }

    @Override
    public void download(CpuBuffer src, long srcOffset, HostArray dst) {
        System.arraycopy(src.readOnly(), (int) srcOffset, dst.array(), dst.offset(), dst.length());
    }

    @Override
    public void copy(CpuBuffer src, long srcOffset, CpuBuffer dst, long dstOffset, long length) {
        System.arraycopy(CpuBuffer.source(src, dst), (int) srcOffset, dst.array(), (int) dstOffset, (int) length);
    }

    @Override
    public void fill(CpuBuffer dst, long offset, long length, double value) {
        int from = (int) offset, to = (int) (offset + length);
        switch (dst.dtype()) {
            case FLOAT32 -> Arrays.fill(dst.floats(), from, to, (float) value);
            case FLOAT64 -> Arrays.fill(dst.doubles(), from, to, value);
            case INT32 -> Arrays.fill(dst.ints(), from, to, (int) value);
        }
    }

    /** Ops run synchronously: there is nothing to wait for. */
    @Override
    public void synchronize() {
    }
}
