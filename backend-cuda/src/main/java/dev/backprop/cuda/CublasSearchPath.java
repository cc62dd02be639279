package dev.backprop.cuda;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The folders {@link CublasLocator} searches, best first: what the dynamic linker would search
 * ({@code LD_LIBRARY_PATH}, then the folders {@code /etc/ld.so.cache} lists cuBLAS in), the JVM's
 * {@code java.library.path}, the CUDA toolkit's usual places, and the {@code nvidia-cublas} wheels of Python
 * environments (PyTorch's CUDA 13 builds bring cuBLAS 13 that way).
 */
final class CublasSearchPath {
    private CublasSearchPath() {
    }

    /** The folders for this process, de-duplicated, in search order. */
    static List<Path> directories() {
        Set<Path> dirs = new LinkedHashSet<>();
        addPathList(dirs, System.getenv("LD_LIBRARY_PATH"));
        for (Path lib : CublasLocator.fromLdCache(Path.of("/etc/ld.so.cache"))) {
            if (lib.getParent() != null) {
                dirs.add(lib.getParent());
            }
        }
        addPathList(dirs, System.getProperty("java.library.path"));
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        dirs.addAll(children(Path.of("/usr/local"), "cuda-*", "targets/x86_64-linux/lib"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        dirs.add(Path.of("/usr/lib64"));
        for (Path sitePackages : pythonSitePackages()) {
            for (String sub : new String[] {"nvidia/cublas/lib", "nvidia/cu13/lib", "nvidia/cu12/lib"}) {
                dirs.add(sitePackages.resolve(sub));
            }
        }
        return new ArrayList<>(dirs);
    }

    private static void addPathList(Set<Path> dirs, String list) {
        if (list == null) {
            return;
        }
        for (String s : list.split(File.pathSeparator)) {
            if (!s.isBlank()) {
                try {
                    dirs.add(Path.of(s.trim()));
                } catch (java.nio.file.InvalidPathException e) {
                    // an unusable entry is skipped, as the dynamic linker skips it
                }
            }
        }
    }

    /** Site-packages folders of the active virtualenv/conda and of the usual Python installs. */
    static List<Path> pythonSitePackages() {
        List<Path> roots = new ArrayList<>();
        for (String env : new String[] {"VIRTUAL_ENV", "CONDA_PREFIX"}) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) {
                roots.add(Path.of(v.trim()));
            }
        }
        roots.add(Path.of("/usr/local"));
        roots.add(Path.of("/usr"));
        roots.addAll(children(Path.of("/opt"), "*", ".venv"));
        roots.addAll(children(Path.of("/opt"), "*", ""));
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            for (Path python : children(root.resolve("lib"), "python3*", "")) {
                for (String name : new String[] {"site-packages", "dist-packages"}) {
                    Path p = python.resolve(name);
                    if (Files.isDirectory(p)) {
                        out.add(p);
                    }
                }
            }
        }
        return out;
    }

    /** {@code parent/<match>/suffix} for every child matching {@code glob}, in name order. */
    private static List<Path> children(Path parent, String glob, String suffix) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(parent)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, glob)) {
            for (Path p : ds) {
                Path candidate = suffix.isEmpty() ? p : p.resolve(suffix);
                if (Files.isDirectory(candidate)) {
                    out.add(candidate);
                }
            }
        } catch (IOException | SecurityException e) {
            return out;
        }
        out.sort(null);
        return out;
    }
}
