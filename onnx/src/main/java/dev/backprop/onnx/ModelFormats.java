package dev.backprop.onnx;

import dev.backprop.backend.Backend;
import dev.backprop.io.IoErrors;
import dev.backprop.model.SavedModel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The one place a model is opened from a file, whatever its format: a Backprop model file or checkpoint
 * (safetensors with the architecture in its metadata, read by {@link SavedModel}) or an ONNX file (read by
 * {@link OnnxImport}). {@code eval}, {@code predict}, {@code train --init} and {@code export} all load through here.
 */
public final class ModelFormats {
    private ModelFormats() {
    }

    /**
     * Rebuilds the model a file holds on {@code backend}, as FLOAT32, with its task and class names.
     *
     * @throws dev.backprop.io.ModelFileException when the file is not a usable model of either format
     */
    public static SavedModel.Loaded load(Path path, Backend backend) throws IOException {
        return load(path, backend, false);
    }

    /**
     * As {@link #load(Path, Backend)}; {@code allowNonFinite} loads weights that hold NaN or infinities with a logged
     * warning instead of refusing them.
     */
    public static SavedModel.Loaded load(Path path, Backend backend, boolean allowNonFinite) throws IOException {
        return load(path, backend, allowNonFinite, 0);
    }

    /**
     * As {@link #load(Path, Backend, boolean)}, the model's dropout layers drawing their masks from streams keyed by
     * {@code seed} ({@link SavedModel#load(Path, Backend, boolean, long)}): a run that trains on from the file
     * ({@code train --init}) draws the masks of its own {@code --seed}.
     */
    public static SavedModel.Loaded load(Path path, Backend backend, boolean allowNonFinite, long seed)
            throws IOException {
        return isOnnx(path) ? OnnxImport.load(path, backend, allowNonFinite, seed)
                : SavedModel.load(path, backend, allowNonFinite, seed);
    }

    /**
     * The metadata a model file records, read without building its network: a Backprop file's safetensors
     * {@code __metadata__} ({@link SavedModel#metadata(Path)}), or an ONNX file's metadata properties, which a
     * Backprop export copies from its model ({@link OnnxImport#read}: the file is parsed and its graph checked, as
     * {@link #load(Path, Backend)} does first). Lets a caller act on what a model records before reading its data.
     *
     * @throws dev.backprop.io.ModelFileException when the file is not a usable model of either format, naming it
     */
    public static Map<String, String> metadata(Path path) throws IOException {
        return isOnnx(path) ? OnnxImport.read(path).metadata() : SavedModel.metadata(path);
    }

    /**
     * Whether a file is to be read as ONNX: its name ends in {@code .onnx}, or it does not start like a safetensors
     * file (an 8-byte header length, then the character <code>{</code>) but like an ONNX model (field 1, the IR
     * version).
     */
    public static boolean isOnnx(Path path) throws IOException {
        if (path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx")) {
            return true;
        }
        if (!Files.isRegularFile(IoErrors.checkFile(path))) {
            return false;  // opening a named pipe waits for a writer: the safetensors reader refuses it by its kind
        }
        byte[] head = new byte[9];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        }
        return n == head.length && head[0] == 0x08 && head[8] != '{';
    }
}
