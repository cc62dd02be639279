package dev.backprop.testing;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** For tests that start a child JVM on their own classes. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * This JVM's class path as a child needs it: {@code java.class.path} (all of it under Surefire) plus the URLs
     * of the loader that loaded {@code anchor} (JUnit's console launcher, as the GPU verification runs it, loads
     * the tests from its {@code --class-path} through a URLClassLoader, and {@code java.class.path} holds only the
     * launcher).
     */
    public static String classPath(Class<?> anchor) {
        Set<String> entries = new LinkedHashSet<>(List.of(System.getProperty("java.class.path")
                .split(File.pathSeparator)));
        if (anchor.getClassLoader() instanceof URLClassLoader loader) {
            for (URL url : loader.getURLs()) {
                try {
                    entries.add(Path.of(url.toURI()).toString());
                } catch (URISyntaxException | IllegalArgumentException e) {
                    throw new IllegalStateException("class path entry " + url + " is not a file", e);
                }
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
