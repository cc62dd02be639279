package dev.backprop.testing;

import dev.backprop.data.FashionMnist;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;

/** For tests that read Fashion-MNIST from {@link FashionMnist#defaultDir()}. */
public final class FashionMnistData {
    private FashionMnistData() {
    }

    /**
     * Skips (with the reason) when Fashion-MNIST is not installed, except under CI ({@code CI=true}), where the data
     * is part of the set-up and its absence must fail the build.
     */
    public static void assume() {
        boolean present = Files.isDirectory(FashionMnist.defaultDir());
        String why = "Fashion-MNIST is not installed at " + FashionMnist.defaultDir()
                + " (apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.assertTrue(present, why);
        }
        Assumptions.assumeTrue(present, why);
    }
}
