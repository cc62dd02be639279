package dev.backprop.io;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every file reader given a directory names it: the system's own error for reading one is a bare "Is a directory".
 */
class ReadersNameTheFileTest {
    @TempDir
    Path dir;

    private static String messageOf(Class<? extends Exception> type, Executable read) {
        return assertThrows(type, read).getMessage();
    }

    @Test
    void aDirectoryIsNamedByEachReader() throws IOException {
        Path d = Files.createDirectory(dir.resolve("x.csv"));
        String why = d + ": is a directory, not a file";
        assertEquals(why, messageOf(DataFormatException.class, () -> CsvData.readRows(d)));
        assertEquals(why, messageOf(DataFormatException.class, () -> CsvData.readClassColumn(d)));
        assertEquals(why, IoErrors.message(assertThrows(IOException.class, () -> SafeTensorsFile.open(d))));
        assertEquals(why, IoErrors.message(assertThrows(IOException.class, () -> IoErrors.checkFile(d))));
    }

    @Test
    void aMissingFileIsNamed() {
        Path gone = dir.resolve("gone.safetensors");
        assertEquals(gone + ": no such file or directory",
                IoErrors.message(assertThrows(IOException.class, () -> SafeTensorsFile.open(gone))));
        assertEquals(gone + ": file not found", messageOf(DataFormatException.class, () -> CsvData.readRows(gone)));
    }

    @Test
    void aMessageNamesThePathUnlessTheErrorNamesItsOwnFile() {
        assertEquals(dir + ": Input/output error", IoErrors.message(dir, new IOException("Input/output error")));
        assertEquals("/elsewhere: permission denied",
                IoErrors.message(dir, new java.nio.file.AccessDeniedException("/elsewhere")));
    }
}
