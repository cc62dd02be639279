package dev.backprop.runtime;

import dev.backprop.testing.PlantedLibrary;

import java.nio.file.Path;

/**
 * Run by {@link NativeLoaderTest} in a child JVM (a loaded library cannot be unloaded): with {@code private}, loads
 * {@link FakeBinding} through {@link NativeLoader} with a dependency, twice; with {@code own}, lets it load itself.
 * Prints {@code error=...} when loading fails, then {@code tmpdir=...} (the property afterwards) and
 * {@code left=...} (what java.io.tmpdir holds afterwards).
 */
public final class NativeLoaderMain {
    private NativeLoaderMain() {
    }

    /** Loads as {@code args[0]} says and prints. */
    public static void main(String[] args) throws Exception {
        String tmpdir = System.getProperty("java.io.tmpdir");
        try {
            if (args[0].equals("private")) {
                for (int i = 0; i < 2; i++) { // the second call loads nothing
                    NativeLoader.initialize(FakeBinding.class, new NativeLoader.Resource(FakeBinding.class,
                            FakeBinding.RESOURCE), new NativeLoader.Resource(FakeBinding.class, args[1]));
                }
            } else {
                FakeBinding.touch();
            }
        } catch (UnsatisfiedLinkError e) {
            System.out.println("error=" + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        System.out.println("tmpdir=" + System.getProperty("java.io.tmpdir"));
        System.out.println("left=" + PlantedLibrary.names(Path.of(tmpdir)));
    }
}
