package dev.backprop.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.HeapBudget;
import dev.backprop.io.IoErrors;
import dev.backprop.io.ModelFileException;
import dev.backprop.onnx.proto.Onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads an untrusted ONNX file into its protobuf message, and the tensors in it into arrays, checking every size
 * against the bytes that back it before allocating: a file can make this reader allocate no more than about its own
 * size (once for the bytes, once for the messages, once for the decoded weights).
 */
final class OnnxReader {
    /** Protobuf messages cannot exceed 2 GiB; larger ONNX models keep their weights in external files. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;
    /** Messages nest about 6 deep in a model Backprop reads; subgraphs and nested types add more, never 32. */
    static final int MAX_NESTING = 32;
    /** The most elements one tensor may hold (a Java array's limit). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private OnnxReader() {
    }

    /**
     * Parses a whole file, with protobuf's size limit set to the file's size and its nesting limit to
     * {@value #MAX_NESTING}.
     *
     * @throws ModelFileException when the file is too large for the heap or the format, or is not a protobuf
     *                            message
     */
    static Onnx.ModelProto parse(Path path) throws IOException {
        try {
            IoErrors.checkModelFile(path);
        } catch (ModelFileException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFileException(IoErrors.message(e), e);
        }
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {  // the size and bytes of one file
            bytes = readAll(path, ch);
        }
        if (bytes.length == 0) {
            throw new ModelFileException(path + ": the file is empty, not an ONNX model");
        }
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        in.setSizeLimit(bytes.length);
        in.setRecursionLimit(MAX_NESTING);
        try {
            Onnx.ModelProto model = Onnx.ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
            return model;
        } catch (InvalidProtocolBufferException e) {
            throw new ModelFileException(path + ": not a readable ONNX file: " + oneLine(e.getMessage()), e);
        } catch (RuntimeException e) {
            throw new ModelFileException(path + ": not a readable ONNX file: " + oneLine(String.valueOf(e)), e);
        }
    }

    /**
     * The channel's bytes, after checking their number against the format and the heap: read from the channel whose
     * size was checked, so a file replaced by a larger one meanwhile cannot bypass the check.
     */
    private static byte[] readAll(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size > MAX_FILE_BYTES) {
            throw new ModelFileException(path + ": " + size + " bytes is more than an ONNX file can hold (2 GiB); "
                    + "models that large keep their weights in external data files, which Backprop does not read");
        }
        String shortfall = HeapBudget.shortfall(size * 3);    // the bytes, the parsed messages, the weights
        if (shortfall != null) {
            throw new ModelFileException(path + ": reading its " + size + " bytes " + shortfall);
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                break;
            }
        }
        if (b.hasRemaining()) {
            throw new ModelFileException(path + ": the file shrank from " + size + " to " + b.position()
                    + " bytes while it was read");
        }
        return b.array();
    }

    /**
     * A FLOAT tensor's elements, after checking its dimensions and that its data holds exactly that many elements.
     *
     * @param what names the tensor in messages ({@code node 'Gemm_0' (Gemm) input 'fc.weight'})
     */
    static HostTensor floats(Onnx.TensorProto t, String what) throws ModelFileException {
        int[] dims = dims(t, what);
        int n = count(dims, what);
        requireInline(t, what);
        if (t.getDataType() != Onnx.TensorProto.DataType.FLOAT_VALUE) {
            throw new ModelFileException(what + " is " + typeName(t.getDataType()) + ", expected FLOAT");
        }
        int listed = t.getFloatDataCount();
        long raw = t.getRawData().size();
        checkDataSize(what, n, 4, listed, raw);
        float[] data = new float[n];
        if (raw > 0) {
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
        } else {
            for (int i = 0; i < n; i++) {
                data[i] = t.getFloatData(i);
            }
        }
        return new HostTensor(dims, data);
    }

    /** An INT64 tensor's elements (shapes given as constants), checked like {@link #floats}. */
    static long[] int64s(Onnx.TensorProto t, String what) throws ModelFileException {
        int n = count(dims(t, what), what);
        requireInline(t, what);
        if (t.getDataType() != Onnx.TensorProto.DataType.INT64_VALUE) {
            throw new ModelFileException(what + " is " + typeName(t.getDataType()) + ", expected INT64");
        }
        int listed = t.getInt64DataCount();
        long raw = t.getRawData().size();
        checkDataSize(what, n, 8, listed, raw);
        long[] data = new long[n];
        if (raw > 0) {
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().get(data);
        } else {
            for (int i = 0; i < n; i++) {
                data[i] = t.getInt64Data(i);
            }
        }
        return data;
    }

    /** A BOOL scalar (Dropout's training_mode). */
    static boolean bool(Onnx.TensorProto t, String what) throws ModelFileException {
        int n = count(dims(t, what), what);
        requireInline(t, what);
        if (t.getDataType() != Onnx.TensorProto.DataType.BOOL_VALUE || n != 1) {
            throw new ModelFileException(what + " must be one BOOL, got " + typeName(t.getDataType()) + " with " + n
                    + " element(s)");
        }
        checkDataSize(what, n, 1, t.getInt32DataCount(), t.getRawData().size());
        return t.getRawData().isEmpty() ? t.getInt32Data(0) != 0 : t.getRawData().byteAt(0) != 0;
    }

    static int[] dims(Onnx.TensorProto t, String what) throws ModelFileException {
        if (t.getDimsCount() > 8) {
            throw new ModelFileException(what + " has " + t.getDimsCount() + " dimensions; Backprop reads at most 8");
        }
        int[] dims = new int[t.getDimsCount()];
        for (int i = 0; i < dims.length; i++) {
            long d = t.getDims(i);
            if (d < 0 || d > MAX_ELEMENTS) {
                throw new ModelFileException(what + " has dimension " + d + " in " + t.getDimsList());
            }
            dims[i] = (int) d;
        }
        return dims;
    }

    private static int count(int[] dims, String what) throws ModelFileException {
        long n = 1;
        for (int d : dims) {
            n *= d;
            if (n > MAX_ELEMENTS) {
                throw new ModelFileException(what + " has dimensions " + java.util.Arrays.toString(dims)
                        + ": more elements than one tensor can hold");
            }
        }
        return (int) n;
    }

    private static void requireInline(Onnx.TensorProto t, String what) throws ModelFileException {
        if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            String file = t.getExternalDataList().stream().filter(e -> e.getKey().equals("location"))
                    .map(e -> quote(e.getValue())).findFirst().orElse("an external file");
            throw new ModelFileException(what + " keeps its data in " + file + "; Backprop reads only self-contained "
                    + "ONNX files (save without external data)");
        }
        if (t.hasSegment()) {
            throw new ModelFileException(what + " is a segment of a larger tensor, which Backprop does not read");
        }
    }

    private static void checkDataSize(String what, int n, int elementBytes, int listed, long raw)
            throws ModelFileException {
        if (listed > 0 && raw > 0) {
            throw new ModelFileException(what + " holds both raw and typed data");
        }
        if (raw > 0 ? raw != (long) n * elementBytes : listed != n) {
            throw new ModelFileException(what + " has " + n + " elements by its dimensions but its data holds "
                    + (raw > 0 ? raw + " bytes (" + (long) n * elementBytes + " expected)" : listed + " values"));
        }
    }

    /** The data type's name ({@code FLOAT}), or its number when unknown. */
    static String typeName(int dataType) {
        Onnx.TensorProto.DataType t = Onnx.TensorProto.DataType.forNumber(dataType);
        return t == null ? "data type " + dataType : t.name();
    }

    /** A name from the file, quoted and made safe for a one-line message (control characters escaped, cut at 80). */
    static String quote(String s) {
        return "'" + DataFormatException.oneLine(s.length() > 80 ? s.substring(0, 80) + "..." : s) + "'";
    }

    /** A message on one line (protobuf's are, but a cause's may not be). */
    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }
}
