package dev.backprop.onnx;

import dev.backprop.nn.LayerSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gives an imported network the parameter names the exporting PyTorch model had. {@code torch.onnx.export} drops
 * layers that do nothing at inference ({@code Dropout}, {@code Identity}), so {@code nn.Sequential} indices skip
 * numbers: {@code 1.weight}, {@code 4.weight}. Where an initializer keeps its {@code state_dict} name (or, for one
 * PyTorch rewrote, the node its {@code /4/Gemm} name), identity layers fill the gap, so the imported model's
 * parameters, and a model file saved from it, carry PyTorch's names. The identity layers compute nothing; where the
 * names say nothing, layers are numbered in order.
 */
final class TorchNames {
    /** More skipped indices than this is not a PyTorch gap but a coincidence of names. */
    static final int MAX_GAP = 16;
    private static final Pattern STATE = Pattern.compile("(0|[1-9][0-9]{0,5})\\.([a-z_]+)");
    private static final Pattern NODE = Pattern.compile("/(0|[1-9][0-9]{0,5})/[A-Za-z]+(_[0-9]+)?");

    private TorchNames() {
    }

    /** The layers with identity layers inserted where PyTorch's indices say layers were dropped. */
    static List<GraphImporter.Draft> align(List<GraphImporter.Draft> layers) {
        List<GraphImporter.Draft> out = new ArrayList<>();
        for (GraphImporter.Draft d : layers) {
            int index = index(d);
            int gap = index - out.size();
            if (gap > 0 && gap <= MAX_GAP) {
                for (int i = 0; i < gap; i++) {
                    out.add(new GraphImporter.Draft(LayerSpec.of("identity", Map.of()), Map.of(), Map.of(), "",
                            "(an identity layer where the PyTorch model had one dropped from the export)", ""));
                }
            }
            out.add(d);
        }
        return out;
    }

    /** The PyTorch index of a layer with parameters: the one all its initializer names agree on, else -1. */
    private static int index(GraphImporter.Draft d) {
        if (d.state().isEmpty()) {
            return -1;
        }
        int index = -1;
        for (String local : d.state().keySet()) {
            String source = d.sources().get(local);
            Matcher m = source == null ? null : STATE.matcher(source);
            if (m == null || !m.matches() || !m.group(2).equals(local)) {
                return fromNode(d.nodeName());
            }
            int i = Integer.parseInt(m.group(1));
            if (index != -1 && i != index) {
                return -1;
            }
            index = i;
        }
        return index;
    }

    private static int fromNode(String name) {
        Matcher m = NODE.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }
}
