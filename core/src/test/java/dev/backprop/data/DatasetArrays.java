package dev.backprop.data;

/** A data set's arrays in example order, for tests that compare what readers read. */
final class DatasetArrays {
    private DatasetArrays() {
    }

    /** Every example's features, row after row. */
    static float[] features(Dataset d) {
        float[] x = new float[d.size() * d.featureSize()];
        d.gatherFeatures(d.identityOrder(), 0, d.size(), x);
        return x;
    }

    /** Every example's class label. */
    static int[] labels(Dataset d) {
        int[] y = new int[d.size()];
        d.gatherLabels(d.identityOrder(), 0, d.size(), y);
        return y;
    }

    /** Every example's regression targets, row after row. */
    static float[] targets(Dataset d) {
        float[] y = new float[d.size() * d.targetSize()];
        d.gatherTargets(d.identityOrder(), 0, d.size(), y);
        return y;
    }
}
