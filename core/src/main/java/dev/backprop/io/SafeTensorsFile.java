package dev.backprop.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes the safetensors format (an 8-byte header length, a JSON header, the tensors' bytes). Writing is
 * atomic ({@link AtomicFile}): a crash leaves the old file or the new one, never half of one. Reading validates the
 * whole header before any tensor is made, and checks each floating tensor's values with {@link StateValues} (after
 * conversion to the dtype asked for, so an F64 value past float32's range counts): NaN and infinities are refused
 * unless the file was opened to allow them, which logs a warning instead, and a batch norm's negative
 * {@code running_var} always.
 */
public final class SafeTensorsFile implements AutoCloseable {
    private final FileChannel channel;
    private final SafeTensorsHeader header;
    private final boolean allowNonFinite;

    private SafeTensorsFile(FileChannel channel, SafeTensorsHeader header, boolean allowNonFinite) {
        this.channel = channel;
        this.header = header;
        this.allowNonFinite = allowNonFinite;
    }

    /**
     * Opens a file and validates its header; its floating tensors must be finite.
     *
     * @throws ModelFileException when the file is not a valid safetensors file (the message says why)
     * @throws IOException        when it cannot be read
     */
    public static SafeTensorsFile open(Path path) throws IOException {
        return open(path, false);
    }

    /**
     * Opens a file and validates its header.
     *
     * @param allowNonFinite read floating tensors that hold NaN or infinities (with a logged warning naming the
     *                       tensor) instead of refusing them
     * @throws ModelFileException when the path is not a regular file or not a valid safetensors file (the message
     *                            says why)
     * @throws IOException        when it cannot be read
     */
    public static SafeTensorsFile open(Path path, boolean allowNonFinite) throws IOException {
        FileChannel ch = FileChannel.open(IoErrors.checkModelFile(path), StandardOpenOption.READ);
        try {
            return new SafeTensorsFile(ch, SafeTensorsHeader.read(ch, path.toString()), allowNonFinite);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The validated header. */
    SafeTensorsHeader header() {
        return header;
    }

    /** {@return the path the file was opened as, for messages} */
    public String file() {
        return header.file();
    }

    /** {@return the file's {@code __metadata__}: string keys to string values, in the file's order} */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** {@return each tensor's name and shape, in the file's order (a copy: the caller may keep or change it)} */
    public Map<String, int[]> shapes() {
        Map<String, int[]> m = new LinkedHashMap<>();
        header.entries().forEach((name, e) -> m.put(name, e.shape().clone()));
        return m;
    }

    /**
     * Checks that tensor {@code name} exists and can become a {@code dtype} tensor (F32 and F64 convert into each
     * other; I32 stays I32), without reading it.
     *
     * @throws ModelFileException when it does not
     */
    SafeTensorsHeader.Entry require(String name, DType dtype) throws ModelFileException {
        SafeTensorsHeader.Entry e = entry(name);
        boolean fits = dtype.isFloating() ? e.dtype().isFloating() : e.dtype().tensorType() == dtype;
        if (!fits) {
            throw new ModelFileException(header.file() + ": tensor '" + name + "' is " + e.dtype().safetensorsName()
                    + ", expected " + (dtype.isFloating() ? "F32 or F64" : dtype.safetensorsName()));
        }
        return e;
    }

    /**
     * Checks that {@code name} is a 64-bit integer scalar (I64, shape {@code []}, as PyTorch stores
     * {@code num_batches_tracked}), without reading it.
     *
     * @throws ModelFileException when it is missing or anything else
     */
    SafeTensorsHeader.Entry requireInt64Scalar(String name) throws ModelFileException {
        SafeTensorsHeader.Entry e = entry(name);
        if (e.dtype() != SafeTensorsType.I64 || e.shape().length != 0) {
            throw new ModelFileException(header.file() + ": tensor '" + name + "' is " + e.dtype().safetensorsName()
                    + " " + Arrays.toString(e.shape()) + ", expected an I64 scalar (shape [])");
        }
        return e;
    }

    /**
     * Reads the 64-bit integer scalar {@code name} (I64, shape {@code []}, as PyTorch stores
     * {@code num_batches_tracked}).
     *
     * @throws ModelFileException when it is missing or anything else
     */
    public long readInt64Scalar(String name) throws IOException {
        SafeTensorsHeader.Entry e = requireInt64Scalar(name);
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        SafeTensorsHeader.readFully(channel, bytes, header.dataStart() + e.begin(), header.file(),
                "tensor '" + name + "'");
        return bytes.getLong(0);
    }

    private SafeTensorsHeader.Entry entry(String name) throws ModelFileException {
        SafeTensorsHeader.Entry e = header.entries().get(name);
        if (e == null) {
            throw new ModelFileException(header.file() + ": no tensor '" + name + "'");
        }
        return e;
    }

    /**
     * Reads tensor {@code name} into a new {@code dtype} tensor on {@code backend} (F32 and F64 convert into each
     * other; I32 stays I32).
     *
     * @throws ModelFileException when it does not fit {@code dtype}, the heap has no room for it, it holds a
     *                            non-finite value that this file was not opened to allow, or it is a batch norm's
     *                            {@code running_var} with a negative value
     */
    public Tensor read(String name, Backend backend, DType dtype) throws IOException {
        SafeTensorsHeader.Entry e = require(name, dtype);
        long size = e.end() - e.begin();
        String shortfall = dev.backprop.data.HeapBudget.shortfall(size + e.elements() * dtype.byteSize());
        if (shortfall != null) {
            throw new ModelFileException(header.file() + ": reading tensor '" + name + "' (" + size + " bytes) "
                    + shortfall);
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
        SafeTensorsHeader.readFully(channel, bytes, header.dataStart() + e.begin(), header.file(),
                "tensor '" + name + "'");
        bytes.flip();
        int n = (int) e.elements();
        // Tensor.of with no dimensions makes a vector, so a rank-0 tensor is built from its one element.
        int[] dims = e.shape().length == 0 ? new int[] {1} : e.shape();
        Tensor t = switch (dtype) {
            case INT32 -> {
                int[] v = new int[n];
                bytes.asIntBuffer().get(v);
                yield Tensor.of(backend, v, dims);
            }
            case FLOAT32 -> {
                float[] v = new float[n];
                if (e.dtype() == SafeTensorsType.F32) {
                    bytes.asFloatBuffer().get(v);
                } else {
                    for (int i = 0; i < n; i++) {
                        v[i] = (float) bytes.getDouble(8 * i);
                    }
                }
                StateValues.check(header.file(), name, e.shape(), v, allowNonFinite);
                yield Tensor.of(backend, v, dims);
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                if (e.dtype() == SafeTensorsType.F64) {
                    bytes.asDoubleBuffer().get(v);
                } else {
                    for (int i = 0; i < n; i++) {
                        v[i] = bytes.getFloat(4 * i);
                    }
                }
                StateValues.check(header.file(), name, e.shape(), v, allowNonFinite);
                yield Tensor.of(backend, v, dims);
            }
        };
        if (e.shape().length == 0) {
            try (Tensor vector = t) {
                Tensor scalar = Tensor.empty(backend, dtype, dev.backprop.tensor.Shape.of());
                Elementwise.copy(vector, scalar);
                return scalar;
            }
        }
        return t;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /**
     * Writes {@code tensors} (in map order, data back to back) and {@code metadata} to {@code path}, atomically.
     *
     * @throws IOException when the file cannot be written (the target is then unchanged)
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        write(path, tensors, Map.of(), metadata);
    }

    /**
     * Writes {@code int64} as I64 scalars (shape {@code []}, first, so every 8-byte value stays 8-byte aligned),
     * then {@code tensors} (in map order, data back to back), with {@code metadata}, to {@code path}, atomically.
     *
     * @throws IllegalArgumentException when a name is empty, {@code __metadata__} or given twice
     * @throws IOException              when the file cannot be written (the target is then unchanged)
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, Long> int64,
                             Map<String, String> metadata) throws IOException {
        for (String name : int64.keySet()) {
            if (tensors.containsKey(name)) {
                throw new IllegalArgumentException("tensor name '" + name + "' given twice");
            }
        }
        byte[] headerBytes = headerBytes(tensors, int64, metadata);
        AtomicFile.write(path, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length).array());
            out.write(headerBytes);
            for (long v : int64.values()) {
                out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v).array());
            }
            for (Tensor t : tensors.values()) {
                out.write(data(t).array());
            }
        });
    }

    private static byte[] headerBytes(Map<String, Tensor> tensors, Map<String, Long> int64,
                                      Map<String, String> metadata) {
        JsonObject root = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach(m::addProperty);
            root.add(SafeTensorsHeader.METADATA_KEY, m);
        }
        long offset = 0;
        for (String name : int64.keySet()) {
            offset = entry(root, name, SafeTensorsType.I64, new int[0], offset, 8);
        }
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            t.checkOpen();
            offset = entry(root, e.getKey(), SafeTensorsType.of(t.dtype()), t.shape().dims(), offset,
                    t.size() * t.dtype().byteSize());
        }
        StringBuilder json = new StringBuilder(root.toString());
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while ((8 + json.toString().getBytes(StandardCharsets.UTF_8).length) % 8 != 0) {
            json.append(' ');
        }
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Adds tensor {@code name}'s header entry at data offset {@code offset}; returns the offset after it. */
    private static long entry(JsonObject root, String name, SafeTensorsType type, int[] dims, long offset,
                              long bytes) {
        if (name.equals(SafeTensorsHeader.METADATA_KEY) || name.isEmpty()) {
            throw new IllegalArgumentException("invalid tensor name '" + name + "'");
        }
        JsonObject o = new JsonObject();
        o.addProperty("dtype", type.safetensorsName());
        JsonArray shape = new JsonArray();
        for (int d : dims) {
            shape.add(d);
        }
        o.add("shape", shape);
        JsonArray off = new JsonArray();
        off.add(offset);
        off.add(offset + bytes);
        o.add("data_offsets", off);
        root.add(name, o);
        return offset + bytes;
    }

    private static ByteBuffer data(Tensor t) {
        int n = Math.toIntExact(t.size());
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(n, t.dtype().byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32 -> b.asFloatBuffer().put(t.toFloatArray());
            case FLOAT64 -> b.asDoubleBuffer().put(t.toDoubleArray());
            case INT32 -> b.asIntBuffer().put(t.toIntArray());
        }
        return b;
    }

}
