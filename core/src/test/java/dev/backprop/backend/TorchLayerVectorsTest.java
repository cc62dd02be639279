package dev.backprop.backend;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Convolution;
import dev.backprop.tensor.Normalization;
import dev.backprop.tensor.Pooling;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The image primitives against PyTorch: {@code torch-layers.safetensors} (written by
 * {@code core/src/test/python/torch_layer_vectors.py}) holds float64 inputs, outputs and gradients of
 * {@code F.conv2d}, {@code max_pool2d}, {@code avg_pool2d} and {@code BatchNorm1d/2d}; the float64 reference backend
 * and the SPI's default im2col convolution must reproduce them to float64 rounding. The real backends are then held to
 * the reference by the contract test.
 */
class TorchLayerVectorsTest {
    private static ReferenceBackend be;
    private static SafeTensorsFile file;
    private static JsonObject cases;

    @BeforeAll
    static void load() throws Exception {
        be = new ReferenceBackend();
        Path p = Path.of(TorchLayerVectorsTest.class.getResource("/dev/backprop/nn/torch-layers.safetensors").toURI());
        file = SafeTensorsFile.open(p);
        cases = JsonParser.parseString(file.metadata().get("cases")).getAsJsonObject();
    }

    @AfterAll
    static void close() throws Exception {
        file.close();
        be.close();
    }

    private static Tensor get(String name) {
        try {
            return file.read(name, be, DType.FLOAT64);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int[] pair(JsonObject c, String key) {
        return new int[] {c.getAsJsonArray(key).get(0).getAsInt(), c.getAsJsonArray(key).get(1).getAsInt()};
    }

    @TestFactory
    Stream<DynamicTest> layers() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, com.google.gson.JsonElement> e : cases.entrySet()) {
            String name = e.getKey();
            JsonObject c = e.getValue().getAsJsonObject();
            String layer = c.get("layer").getAsString();
            switch (layer) {
                case "conv2d" -> {
                    tests.add(dynamicTest(name + " (reference)", () -> conv(name, c, false)));
                    tests.add(dynamicTest(name + " (im2col default)", () -> conv(name, c, true)));
                }
                case "maxpool2d", "avgpool2d" -> tests.add(dynamicTest(name, () -> pool(name, c)));
                case "layernorm", "layernorm_mlp_sgd" -> {
                    // a layer built from ops, not a primitive: NetworkContractTest's layer norm cases run these
                }
                default -> tests.add(dynamicTest(name, () -> batchNorm(name, c)));
            }
        }
        assertEquals(22, cases.size(), "cases in the vector file");
        return tests.stream();
    }

    private static void conv(String name, JsonObject c, boolean im2col) {
        int[] s = pair(c, "stride"), p = pair(c, "padding"), d = pair(c, "dilation");
        boolean bias = c.get("bias").getAsBoolean();
        Tensor x = get(name + ".x"), w = get(name + ".weight"), b = bias ? get(name + ".bias") : null;
        Window2d win = Convolution.window(x, w, s[0], s[1], p[0], p[1], d[0], d[1]);
        int o = w.shape().dim(0);
        Tensor want = get(name + ".out");
        Tensor y = Tensor.empty(be, DType.FLOAT64, want.shape());
        Tensor dy = get(name + ".grad_out");
        Tensor dx = Tensor.empty(be, DType.FLOAT64, x.shape()), dw = Tensor.empty(be, DType.FLOAT64, w.shape());
        Tensor db = Tensor.empty(be, DType.FLOAT64, o);
        if (im2col) {
            Im2colConvolution.forward(be, win, o, x.buffer(), 0, w.buffer(), 0, b == null ? null : b.buffer(), 0,
                    y.buffer(), 0);
            Im2colConvolution.backward(be, win, o, x.buffer(), 0, w.buffer(), 0, dy.buffer(), 0, dx.buffer(), 0,
                    dw.buffer(), 0, db.buffer(), 0);
        } else {
            Convolution.conv2d(win, x, w, b, y);
            Convolution.conv2dBackward(win, x, w, dy, dx, dw, db);
        }
        same(name + " out", want, y);
        same(name + " grad_x", get(name + ".grad_x"), dx);
        same(name + " grad_weight", get(name + ".grad_weight"), dw);
        if (bias) {
            same(name + " grad_bias", get(name + ".grad_bias"), db);
        }
    }

    private static void pool(String name, JsonObject c) {
        int[] k = pair(c, "kernel"), s = pair(c, "stride"), p = pair(c, "padding");
        Tensor x = get(name + ".x"), want = get(name + ".out"), dy = get(name + ".grad_out");
        Window2d w = Pooling.window(x, k[0], k[1], s[0], s[1], p[0], p[1]);
        Tensor y = Tensor.empty(be, DType.FLOAT64, want.shape()), dx = Tensor.empty(be, DType.FLOAT64, x.shape());
        if (c.get("layer").getAsString().equals("maxpool2d")) {
            Tensor arg = Tensor.empty(be, DType.INT32, want.shape());
            Pooling.maxPool2d(w, x, y, arg);
            same(name + " indices", get(name + ".indices"), arg.to(be).copy());
            Pooling.maxPool2dBackward(w, dy, arg, dx);
        } else {
            boolean include = c.get("count_include_pad").getAsBoolean();
            Pooling.avgPool2d(w, include, x, y);
            Pooling.avgPool2dBackward(w, include, dy, dx);
        }
        same(name + " out", want, y);
        same(name + " grad_x", get(name + ".grad_x"), dx);
    }

    private static void batchNorm(String name, JsonObject c) {
        boolean train = c.get("train").getAsBoolean();
        double eps = c.get("eps").getAsDouble(), momentum = c.get("momentum").getAsDouble();
        Tensor x = get(name + ".x"), gamma = get(name + ".weight"), beta = get(name + ".bias");
        Tensor runMean = get(name + ".running_mean_before"), runVar = get(name + ".running_var_before");
        int ch = gamma.shape().dim(0);
        Tensor mean = runMean, var = runVar;
        if (train) {
            mean = Tensor.empty(be, DType.FLOAT64, ch);
            var = Tensor.empty(be, DType.FLOAT64, ch);
            Normalization.batchNormStats(x, mean, var);
            // Running statistics as PyTorch keeps them: the unbiased batch variance, momentum 0.1.
            long m = x.size() / ch;
            double[] rm = runMean.toDoubles(), rv = runVar.toDoubles(), bm = mean.toDoubles(), bv = var.toDoubles();
            for (int i = 0; i < ch; i++) {
                rm[i] = (1 - momentum) * rm[i] + momentum * bm[i];
                rv[i] = (1 - momentum) * rv[i] + momentum * bv[i] * m / (m - 1);
            }
            same(name + " running_mean", get(name + ".running_mean"), Tensor.of(be, rm, ch));
            same(name + " running_var", get(name + ".running_var"), Tensor.of(be, rv, ch));
        }
        Tensor y = Tensor.empty(be, DType.FLOAT64, x.shape());
        Normalization.batchNormForward(x, mean, var, gamma, beta, eps, y);
        same(name + " out", get(name + ".out"), y);
        Tensor dx = Tensor.empty(be, DType.FLOAT64, x.shape());
        Tensor dg = Tensor.empty(be, DType.FLOAT64, ch), db = Tensor.empty(be, DType.FLOAT64, ch);
        Normalization.batchNormBackward(x, get(name + ".grad_out"), mean, var, gamma, eps, train, dx, dg, db);
        same(name + " grad_x", get(name + ".grad_x"), dx);
        same(name + " grad_weight", get(name + ".grad_weight"), dg);
        same(name + " grad_bias", get(name + ".grad_bias"), db);
    }

    private static void same(String what, Tensor want, Tensor got) {
        assertEquals(want.size(), got.size(), what + ": size");
        double[] a = want.toDoubles(), b = got.toDoubles();
        double scale = 0;
        for (double v : a) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-12 * (1 + scale), what + " [" + i + "]");
        }
    }
}
