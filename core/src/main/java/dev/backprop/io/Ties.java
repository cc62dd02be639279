package dev.backprop.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Weight tying in model files, as safetensors' {@code save_model} and {@code load_model} treat tensors that share
 * storage: a file holds each shared tensor once, under the name that sorts first among its names (the
 * {@code keep_name = sorted(complete_names)[0]} of {@code _remove_duplicate_names}), and drops the others, which
 * {@value ModelFile#TIED_KEY} maps to the kept name. The tie map is read as untrusted metadata: every name must be
 * one of the model's, a tie joins two names of one shape and kind, ties to a name that is itself tied, to itself
 * or from a name the file also holds as a tensor are refused.
 */
final class Ties {
    private Ties() {
    }

    /**
     * Each {@code state_dict} name of {@code model} whose parameter, buffer or counter another name holds too, to the
     * name of the group that sorts first, in name order: {@link ModelFile#ties}.
     */
    static Map<String, String> of(Layer model) {
        Map<Object, List<String>> index = new IdentityHashMap<>();
        List<List<String>> groups = new ArrayList<>();
        Map<String, Variable> params = model.parameters();
        params.forEach((name, v) -> join(index, groups, v, name));
        model.sharedParameters().forEach((name, first) -> {
            Variable v = params.get(first);
            if (v == null) {
                throw new IllegalArgumentException("sharedParameters() says '" + name + "' is '" + first
                        + "', which parameters() does not list");
            }
            join(index, groups, v, name);
        });
        model.buffers().forEach((name, t) -> join(index, groups, t, name));
        model.counters().forEach((name, c) -> join(index, groups, c, name));
        return keptFirst(groups);
    }

    /** Each name of each group of names one tensor holds to the group's name that sorts first, in name order. */
    private static Map<String, String> keptFirst(Collection<List<String>> groups) {
        Map<String, String> ties = new TreeMap<>();
        for (List<String> g : groups) {
            String kept = g.stream().min(String::compareTo).orElseThrow();
            g.stream().filter(n -> !n.equals(kept)).forEach(n -> ties.put(n, kept));
        }
        return ties;
    }

    private static void join(Map<Object, List<String>> index, List<List<String>> groups, Object state, String name) {
        index.computeIfAbsent(state, s -> {
            List<String> g = new ArrayList<>();
            groups.add(g);
            return g;
        }).add(name);
    }

    /** The JSON object written under {@value ModelFile#TIED_KEY}. */
    static String write(Map<String, String> ties) {
        JsonObject o = new JsonObject();
        ties.forEach(o::addProperty);
        return o.toString();
    }

    /**
     * {@code state} by the names a file holds it under: a tied name's entry under its kept name, once, in the order
     * of the first name of each group met.
     */
    static <V> Map<String, V> kept(Map<String, V> state, Map<String, String> ties) {
        Map<String, V> m = new LinkedHashMap<>();
        state.forEach((name, v) -> m.putIfAbsent(ties.getOrDefault(name, name), v));
        return m;
    }

    /** {@code names} without the tied ones, which a file with {@code ties} does not hold. */
    static <V> Map<String, V> untied(Map<String, V> names, Map<String, String> ties) {
        Map<String, V> m = new LinkedHashMap<>(names);
        m.keySet().removeAll(ties.keySet());
        return m;
    }

    /** {@code names} without the tied ones, as {@link #untied(Map, Map)}. */
    static List<String> untied(Collection<String> names, Map<String, String> ties) {
        return names.stream().filter(n -> !ties.containsKey(n)).toList();
    }

    /**
     * The ties file {@code f} records for a model whose floating tensors have {@code floats} shapes and whose counters
     * are {@code counters}: empty when it records none. A file without {@value ModelFile#TIED_KEY} may be one that
     * safetensors' {@code save_model} wrote, which records each name it drops as a metadata entry of its own,
     * {@code metadata[to_remove] = kept_name}: an entry whose key is a state name the file holds no tensor for and
     * whose value is a state name counts as a tie then, checked as the ones {@value ModelFile#TIED_KEY} gives.
     *
     * @throws ModelFileException when the metadata is not a JSON object of names, names a state the model does not
     *                            have, ties a name to itself, to a tied name, or to a name of another shape or kind,
     *                            or ties a name the file also holds as a tensor
     */
    static Map<String, String> read(SafeTensorsFile f, Map<String, int[]> floats, Collection<String> counters)
            throws ModelFileException {
        // A set: each tie looks its names up, and a hostile file may tie thousands of a model's thousands of counters.
        Set<String> counterNames = new LinkedHashSet<>(counters);
        String json = f.metadata().get(ModelFile.TIED_KEY);
        if (json == null) {
            return savedByPyTorch(f, floats, counterNames);
        }
        String where = f.file() + ": metadata '" + ModelFile.TIED_KEY + "' ";
        JsonElement root;
        try {
            root = StrictJson.parse(json);
        } catch (IOException e) {
            throw new ModelFileException(where + "is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonObject()) {
            throw new ModelFileException(where + "must be a JSON object of tied name to kept name, got " + json);
        }
        Map<String, String> ties = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new ModelFileException(where + "ties '" + e.getKey() + "' to " + v + ", not to a name");
            }
            ties.put(e.getKey(), v.getAsString());
        }
        for (Map.Entry<String, String> e : ties.entrySet()) {
            String problem = problem(f, e.getKey(), e.getValue(), ties, floats, counterNames);
            if (problem != null) {
                throw new ModelFileException(where + problem);
            }
        }
        return ties;
    }

    /** The ties of a file {@code save_model} wrote, as {@link #read} takes them when no tie map is recorded. */
    private static Map<String, String> savedByPyTorch(SafeTensorsFile f, Map<String, int[]> floats,
                                                      Set<String> counters) throws ModelFileException {
        Map<String, String> ties = new LinkedHashMap<>();
        f.metadata().forEach((name, kept) -> {
            if ((floats.containsKey(name) || counters.contains(name)) && !f.header().entries().containsKey(name)
                    && (floats.containsKey(kept) || counters.contains(kept))) {
                ties.put(name, kept);
            }
        });
        for (Map.Entry<String, String> e : ties.entrySet()) {
            String problem = problem(f, e.getKey(), e.getValue(), ties, floats, counters);
            if (problem != null) {
                throw new ModelFileException(f.file() + ": metadata entry '" + e.getKey() + "' (a name "
                        + "safetensors' save_model left out) " + problem);
            }
        }
        return ties;
    }

    private static String problem(SafeTensorsFile f, String name, String kept, Map<String, String> ties,
                                  Map<String, int[]> floats, Set<String> counters) {
        for (String n : List.of(name, kept)) {
            if (!floats.containsKey(n) && !counters.contains(n)) {
                List<String> all = new ArrayList<>(floats.keySet());
                all.addAll(counters);
                return "names '" + n + "', which is not in the model's state " + all;
            }
        }
        String tie = "ties '" + name + "' to '" + kept + "'";
        if (name.equals(kept)) {
            return tie + ", itself";
        }
        if (ties.containsKey(kept)) {
            return tie + ", which is tied to '" + ties.get(kept) + "' itself (a tie names the kept tensor)";
        }
        String a = describe(name, floats);
        String b = describe(kept, floats);
        if (!a.equals(b)) {
            return tie + ", but '" + name + "' is " + a + " and '" + kept + "' is " + b;
        }
        if (f.header().entries().containsKey(name)) {
            return tie + ", but the file holds a tensor '" + name + "' too";
        }
        return null;
    }

    private static String describe(String name, Map<String, int[]> floats) {
        int[] shape = floats.get(name);
        return shape != null ? Arrays.toString(shape) : "an I64 counter";
    }

    /**
     * {@code ties} with each group's kept name the one that sorts first: two tie maps that join the same names are
     * equal so, whichever name a writer kept.
     */
    static Map<String, String> canonical(Map<String, String> ties) {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        ties.forEach((name, kept) -> groups.computeIfAbsent(kept, k -> new ArrayList<>(List.of(k))).add(name));
        return keptFirst(groups.values());
    }

    /**
     * Refuses a file whose ties ({@code fileTies}, as {@link #read} gives them) are not the model's
     * ({@code modelTies}); {@code untiedFile} accepts a file that records none for a tied model, whose values the
     * caller compares ({@link #checkEqual}).
     */
    static void checkSame(String file, Map<String, String> fileTies, Map<String, String> modelTies, boolean untiedFile)
            throws ModelFileException {
        if (fileTies.isEmpty() && (untiedFile || modelTies.isEmpty())) {
            return;
        }
        Map<String, String> theirs = canonical(fileTies);
        if (!theirs.equals(modelTies)) {
            throw new ModelFileException(file + ": the file ties " + (theirs.isEmpty() ? "nothing" : theirs)
                    + " but the model ties " + (modelTies.isEmpty() ? "nothing" : modelTies));
        }
    }

    /**
     * Refuses a file that holds each of a tied model's names apart when two tied names hold different values,
     * naming them and the first difference; reads the file's tensors into temporaries only.
     *
     * @param tensors  the model's floating tensors by every name (the tensors the file's are read as)
     * @param counters the file's counters by name
     */
    static void checkEqual(SafeTensorsFile f, Map<String, String> ties, Map<String, Tensor> tensors,
                           Map<String, Long> counters) throws IOException {
        for (Map.Entry<String, String> e : ties.entrySet()) {
            String name = e.getKey();
            String kept = e.getValue();
            String differs = null;
            if (counters.containsKey(name)) {
                if (!counters.get(name).equals(counters.get(kept))) {
                    differs = "'" + name + "' is " + counters.get(name) + ", '" + kept + "' is " + counters.get(kept);
                }
            } else {
                Tensor like = tensors.get(name);
                try (Tensor a = f.read(name, like.backend(), like.dtype());
                     Tensor b = f.read(kept, like.backend(), like.dtype())) {
                    double[] x = values(a);
                    double[] y = values(b);
                    for (int i = 0; i < x.length && differs == null; i++) {
                        if (Double.compare(x[i], y[i]) != 0) {
                            differs = "'" + name + "'[" + i + "] is " + x[i] + ", '" + kept + "'[" + i + "] is "
                                    + y[i];
                        }
                    }
                }
            }
            if (differs != null) {
                throw new ModelFileException(f.file() + ": the model ties '" + name + "' to '" + kept + "', but the "
                        + "file holds them apart with different values: " + differs);
            }
        }
    }

    private static double[] values(Tensor t) {
        if (t.dtype() == DType.FLOAT64) {
            return t.toDoubleArray();
        }
        float[] f = t.toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /**
     * Which layers of {@code spec} the model a file with {@code ties} rebuilds from it are one layer: each layer's
     * {@code state_dict} prefix ({@code 2.}) to the prefix of the earlier layer it is ({@code 0.}), for a layer whose
     * every tensor the file ties to the same tensor of an earlier layer of the same spec.
     *
     * @throws ModelFileException naming a tie the architecture cannot rebuild that way (part of a layer's tensors)
     */
    static Map<String, String> reuse(String file, LayerSpec spec, Map<String, String> ties)
            throws ModelFileException {
        if (ties.isEmpty()) {
            return Map.of();
        }
        Map<String, LayerSpec> layers = new LinkedHashMap<>();
        walk(spec, "", layers);
        Map<String, String> reuse = new LinkedHashMap<>();
        // The layers built so far by spec and the file's name for their first tensor: a layer is another only if
        // both agree, so each layer is compared with the few built ones it may be, whatever the network's size.
        Map<Candidate, List<String>> built = new HashMap<>();
        for (Map.Entry<String, LayerSpec> e : layers.entrySet()) {
            String p = e.getKey();
            if (!resolve(p, reuse).equals(p)) {
                continue;
            }
            List<String> names = stateNames(e.getValue());
            if (names.isEmpty()) {
                continue;
            }
            Candidate key = new Candidate(e.getValue(), ties.getOrDefault(p + names.get(0), p + names.get(0)));
            String from = null;
            for (String q : built.getOrDefault(key, List.of())) {
                if (!p.startsWith(q) && names.stream().allMatch(s -> ties.getOrDefault(p + s, p + s)
                        .equals(ties.getOrDefault(q + s, q + s)))) {
                    from = q;
                    break;
                }
            }
            if (from != null) {
                reuse.put(p, from);
            } else {
                built.computeIfAbsent(key, k -> new ArrayList<>()).add(p);
            }
        }
        Map<String, String> rebuilt = rebuiltTies(spec, reuse);
        Map<String, String> theirs = canonical(ties);
        for (Map.Entry<String, String> e : theirs.entrySet()) {
            if (!e.getValue().equals(rebuilt.get(e.getKey()))) {
                throw new ModelFileException(file + ": metadata '" + ModelFile.TIED_KEY + "' makes '" + e.getKey()
                        + "' and '" + e.getValue() + "' one tensor, which the architecture cannot rebuild (a model "
                        + "file rebuilds a tie only as one layer used whole at several places); build the model in "
                        + "code and use loadInto");
            }
        }
        return reuse;
    }

    /** The ties of the model {@code spec} builds with the layers at {@code reuse}'s keys being its values'. */
    private static Map<String, String> rebuiltTies(LayerSpec spec, Map<String, String> reuse) {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        for (String name : stateNames(spec)) {
            groups.computeIfAbsent(resolve(name, reuse), k -> new ArrayList<>()).add(name);
        }
        return keptFirst(groups.values());
    }

    /** A layer's spec and the file's name for its first tensor. */
    private record Candidate(LayerSpec spec, String first) {
    }

    /**
     * The name of the built layer's state (or the prefix of the built layer) that {@code name} is, following reused
     * layers to the built one.
     */
    private static String resolve(String name, Map<String, String> reuse) {
        String n = name;
        int dot = n.indexOf('.');
        while (dot >= 0) {
            String at = reuse.get(n.substring(0, dot + 1));
            if (at != null) {
                n = at + n.substring(dot + 1);
                dot = n.indexOf('.');
            } else {
                dot = n.indexOf('.', dot + 1);
            }
        }
        return n;
    }

    /** Every layer below {@code spec}, by its {@code state_dict} prefix, in the order they are built. */
    private static void walk(LayerSpec spec, String prefix, Map<String, LayerSpec> out) {
        if (spec.type().equals("sequential")) {
            for (int i = 0; i < spec.layers().size(); i++) {
                String p = prefix + i + ".";
                out.put(p, spec.layers().get(i));
                walk(spec.layers().get(i), p, out);
            }
        }
    }

    /** The {@code state_dict} names a layer of {@code spec} holds: parameters, buffers, counters. */
    private static List<String> stateNames(LayerSpec spec) {
        List<String> names = new ArrayList<>(Layers.parameterShapes(spec).keySet());
        names.addAll(Layers.bufferShapes(spec).keySet());
        names.addAll(Layers.counterNames(spec));
        return names;
    }
}
