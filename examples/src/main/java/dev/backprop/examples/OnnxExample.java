package dev.backprop.examples;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.backprop.backend.Backend;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.model.SavedModel;
import dev.backprop.onnx.OnnxExport;
import dev.backprop.runtime.Backends;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Serving with ONNX Runtime: exports a Backprop model file (such as the one {@link SaveLoadPredict} writes) as
 * ONNX, then classifies the first 16 Fashion-MNIST test images with ONNX Runtime's Java package. Arguments: the
 * model file (default {@code fashion.safetensors}) and the ONNX file to write (default {@code fashion.onnx}).
 */
public final class OnnxExample {
    private OnnxExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the model file and the ONNX file, both optional
     * @throws IOException  when a file cannot be read or written
     * @throws OrtException when ONNX Runtime fails
     */
    public static void main(String[] args) throws IOException, OrtException {
        Path model = Path.of(args.length > 0 ? args[0] : "fashion.safetensors");
        Path onnx = Path.of(args.length > 1 ? args[1] : "fashion.onnx");
        List<String> names;
        try (Backend backend = Backends.create();
             SavedModel.Loaded loaded = SavedModel.load(model, backend)) {
            OnnxExport.write(loaded, onnx, OnnxExport.Options.defaults());   // input 'input', output 'output'
            names = loaded.classNames();
        }

        Dataset test = FashionMnist.split(FashionMnist.defaultDir(), "t10k");
        int n = 16;
        float[] images = new float[n * 784];
        test.gatherFeatures(test.identityOrder(), 0, n, images);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(onnx.toString());
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(images), new long[] {n, 784});
             OrtSession.Result r = session.run(Map.of("input", x))) {
            float[][] logits = (float[][]) r.get(0).getValue();          // n rows of 10 logits
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int c = 1; c < logits[i].length; c++) {
                    best = logits[i][c] > logits[i][best] ? c : best;
                }
                System.out.printf("test image %2d: %-11s (label: %s)%n", i, names.get(best), names.get(test.label(i)));
            }
        }
    }
}
