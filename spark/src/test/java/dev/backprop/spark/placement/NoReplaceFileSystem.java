package dev.backprop.spark.placement;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * Local files under the scheme {@code noreplace:} whose rename refuses an existing target, as S3A's does, and whose
 * {@code FileContext} binding ({@link Fs}) replaces a target only by deleting it first, as S3A's does: a stand-in
 * for the object stores the checkpoint store must not delete a stored step on.
 */
public class NoReplaceFileSystem extends RawLocalFileSystem {
    static final String SCHEME = "noreplace";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        return !exists(dst) && super.rename(src, dst);
    }

    /** The {@code FileContext} binding, registered as {@code fs.AbstractFileSystem.noreplace.impl}. */
    public static class Fs extends DelegateToFileSystem {
        public Fs(URI uri, Configuration conf) throws IOException, URISyntaxException {
            super(uri, new NoReplaceFileSystem(), conf, SCHEME, false);
        }

        @Override
        public int getUriDefaultPort() {
            return -1;
        }
    }
}
