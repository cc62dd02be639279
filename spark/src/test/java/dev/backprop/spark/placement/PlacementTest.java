package dev.backprop.spark.placement;

import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.Example;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.transport.PeerAddress;
import dev.backprop.spark.transport.RankTransport;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest {
    @Test
    void announcementsRoundTripAndExecutorAddressesLoseTheirPort() {
        RankAnnouncement a = new RankAnnouncement(new PeerAddress("node-7", 41000), "cuda", 12345);
        assertEquals(a, RankAnnouncement.decode(a.encode(), 3));
        assertTrue(assertThrows(IllegalStateException.class, () -> RankAnnouncement.decode("node-7\t1", 2))
                .getMessage().contains("rank 2 announced"));
        assertEquals("10.0.0.5", RankAnnouncement.hostOf("10.0.0.5:38211"));
        assertEquals("worker-1", RankAnnouncement.hostOf("worker-1"));
        assertEquals("fe80::1", RankAnnouncement.hostOf("[fe80::1]:7077"));
    }

    @Test
    void aFixedPortThatIsTakenMovesToTheNextFreeOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            TrainingSpec spec = TrainingSpec.builder(ModelFactory.mlp(new Mlp(new int[] {2, 2}, Activation.Kind.RELU,
                    Init.PYTORCH_DEFAULT, 0)), OptimizerChoice.sgd(0.1))
                    .listen("127.0.0.1", taken.getLocalPort()).build();
            try (RankTransport t = BarrierTrainingTask.listen(spec, "127.0.0.1")) {
                assertTrue(t.port() > taken.getLocalPort() && t.port() < taken.getLocalPort() + 32, "port " + t.port());
            }
        }
    }

    @Test
    void summariesCatchDataThatCannotBeTrained() {
        DataSummary a = DataSummary.of(List.of(Example.labelled(new float[] {1, 2}, 4)).iterator(), 0);
        DataSummary b = DataSummary.of(List.of(Example.labelled(new float[] {3, 4}, 1)).iterator(), 1);
        DataSummary all = DataSummary.merge(List.of(a, b));
        assertEquals(5, all.classes(Task.CLASSIFICATION, 0, null));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> all.classes(Task.CLASSIFICATION, 3, null))
                .getMessage().contains("label 4 is outside the 3 classes"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> all.classes(Task.REGRESSION, 0, null))
                .getMessage().contains("carry class labels"));
        DataSummary t = DataSummary.of(List.of(Example.withTargets(new float[] {1}, 0.5f, 2f)).iterator(), 0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> t.classes(Task.BINARY, 0, null))
                .getMessage().contains("one 0/1 target per example, got 2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DataSummary.of(List.of(
                Example.labelled(new float[] {1}, 0), Example.withTargets(new float[] {1}, 1f)).iterator(), 6))
                .getMessage().contains("partition 6, example 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DataSummary.merge(List.of(
                DataSummary.of(List.<Example>of().iterator(), 0)))).getMessage()
                .contains("the training data is empty"));
    }

    /**
     * One class's examples (a CSV whose label column names one class, given as 1 class by the driver, or inferred
     * from labels all 0) train a one-logit softmax whose loss is 0 whatever the weights; the Spark engine refuses
     * them as the one-machine trainer does ({@code Task.outputs}).
     */
    @Test
    void summariesRefuseOneClassForTraining() {
        DataSummary one = DataSummary.of(List.of(Example.labelled(new float[] {1, 2}, 0),
                Example.labelled(new float[] {3, 4}, 0)).iterator(), 0);
        for (int given : new int[] {0, 1}) {
            assertEquals("task classification needs at least 2 classes to train, but the data has 1; give examples "
                    + "of another class", assertThrows(IllegalArgumentException.class,
                            () -> one.classes(Task.CLASSIFICATION, given, null)).getMessage());
        }
        assertEquals("task classification needs at least 2 classes to train, but the data has 1 ('cat'); give "
                + "examples of another class", assertThrows(IllegalArgumentException.class,
                        () -> one.classes(Task.CLASSIFICATION, 1, List.of("cat"))).getMessage());
        assertEquals(2, one.classes(Task.CLASSIFICATION, 2, null));
    }
}
