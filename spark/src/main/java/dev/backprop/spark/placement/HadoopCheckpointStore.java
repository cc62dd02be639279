package dev.backprop.spark.placement;

import dev.backprop.spark.engine.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import scala.Tuple2;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoints in a directory of any Hadoop file system Spark can reach ({@code hdfs://}, {@code s3a://},
 * {@code file:} or a plain path): {@code checkpoint-<step>.safetensors}, written under a temporary name and
 * renamed, so a reader never sees a partial file. The two newest are kept. Settings come from the Spark
 * configuration's {@code spark.hadoop.*} entries, as for Spark's own file access.
 */
public final class HadoopCheckpointStore implements CheckpointStore {
    private static final Logger LOG = Logger.getLogger(HadoopCheckpointStore.class.getName());
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)\\.safetensors");
    private static final int KEEP = 2;

    private final String dir;

    /** Checkpoints under {@code dir}. */
    public HadoopCheckpointStore(String dir) {
        this.dir = dir;
    }

    private FileSystem fs(Path p) throws IOException {
        Configuration conf = new Configuration();
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            for (Tuple2<String, String> kv : env.conf().getAll()) {
                if (kv._1().startsWith("spark.hadoop.")) {
                    conf.set(kv._1().substring("spark.hadoop.".length()), kv._2());
                }
            }
        }
        URI uri = p.toUri();
        return uri.getScheme() == null ? FileSystem.getLocal(conf) : FileSystem.get(uri, conf);
    }

    private List<Long> steps(FileSystem fs, Path d) throws IOException {
        List<Long> out = new ArrayList<>();
        if (!fs.exists(d)) {
            return out;
        }
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

    @Override
    public Optional<Stored> latest() throws IOException {
        Path d = new Path(dir);
        FileSystem fs = fs(d);
        List<Long> steps = steps(fs, d);
        if (steps.isEmpty()) {
            return Optional.empty();
        }
        long step = steps.get(steps.size() - 1);
        Path f = file(d, step);
        long len = fs.getFileStatus(f).getLen();
        if (len > Integer.MAX_VALUE - 8) {
            throw new IOException(f + " is " + len + " bytes: too large for one broadcast");
        }
        byte[] bytes = new byte[(int) len];
        try (FSDataInputStream in = fs.open(f)) {
            in.readFully(0, bytes);
        }
        return Optional.of(new Stored(step, bytes, f.toString()));
    }

    @Override
    public void save(long step, byte[] bytes) throws IOException {
        Path d = new Path(dir);
        FileSystem fs = fs(d);
        fs.mkdirs(d);
        Path target = file(d, step);
        Path tmp = new Path(d, "." + target.getName() + ".tmp");
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(bytes);
        }
        fs.delete(target, false);
        if (!fs.rename(tmp, target)) {
            throw new IOException("could not rename " + tmp + " to " + target);
        }
        List<Long> steps = steps(fs, d);
        for (int i = 0; i < steps.size() - KEEP; i++) {
            fs.delete(file(d, steps.get(i)), false);
        }
        LOG.info("rank 0 wrote checkpoint " + target);
    }

    @Override
    public String describe() {
        return dir;
    }
}
