package dev.deja.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseFilesTest {
    private static final int MIB = 1 << 20;

    /** Data, zeros, data, a zero run shorter than a chunk, and zeros at the end; the copy reads the same. */
    @Test
    void aCopyHoldsTheSameBytesAndDigestAndLength(@TempDir Path dir) throws Exception {
        Random r = new Random(7);
        for (int[] layout : new int[][] {{0}, {1}, {MIB}, {3 * MIB + 5}, {MIB + 17, 0}}) {
            byte[] content = new byte[layout[0] + 4 * MIB + 123];
            r.nextBytes(content);
            java.util.Arrays.fill(content, MIB, 3 * MIB, (byte) 0);                  // two whole chunks of zeros
            java.util.Arrays.fill(content, 3 * MIB + 10, 3 * MIB + 4000, (byte) 0);  // a short run, inside a chunk
            if (layout.length > 1) java.util.Arrays.fill(content, content.length - 2 * MIB, content.length, (byte) 0);
            Path copy = dir.resolve("c" + layout[0] + "-" + layout.length);
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            long n;
            try (FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                n = SparseFiles.copy(new ByteArrayInputStream(content), out, md);
            }
            assertEquals(content.length, n);
            assertArrayEquals(content, Files.readAllBytes(copy));
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(content), md.digest());
        }
    }

    @Test
    void anEmptyInputMakesAnEmptyFile(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("empty");
        try (FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals(0, SparseFiles.copy(new ByteArrayInputStream(new byte[0]), out, null));
        }
        assertEquals(0, Files.size(copy));
    }

    /** 64 MiB of zeros between two bytes: holes on disk (stat's block count), where the filesystem has them. */
    @Test
    void zerosTakeNoBlocks(@TempDir Path dir) throws Exception {
        Path from = dir.resolve("from");
        byte[] content = new byte[64 * MIB + 2];
        content[0] = 1;
        content[content.length - 1] = 2;
        Files.write(from, content);
        Path to = Files.createFile(dir.resolve("to"));
        assertEquals(content.length, SparseFiles.copy(from, to));
        assertArrayEquals(content, Files.readAllBytes(to));
        Process stat = new ProcessBuilder("stat", "-c", "%b %B", to.toString()).start();
        String[] blocks = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
        long allocated = Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
        assertTrue(allocated < 8 * MIB, "the copy takes " + allocated + " bytes on disk");
    }
}
