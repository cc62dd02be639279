package dev.backprop.spark.placement;

import dev.backprop.backend.Backend;
import dev.backprop.data.Dataset;
import dev.backprop.runtime.Backends;
import dev.backprop.spark.Example;
import dev.backprop.spark.RankReport;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.engine.CheckpointStore;
import dev.backprop.spark.engine.RankTrainer;
import dev.backprop.spark.engine.ShardPlan;
import dev.backprop.spark.transport.PeerAddress;
import dev.backprop.spark.transport.RankTransport;
import dev.backprop.spark.transport.TransportException;
import dev.backprop.spark.transport.TransportStats;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.resource.ResourceInformation;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Logger;

/**
 * The body of the barrier stage: one task per partition, all started together. Each task collects its partition,
 * opens its backend, binds its transport, and in one {@code allGather} learns every rank's address, backend and
 * shard size; from then on the ranks talk over their own connections ({@code allGather} answers only after a
 * polling interval, far too slow for every step). A failed task makes Spark rerun the whole stage; the rerun
 * resumes from rank 0's newest checkpoint.
 */
public final class BarrierTrainingTask extends AbstractFunction1<Iterator<Example>, Iterator<RankResult>>
        implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(BarrierTrainingTask.class.getName());

    /** Ports tried from a fixed {@code --port}: enough for the ranks of one host. */
    static final int PORT_RANGE = 32;

    private final TrainingSpec spec;

    /** A task body for {@code spec} (whose class count must be known). */
    public BarrierTrainingTask(TrainingSpec spec) {
        this.spec = spec;
    }

    @Override
    public Iterator<RankResult> apply(Iterator<Example> partition) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        Dataset shard = Shards.toDataset(CollectionConverters.asJava(partition), spec.task(), spec.classes());
        RankBackend.Opened opened = RankBackend.open(Backends.withProviders(Backends.providers()), spec.backend(),
                gpus(ctx), ctx.cpus(), spec.threads());
        try (Backend backend = opened.backend();
             RankTransport net = listen(spec)) {
            String host = spec.advertiseHost() != null ? spec.advertiseHost()
                    : RankAnnouncement.hostOf(ctx.getTaskInfos()[rank].address());
            RankAnnouncement me = new RankAnnouncement(new PeerAddress(host, net.port()), backend.name(),
                    shard.size());
            String[] lines = ctx.allGather(me.encode());
            List<RankAnnouncement> all = new ArrayList<>();
            for (int r = 0; r < lines.length; r++) {
                all.add(RankAnnouncement.decode(lines[r], r));
            }
            int[] sizes = all.stream().mapToInt(RankAnnouncement::shardSize).toArray();
            if (rank == 0) {
                LOG.info("barrier stage attempt " + ctx.stageAttemptNumber() + ": " + all.size() + " ranks: " + all);
            }
            net.connect(rank, all.stream().map(RankAnnouncement::address).toList(), token(ctx));
            ShardPlan plan = new ShardPlan(sizes, spec.batchSize());
            CheckpointStore store = spec.checkpointDir() == null ? null
                    : new HadoopCheckpointStore(spec.checkpointDir());
            try (RankTrainer trainer = new RankTrainer(spec, plan, rank, ctx.stageAttemptNumber(), net, backend,
                    store)) {
                trainer.beforeEachStep(ctx::killTaskIfInterrupted);
                RankTrainer.Outcome o = trainer.train(shard);
                RankReport report = report(ctx, rank, lines.length, host, backend, opened, shard, o, net.stats());
                LOG.info(report.describe());
                return CollectionConverters.asScala(List.of(new RankResult(report, o.modelFile())).iterator());
            }
        }
    }

    /**
     * Binds the rank's port: any free one, or with a fixed port the first free one of {@link #PORT_RANGE}
     * starting there (several ranks may share a host).
     */
    static RankTransport listen(TrainingSpec spec) {
        if (spec.port() == 0) {
            return RankTransport.listen(spec.bindHost(), 0, spec.transport());
        }
        TransportException last = null;
        int end = Math.min(65535, spec.port() + PORT_RANGE - 1);
        for (int p = spec.port(); p <= end; p++) {
            try {
                return RankTransport.listen(spec.bindHost(), p, spec.transport());
            } catch (TransportException e) {
                last = e;
            }
        }
        throw new TransportException(-1, "no free port in " + spec.port() + "-" + end + " on "
                + spec.bindHost() + ": " + last.getMessage(), last);
    }

    private static List<String> gpus(BarrierTaskContext ctx) {
        ResourceInformation gpu = ctx.resourcesJMap().get("gpu");
        return gpu == null ? List.of() : Arrays.asList(gpu.addresses());
    }

    /** The same on every task of one stage attempt, different for the next attempt and other applications. */
    private static long token(BarrierTaskContext ctx) {
        String app = SparkEnv.get() == null ? "" : SparkEnv.get().conf().getAppId();
        return ((long) app.hashCode() << 32) ^ ((long) ctx.stageId() << 12) ^ ctx.stageAttemptNumber();
    }

    private static RankReport report(BarrierTaskContext ctx, int rank, int ranks, String host, Backend backend,
                                     RankBackend.Opened choice, Dataset shard, RankTrainer.Outcome o,
                                     TransportStats s) {
        String executor = SparkEnv.get() == null ? "?" : SparkEnv.get().executorId();
        return new RankReport(rank, ranks, ctx.stageAttemptNumber(), host, executor, backend.name(),
                backend.device().describe(), choice.reason(), choice.threads(), shard.size(), o.resumedFromStep(),
                o.stepsRun(), o.totalSteps(), o.examples(), o.computeNanos() / 1_000_000, s.allReduces(),
                s.allReduceNanos() / 1e6, s.bytesSent(), o.epochs());
    }
}
