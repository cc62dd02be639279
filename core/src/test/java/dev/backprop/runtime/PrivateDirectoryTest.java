package dev.backprop.runtime;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where {@link PrivateDirectory} creates its directory, where it refuses to, and how it cleans up. */
class PrivateDirectoryTest {
    private static final int ME = (int) new com.sun.security.auth.module.UnixSystem().getUid();
    private Path work;

    @BeforeEach
    void makeWork() throws IOException {
        work = Files.createTempDirectory("backprop-private-dir-").toRealPath();
    }

    @AfterEach
    void clean() throws Exception {
        chmod("u+rwx", work);
        try (Stream<Path> all = Files.walk(work)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void chmod(String mode, Path p) throws Exception {
        assertEquals(0, new ProcessBuilder("chmod", mode, p.toString()).inheritIO().start().waitFor());
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    private Path base(String mode) throws Exception {
        Path base = Files.createDirectory(work.resolve("base-" + mode));
        chmod(mode, base);
        return base;
    }

    @Test
    void createsAFreshDirectoryOnlyItsOwnerCanUse() throws Exception {
        Path base = base("1777");
        Path a = PrivateDirectory.create(base);
        Path b = PrivateDirectory.create(base);
        assertTrue(a.getFileName().toString().startsWith(PrivateDirectory.PREFIX), a.toString());
        assertEquals(base, a.getParent());
        assertEquals(0700, mode(a));
        assertEquals(ME, (Integer) Files.getAttribute(a, "unix:uid"));
        assertFalse(a.equals(b), "every call makes a new directory");
    }

    @Test
    void refusesABaseOthersCanRenameEntriesIn() throws Exception {
        Path base = base("0777");
        IOException e = assertThrows(IOException.class, () -> PrivateDirectory.create(base));
        assertEquals(base + " is writable by other users and not sticky (mode 777)", e.getMessage());
        Path group = base("0770");
        assertThrows(IOException.class, () -> PrivateDirectory.create(group));
        try (Stream<Path> s = Files.list(base)) {
            assertEquals(0, s.count(), "nothing was created");
        }
    }

    @Test
    void refusesABaseBelowADirectoryOthersCanRenameEntriesIn() throws Exception {
        Path open = base("0777");
        Path base = Files.createDirectory(open.resolve("mine"));
        chmod("0700", base);
        IOException e = assertThrows(IOException.class, () -> PrivateDirectory.create(base));
        assertTrue(e.getMessage().startsWith(open + " is writable by other users and not sticky"), e.getMessage());
    }

    @Test
    void followsALinkedBaseToItsTarget() throws Exception {
        Path target = base("0700");
        Path link = Files.createSymbolicLink(work.resolve("link"), target);
        assertEquals(target, PrivateDirectory.create(link).getParent());
    }

    @Test
    void namesAMissingBase() {
        IOException e = assertThrows(IOException.class, () -> PrivateDirectory.create(work.resolve("absent")));
        assertEquals("it does not exist", e.getMessage());
    }

    @Test
    void acceptsOnlyRootOrThisUserAsOwner() {
        int other = ME + 1;
        assertNull(PrivateDirectory.problem(0, 041777, other), "root's sticky /tmp");
        assertNull(PrivateDirectory.problem(other, 040755, other), "one's own directory");
        assertEquals("belongs to another user (uid 1001, this process runs as uid 1000)",
                PrivateDirectory.problem(1001, 040700, 1000));
        assertEquals("is writable by other users and not sticky (mode 775)", PrivateDirectory.problem(0, 040775, 1000));
        assertNull(PrivateDirectory.problem(1000, 041770, 1000), "sticky: only an entry's owner can rename it");
    }

    @Test
    void newFilesAreExclusiveAndOwnerOnly() throws Exception {
        Path dir = PrivateDirectory.create(base("0700"));
        try (OutputStream out = PrivateDirectory.newFile(dir, "lib.so")) {
            out.write(1);
        }
        assertEquals(0600, mode(dir.resolve("lib.so")));
        assertThrows(FileAlreadyExistsException.class, () -> PrivateDirectory.newFile(dir, "lib.so").close());
        Files.createSymbolicLink(dir.resolve("link.so"), work.resolve("elsewhere.so"));
        assertThrows(FileAlreadyExistsException.class, () -> PrivateDirectory.newFile(dir, "link.so").close());
        assertFalse(Files.exists(work.resolve("elsewhere.so")), "a link is never followed");
    }

    @Test
    void deletesItsFilesAndTheDirectoryButNoOneElses() throws Exception {
        Path base = base("0700");
        Path dir = PrivateDirectory.create(base);
        Path ours = Files.writeString(dir.resolve("ours.so"), "x");
        PrivateDirectory.delete(dir, List.of(ours));
        assertFalse(Files.exists(dir));
        Path again = PrivateDirectory.create(base);
        Path mine = Files.writeString(again.resolve("mine.so"), "x");
        Path foreign = Files.writeString(again.resolve("someone-elses.tmp"), "y");
        PrivateDirectory.delete(again, List.of(mine));
        assertFalse(Files.exists(mine));
        assertTrue(Files.exists(foreign), "a file that is not ours stays, and with it the directory");
    }

    @Test
    void searchPathEntriesOthersCanCreateFilesInAreNamed() throws Exception {
        Path sticky = base("1777");
        Path safe = base("0755");
        assertNull(PrivateDirectory.unsafeSearchPathEntry(safe + ":" + safe.resolve("not/yet")));
        assertEquals("'" + sticky + "' (" + sticky + ") is writable by other users (mode 1777)",
                PrivateDirectory.unsafeSearchPathEntry(safe + ":" + sticky),
                "sticky does not stop a file created first");
        assertEquals("'" + sticky.resolve("lib") + "' (" + sticky + ") is writable by other users (mode 1777)",
                PrivateDirectory.unsafeSearchPathEntry(sticky.resolve("lib").toString()),
                "a missing entry is judged by the directory it would be created in");
        Path open = base("0777");
        Path below = Files.createDirectory(open.resolve("lib"));
        chmod("0755", below);
        assertTrue(PrivateDirectory.unsafeSearchPathEntry(below.toString()).startsWith("'" + below + "' (" + below
                + "): " + open + " is writable by other users and not sticky"));
    }
}
