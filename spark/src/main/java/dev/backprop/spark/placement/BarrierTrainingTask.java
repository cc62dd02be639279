package dev.backprop.spark.placement;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.data.Dataset;
import dev.backprop.runtime.Backends;
import dev.backprop.spark.Example;
import dev.backprop.spark.RankReport;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.engine.CheckpointStore;
import dev.backprop.spark.engine.PeerStoppedException;
import dev.backprop.spark.engine.RankTrainer;
import dev.backprop.spark.engine.ShardPlan;
import dev.backprop.spark.transport.JobSecret;
import dev.backprop.spark.transport.PeerAddress;
import dev.backprop.spark.transport.RankTransport;
import dev.backprop.spark.transport.TransportException;
import dev.backprop.spark.transport.TransportStats;
import dev.backprop.train.TrainingStoppedException;
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
 * resumes from rank 0's newest checkpoint. Two failures end the stage on every rank at once instead, as their
 * result, which the driver rethrows, since a rerun would meet them again: a backend a rank cannot open (it announces
 * that in the allGather), and a loss that diverges (under gradient averaging every rank judges the same global
 * loss, so every rank stops at the same step; under parameter averaging a rank whose own loss diverged tells the
 * others in the next parameter average, where they stop with a {@link PeerStoppedException}).
 */
public final class BarrierTrainingTask extends AbstractFunction1<Iterator<Example>, Iterator<RankResult>>
        implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(BarrierTrainingTask.class.getName());

    /** Ports tried from a fixed {@code --port}: enough for the ranks of one host. */
    static final int PORT_RANGE = 32;

    private final TrainingSpec spec;
    private final TransportSecret secret;

    /** A task body for {@code spec} (whose class count must be known); the ranks authenticate with {@code secret}. */
    public BarrierTrainingTask(TrainingSpec spec, TransportSecret secret) {
        this.spec = spec;
        this.secret = secret;
    }

    @Override
    public Iterator<RankResult> apply(Iterator<Example> partition) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        Dataset rows = Shards.toDataset(CollectionConverters.asJava(partition), spec.task(), spec.classes());
        Dataset shard = spec.inputShape() == null ? rows : rows.withFeatureShape(spec.inputShape());
        JobSecret jobSecret = secret.resolve();
        String host = spec.advertiseHost() != null ? spec.advertiseHost()
                : RankAnnouncement.hostOf(ctx.getTaskInfos()[rank].address());
        RankBackend.Opened opened;
        try {
            opened = RankBackend.open(Backends.withProviders(Backends.providers()), spec.backend(), gpus(ctx),
                    ctx.cpus(), spec.threads());
        } catch (BackendUnavailableException e) {
            // The other ranks wait for this one in the allGather: all of them end the stage with its reason.
            String[] lines = ctx.allGather(RankAnnouncement.failed("rank " + rank + " on " + host + ": "
                    + e.getMessage()));
            return result(RankResult.stopped(rank, RankAnnouncement.failure(lines)));
        }
        try (Backend backend = opened.backend();
             RankTransport net = listen(spec, host)) {
            RankAnnouncement me = new RankAnnouncement(new PeerAddress(host, net.port()), backend.name(),
                    shard.size());
            String[] lines = ctx.allGather(me.encode());
            BackendUnavailableException peer = RankAnnouncement.failure(lines);
            if (peer != null) {
                return result(RankResult.stopped(rank, peer));
            }
            List<RankAnnouncement> all = new ArrayList<>();
            for (int r = 0; r < lines.length; r++) {
                all.add(RankAnnouncement.decode(lines[r], r));
            }
            int[] sizes = all.stream().mapToInt(RankAnnouncement::shardSize).toArray();
            if (rank == 0) {
                LOG.info("barrier stage attempt " + ctx.stageAttemptNumber() + ": " + all.size() + " ranks: " + all
                        + "; their connections authenticate with " + jobSecret.describe());
            }
            net.connect(rank, all.stream().map(RankAnnouncement::address).toList(), jobSecret, attempt(ctx));
            ShardPlan plan = new ShardPlan(sizes, spec.batchSize());
            CheckpointStore store = spec.checkpointDir() == null ? null
                    : new HadoopCheckpointStore(spec.checkpointDir());
            try (RankTrainer trainer = new RankTrainer(spec, plan, rank, ctx.stageAttemptNumber(), net, backend,
                    store)) {
                trainer.beforeEachStep(ctx::killTaskIfInterrupted);
                RankTrainer.Outcome o;
                try {
                    o = trainer.train(shard);
                } catch (TrainingStoppedException | PeerStoppedException e) {
                    LOG.info(e.getMessage());
                    return result(RankResult.stopped(rank, e));
                }
                RankReport report = report(ctx, rank, lines.length, host, backend, opened, shard, o, net.stats());
                LOG.info(report.describe());
                return result(RankResult.trained(report, o.modelFile()));
            }
        }
    }

    private static Iterator<RankResult> result(RankResult r) {
        return CollectionConverters.asScala(List.of(r).iterator());
    }

    /**
     * Binds the rank's port on the spec's bind host, or else on {@code advertised} (the address the other ranks are
     * told): any free port, or with a fixed port the first free one of {@link #PORT_RANGE} starting there
     * (several ranks may share a host).
     */
    static RankTransport listen(TrainingSpec spec, String advertised) {
        String bind = spec.bindHost() != null ? spec.bindHost() : advertised;
        if (spec.port() == 0) {
            return RankTransport.listen(bind, 0, spec.transport());
        }
        TransportException last = null;
        int end = Math.min(65535, spec.port() + PORT_RANGE - 1);
        for (int p = spec.port(); p <= end; p++) {
            try {
                return RankTransport.listen(bind, p, spec.transport());
            } catch (TransportException e) {
                last = e;
            }
        }
        throw new TransportException(-1, "no free port in " + spec.port() + "-" + end + " on " + bind + ": "
                + last.getMessage(), last);
    }

    private static List<String> gpus(BarrierTaskContext ctx) {
        ResourceInformation gpu = ctx.resourcesJMap().get("gpu");
        return gpu == null ? List.of() : Arrays.asList(gpu.addresses());
    }

    /** The same on every task of one stage attempt, different for every other attempt of the job's stages. */
    private static long attempt(BarrierTaskContext ctx) {
        return ((long) ctx.stageId() << 32) | (ctx.stageAttemptNumber() & 0xffffffffL);
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
