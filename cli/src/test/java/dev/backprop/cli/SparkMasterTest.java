package dev.backprop.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@link SparkMaster} knows of each master form Spark accepts before Spark starts: the task slots of a master
 * of this machine, counted as Spark's local and local-cluster backends count them, and which masters run their
 * ranks in this JVM.
 */
class SparkMasterTest {
    private static final List<String> CLUSTERS = List.of("spark://host:7077", "spark://h1:7077,h2:7077", "yarn",
            "k8s://https://host:443");

    @Test
    void aMasterOfThisMachineHasTheTaskSlotsSparkGivesIt() {
        int cpus = Runtime.getRuntime().availableProcessors();
        // local: one thread; local[N] and local[N,F] (F: task failures allowed): N threads; local[*]: the processors
        // of this JVM, Spark's localCpuCount. Each task takes spark.task.cpus of them.
        assertEquals(1, SparkMaster.taskSlots("local", 1));
        assertEquals(4, SparkMaster.taskSlots("local[4]", 1));
        assertEquals(2, SparkMaster.taskSlots("local[4]", 2));
        assertEquals(1, SparkMaster.taskSlots("local[5]", 3));
        assertEquals(4, SparkMaster.taskSlots("local[4,2]", 1));
        assertEquals(cpus, SparkMaster.taskSlots("local[*]", 1));
        assertEquals(cpus, SparkMaster.taskSlots("local[*, 3]", 1));
        // local-cluster[N,C,M]: N workers of C cores; a task does not span workers, so 2 workers of 3 cores run 2
        // tasks of 2 cores, not 3.
        assertEquals(6, SparkMaster.taskSlots("local-cluster[2,3,1024]", 1));
        assertEquals(2, SparkMaster.taskSlots("local-cluster[2, 3, 1024]", 2));
        for (String master : CLUSTERS) {
            assertEquals(-1, SparkMaster.taskSlots(master, 1), master + ": its executors register later");
        }
    }

    @Test
    void ranksAreRefusedOnlyBeyondTheSlotsOfAMasterOfThisMachine() {
        SparkMaster.checkRanks("local[4]", 4, 1);
        SparkMaster.checkRanks("local[4,2]", 4, 1);
        SparkMaster.checkRanks("local-cluster[2,3,1024]", 6, 1);
        SparkMaster.checkRanks("local[2]", null, 1);
        for (String master : CLUSTERS) {
            SparkMaster.checkRanks(master, 1000, 1);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkMaster.checkRanks("local-cluster[2,3,1024]", 3, 2));
        assertEquals("--ranks 3: the ranks train in one barrier stage, which runs all of them at once, but --spark "
                + "local-cluster[2,3,1024] runs 2 tasks at once (spark.task.cpus 2); give --ranks 2 or fewer, or a "
                + "master with more threads, such as local[3]", e.getMessage());
    }

    @Test
    void onlyLocalMastersRunTheirRanksInThisJvm() {
        for (String master : List.of("local", "local[4]", "local[*]", "local[4,2]", "local[*, 3]")) {
            assertTrue(SparkMaster.inThisJvm(master), master);
            assertTrue(SparkMaster.onThisMachine(master), master);
        }
        assertFalse(SparkMaster.inThisJvm("local-cluster[2,1,1024]"), "executors of their own, on this machine");
        assertTrue(SparkMaster.onThisMachine("local-cluster[2,1,1024]"));
        for (String master : CLUSTERS) {
            assertFalse(SparkMaster.inThisJvm(master), master);
            assertFalse(SparkMaster.onThisMachine(master), master);
        }
    }
}
