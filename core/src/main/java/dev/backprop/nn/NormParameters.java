package dev.backprop.nn;

import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

/** The per-feature γ and β of the normalization layers, {@link BatchNorm} and {@link LayerNorm}. */
final class NormParameters {
    private NormParameters() {
    }

    /**
     * Parameter {@code name} of {@code layer} from {@code factory}: {@code [features]}, in {@code role}, with fan-in
     * and fan-out {@code features}.
     *
     * @throws ShapeMismatchException naming {@code layer} and both shapes when the factory gives another shape; the
     *                                tensor it gave is closed then
     */
    static Tensor create(ParameterFactory factory, String name, ParameterRole role, int features, Layer layer) {
        Tensor t = factory.create(name, new int[] {features}, role, features, features);
        if (t.shape().rank() != 1 || t.shape().dim(0) != features) {
            t.close();
            throw new ShapeMismatchException(layer + ": " + name + " is " + t.shape() + ", expected [" + features
                    + "]");
        }
        return t;
    }
}
