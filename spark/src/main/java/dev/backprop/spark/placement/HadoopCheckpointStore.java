package dev.backprop.spark.placement;

import dev.backprop.io.AtomicFile;
import dev.backprop.spark.engine.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Hdfs;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.spark.SparkEnv;
import scala.Tuple2;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoints in a directory of any Hadoop file system Spark can reach ({@code hdfs://}, {@code s3a://},
 * {@code file:} or a plain path, which is local): {@code checkpoint-<step>.safetensors}. The two newest are kept.
 * Settings come from the Spark configuration's {@code spark.hadoop.*} entries, as for Spark's own file access.
 *
 * <p>A checkpoint is written to a temporary file of its own in the same directory ({@code .checkpoint-<step>
 * .safetensors.<random>}{@value AtomicFile#TEMP_SUFFIX}, so two writers of one step never share one), forced to
 * storage where the stream can ({@code hsync}), then renamed over the target, so a reader sees the old file or the
 * new one, never part of one, and the only good copy of a step is never deleted first. A failed write deletes its
 * temporary file; one left by a crashed writer is deleted by a later save once it is {@link #STALE_AFTER_MILLIS}
 * older than the new one (file system clocks, not the executors'). The rename replaces atomically where the file
 * system can: the local one ({@code rename(2)}) and HDFS (the NameNode's rename with overwrite). Elsewhere (S3A, whose
 * rename is a copy and a delete, and which refuses to rename onto a file) a step that another writer already stored
 * is kept as it is, since replacing it there would mean deleting it first; both copies come from the same state.
 *
 * <p>The directory is never created at save: {@link #prepare} checks it at the start of a run (the driver's, and
 * rank 0's) and creates it only when its parent exists, so a mistyped path fails at once instead of growing a tree.
 */
public final class HadoopCheckpointStore implements CheckpointStore {
    /**
     * How much older than a fresh temporary file another one must be to count as left by a crash: far longer than a
     * checkpoint takes to write, so a writer still at work (a stage attempt Spark has not yet killed) keeps its file.
     */
    static final long STALE_AFTER_MILLIS = TimeUnit.HOURS.toMillis(1);

    private static final Logger LOG = Logger.getLogger(HadoopCheckpointStore.class.getName());
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)\\.safetensors");
    private static final Pattern TEMP = Pattern.compile("\\.checkpoint-\\d+\\.safetensors\\.[0-9a-z]+"
            + Pattern.quote(AtomicFile.TEMP_SUFFIX));
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int KEEP = 2;

    private final String dir;
    private final Configuration conf;

    /** Checkpoints under {@code dir}, with the Hadoop settings of the Spark executor this runs on. */
    public HadoopCheckpointStore(String dir) {
        this(dir, null);
    }

    /**
     * Checkpoints under {@code dir} with the given Hadoop settings (null: those of this executor's Spark; the
     * driver's are {@code SparkContext.hadoopConfiguration()}).
     */
    public HadoopCheckpointStore(String dir, Configuration conf) {
        this.dir = dir;
        this.conf = conf;
    }

    /**
     * Checks a run's checkpoint directory before training: an existing one must be a directory where a file can
     * be created; a missing one is created when its parent directory exists, never the parent.
     *
     * @param conf the Hadoop settings to reach it with (the driver's: {@code SparkContext.hadoopConfiguration()})
     * @throws IllegalArgumentException naming the directory and what is wrong with it
     * @throws IOException              when the file system cannot be asked
     */
    public static void prepare(String dir, Configuration conf) throws IOException {
        HadoopCheckpointStore store = new HadoopCheckpointStore(dir, conf);
        store.prepare(store.storage());
    }

    /** The file system and directory, resolved with this store's settings. */
    private record Storage(FileSystem fs, Path dir, Configuration conf) {
        boolean local() {
            return "file".equals(fs.getUri().getScheme());
        }
    }

    private Storage storage() throws IOException {
        Configuration c = conf != null ? conf : sparkHadoopConf();
        Path d = new Path(dir);
        URI uri = d.toUri();
        FileSystem fs = FileSystem.get(uri.getScheme() == null ? URI.create("file:///") : uri, c);
        // The local file system without its .crc side files: their rename would not be atomic with the data's.
        return new Storage(fs instanceof LocalFileSystem l ? l.getRaw() : fs, d, c);
    }

    private static Configuration sparkHadoopConf() {
        Configuration c = new Configuration();
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            for (Tuple2<String, String> kv : env.conf().getAll()) {
                if (kv._1().startsWith("spark.hadoop.")) {
                    c.set(kv._1().substring("spark.hadoop.".length()), kv._2());
                }
            }
        }
        return c;
    }

    private void prepare(Storage s) throws IOException {
        FileStatus st = status(s.fs, s.dir);
        if (st == null) {
            Path parent = s.dir.getParent();
            FileStatus ps = parent == null ? null : status(s.fs, parent);
            if (ps == null || !ps.isDirectory()) {
                throw new IllegalArgumentException("checkpoint directory " + dir + ": the directory " + parent
                        + " does not exist (it is not created: make it first)");
            }
            s.fs.mkdirs(s.dir);
        } else if (!st.isDirectory()) {
            throw new IllegalArgumentException("checkpoint directory " + dir + ": exists and is not a directory");
        }
        Path probe = new Path(s.dir, tempName("checkpoint-000000000000.safetensors"));
        try {
            s.fs.createFile(probe).overwrite(false).build().close();
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpoint directory " + dir + ": cannot create a file in it: "
                    + e.getMessage(), e);
        } finally {
            deleteQuietly(s.fs, probe);
        }
    }

    private static FileStatus status(FileSystem fs, Path p) throws IOException {
        try {
            return fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    private static List<Long> steps(FileSystem fs, Path d) throws IOException {
        List<Long> out = new ArrayList<>();
        for (FileStatus s : fs.listStatus(d)) {
            Matcher m = NAME.matcher(s.getPath().getName());
            if (s.isFile() && m.matches()) {
                out.add(Long.parseLong(m.group(1)));
            }
        }
        out.sort(null);
        return out;
    }

    private static Path file(Path d, long step) {
        return new Path(d, String.format("checkpoint-%012d.safetensors", step));
    }

    private static String tempName(String target) {
        return "." + target + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + AtomicFile.TEMP_SUFFIX;
    }

    /**
     * {@inheritDoc} Rank 0 calls it at the start of every stage attempt, so the directory is checked there too
     * (see {@link #prepare}). A newest checkpoint that cannot be read fails the run naming it, as a corrupt one
     * does when it is restored: resuming silently from an older one would hide a fault of the storage.
     */
    @Override
    public Optional<Stored> latest() throws IOException {
        Storage s = storage();
        prepare(s);
        List<Long> steps = steps(s.fs, s.dir);
        if (steps.isEmpty()) {
            return Optional.empty();
        }
        long step = steps.get(steps.size() - 1);
        Path f = file(s.dir, step);
        try {
            if (s.local() && !Files.isRegularFile(java.nio.file.Path.of(s.fs.makeQualified(f).toUri()))) {
                // Hadoop counts a named pipe as a file, and opening one waits for a writer, forever when none comes.
                throw new IOException("not a regular file (a pipe, socket or device cannot be a checkpoint)");
            }
            long len = s.fs.getFileStatus(f).getLen();
            if (len > Integer.MAX_VALUE - 8) {
                throw new IOException(len + " bytes: too large for one broadcast");
            }
            byte[] bytes = new byte[(int) len];
            try (FSDataInputStream in = s.fs.open(f)) {
                in.readFully(0, bytes);
            }
            return Optional.of(new Stored(step, bytes, f.toString()));
        } catch (IOException e) {
            throw new IOException("cannot read the newest checkpoint " + f + ": " + e.getMessage()
                    + (steps.size() > 1 ? " (delete it to resume from " + file(s.dir, steps.get(steps.size() - 2))
                    + ", or use a new checkpoint directory)" : " (delete it, or use a new checkpoint directory)"), e);
        }
    }

    @Override
    public void save(long step, byte[] bytes) throws IOException {
        Storage s = storage();
        FileStatus d = status(s.fs, s.dir);
        if (d == null || !d.isDirectory()) {
            throw new IOException("checkpoint directory " + dir + " is " + (d == null ? "gone" : "no longer a "
                    + "directory") + ": checkpoints are written only into the directory the run checked at start");
        }
        Path target = file(s.dir, step);
        Path tmp = new Path(s.dir, tempName(target.getName()));
        try {
            long written = write(s.fs, tmp, bytes);
            deleteStale(s, tmp, written);
            replace(s, tmp, target);
        } catch (IOException | RuntimeException | Error e) {
            deleteQuietly(s.fs, tmp);
            throw e;
        }
        List<Long> steps = steps(s.fs, s.dir);
        for (int i = 0; i < steps.size() - KEEP; i++) {
            s.fs.delete(file(s.dir, steps.get(i)), false);
        }
        LOG.info("rank 0 wrote checkpoint " + target);
    }

    /** Writes a new file (never creating its directory) and returns its modification time on the file system. */
    private static long write(FileSystem fs, Path tmp, byte[] bytes) throws IOException {
        try (FSDataOutputStream out = fs.createFile(tmp).overwrite(false).build()) {
            out.write(bytes);
            if (out.hasCapability(StreamCapabilities.HSYNC)) {
                out.hsync();
            }
        }
        return fs.getFileStatus(tmp).getModificationTime();
    }

    /** Deletes this store's temporary files that are much older than {@code fresh}, written at {@code now}. */
    private static void deleteStale(Storage s, Path fresh, long now) throws IOException {
        for (FileStatus f : s.fs.listStatus(s.dir)) {
            Path p = f.getPath();
            if (f.isFile() && TEMP.matcher(p.getName()).matches() && !p.getName().equals(fresh.getName())
                    && f.getModificationTime() < now - STALE_AFTER_MILLIS) {
                LOG.info("deleting " + p + ", a temporary checkpoint file left by a writer that stopped");
                deleteQuietly(s.fs, p);
            }
        }
    }

    /**
     * Moves the complete temporary file to its name (see the class comment for what each file system does).
     * {@code FileContext.rename} with {@code OVERWRITE} is atomic only where the file system implements it itself, as
     * HDFS does; elsewhere Hadoop's default deletes the target, then renames, local files included: hence the local
     * file system's own rename, which is {@code rename(2)}.
     */
    private static void replace(Storage s, Path tmp, Path target) throws IOException {
        if (s.local()) {
            if (!s.fs.rename(tmp, target)) {
                throw new IOException("cannot rename " + tmp + " to " + target);
            }
            return;
        }
        FileContext fc = FileContext.getFileContext(s.fs.getUri(), s.conf);
        if (fc.getDefaultFileSystem() instanceof Hdfs) {
            fc.rename(tmp, target, Options.Rename.OVERWRITE);
            return;
        }
        try {
            fc.rename(tmp, target, Options.Rename.NONE);
        } catch (FileAlreadyExistsException e) {
            LOG.warning(target + " was stored by another writer meanwhile; keeping it rather than deleting it to "
                    + "put this one in its place");
            deleteQuietly(s.fs, tmp);
        }
    }

    private static void deleteQuietly(FileSystem fs, Path p) {
        try {
            fs.delete(p, false);
        } catch (IOException e) {
            // The outcome of the write is what matters; a later save deletes the file once it is stale.
        }
    }

    @Override
    public String describe() {
        return dir;
    }
}
