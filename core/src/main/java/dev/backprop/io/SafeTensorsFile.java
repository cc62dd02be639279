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
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Reads and writes the safetensors format (see {@link SafeTensorsHeader}). Writing is atomic: the file is written
 * to a temporary file beside the target, forced to disk, then renamed over it, so a crash leaves the old file or
 * the new one, never half of one. Reading validates the whole header before any tensor is made.
 */
public final class SafeTensorsFile implements AutoCloseable {
    private final FileChannel channel;
    private final SafeTensorsHeader header;

    private SafeTensorsFile(FileChannel channel, SafeTensorsHeader header) {
        this.channel = channel;
        this.header = header;
    }

    /**
     * Opens a file and validates its header.
     *
     * @throws ModelFileException when the file is not a valid safetensors file (the message says why)
     * @throws IOException        when it cannot be read
     */
    public static SafeTensorsFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new SafeTensorsFile(ch, SafeTensorsHeader.read(ch, path.toString()));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The validated header. */
    public SafeTensorsHeader header() {
        return header;
    }

    /**
     * Checks that tensor {@code name} exists and can become a {@code dtype} tensor (F32 and F64 convert into each
     * other; I32 stays I32), without reading it.
     *
     * @throws ModelFileException when it does not
     */
    public SafeTensorsHeader.Entry require(String name, DType dtype) throws ModelFileException {
        SafeTensorsHeader.Entry e = header.entries().get(name);
        if (e == null) {
            throw new ModelFileException(header.file() + ": no tensor '" + name + "'");
        }
        if (e.dtype().isFloating() != dtype.isFloating()) {
            throw new ModelFileException(header.file() + ": tensor '" + name + "' is " + e.dtype().safetensorsName()
                    + ", expected " + (dtype.isFloating() ? "F32 or F64" : dtype.safetensorsName()));
        }
        return e;
    }

    /**
     * Reads tensor {@code name} into a new {@code dtype} tensor on {@code backend} (see {@link #require}).
     */
    public Tensor read(String name, Backend backend, DType dtype) throws IOException {
        SafeTensorsHeader.Entry e = require(name, dtype);
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
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
                if (e.dtype() == DType.FLOAT32) {
                    bytes.asFloatBuffer().get(v);
                } else {
                    for (int i = 0; i < n; i++) {
                        v[i] = (float) bytes.getDouble(8 * i);
                    }
                }
                yield Tensor.of(backend, v, dims);
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                if (e.dtype() == DType.FLOAT64) {
                    bytes.asDoubleBuffer().get(v);
                } else {
                    for (int i = 0; i < n; i++) {
                        v[i] = bytes.getFloat(4 * i);
                    }
                }
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
        byte[] headerBytes = headerBytes(tensors, metadata);
        Path dir = path.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + path.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length);
                writeFully(ch, len.flip());
                writeFully(ch, ByteBuffer.wrap(headerBytes));
                for (Tensor t : tensors.values()) {
                    writeFully(ch, data(t));
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static byte[] headerBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        JsonObject root = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach(m::addProperty);
            root.add(SafeTensorsHeader.METADATA_KEY, m);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            t.checkOpen();
            if (e.getKey().equals(SafeTensorsHeader.METADATA_KEY) || e.getKey().isEmpty()) {
                throw new IllegalArgumentException("invalid tensor name '" + e.getKey() + "'");
            }
            JsonObject o = new JsonObject();
            o.addProperty("dtype", t.dtype().safetensorsName());
            JsonArray shape = new JsonArray();
            for (int d : t.shape().dims()) {
                shape.add(d);
            }
            o.add("shape", shape);
            long bytes = t.size() * t.dtype().byteSize();
            JsonArray off = new JsonArray();
            off.add(offset);
            off.add(offset + bytes);
            o.add("data_offsets", off);
            root.add(e.getKey(), o);
            offset += bytes;
        }
        StringBuilder json = new StringBuilder(root.toString());
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while ((8 + json.toString().getBytes(StandardCharsets.UTF_8).length) % 8 != 0) {
            json.append(' ');
        }
        return json.toString().getBytes(StandardCharsets.UTF_8);
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

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
