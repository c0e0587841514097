package dev.deja.formats;

import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The stored recording of format version 1 (src/test/resources/fixtures/v1/tiny) must read the
 * same forever. To regenerate it (only when creating a new format version's fixture, never to
 * "fix" this test): run {@link #main} with the target directory.
 */
class FixtureV1Test {

    static final String ID = "6f0c1a52-6b7e-4c1d-9a57-0d2c3e4f5a61";
    static final byte[] EXE = "#!/bin/sh\necho fixture\n".getBytes(StandardCharsets.US_ASCII);

    static String exeHash() throws java.security.NoSuchAlgorithmException {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(EXE));
    }

    static RecordingHeader header() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", "/home/fixture");
        env.put("LANG", "C.UTF-8");
        return new RecordingHeader(1, "0.1.0-SNAPSHOT", ID, List.of("/bin/fixture", "--flag", "x y"), env,
                "/home/fixture", 1000, 1000, "6.8.0-fixture", "x86_64", "fixturehost", 1_700_000_000_123_456_789L);
    }

    static List<Event> events(String exeHash) {
        long t = 1_700_000_000_200_000_000L;
        byte[] text = "fixture text that compresses well. ".repeat(60).getBytes(StandardCharsets.US_ASCII);
        byte[] siginfo = new byte[128];
        siginfo[0] = 14;
        return List.of(
                new ExecEvent(1, 500, 500, t, 500, "/bin/fixture", List.of("/bin/fixture", "--flag", "x y"), exeHash,
                        new long[]{6, 4096, 25, 0x7ffd_0000_1000L, 0, 0}, new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}),
                new ContextEvent(2, 500, 500, t + 1, new ProcessContext(500, 1, 1000, 1000, 1000, 1000, "fixture", "/bin/fixture", "/home/fixture")),
                new MappingEvent(3, 500, 500, t + 2, 0x7f00_0000_0000L, 8192, 5, 2, 0, "/bin/fixture", EXE.length, exeHash),
                new SyscallEvent(4, 500, 500, t + 3, t + 4, 110, new long[6], List.of(), 1, List.of(), 0),
                new SyscallEvent(5, 500, 500, t + 5, t + 9, 1, new long[]{1, 0x7ffd_0000_2000L, text.length, 0, 0, 0},
                        List.of(new MemoryBlock(1, 0x7ffd_0000_2000L, text)), text.length, List.of(), 0),
                new SyscallEvent(6, 500, 500, t + 10, t + 12, 0, new long[]{0, 0x7ffd_0000_3000L, 16, 0, 0, 0}, List.of(),
                        -11, List.of(new MemoryBlock(1, 0x7ffd_0000_3000L, new byte[]{42})), SyscallEvent.UNKNOWN_WRITES),
                new SpawnEvent(7, 500, 500, t + 13, SpawnEvent.Kind.THREAD, 500, 501, 0x3d0f00),
                new SignalEvent(8, 500, 501, t + 14, 14, 0, 0, 0, siginfo, true),
                new ExitEvent(9, 500, 501, t + 15, false, 0, 0, false),
                new SyscallEvent(10, 500, 500, t + 16, t + 16, 231, new long[]{3, 0, 0, 0, 0, 0}, List.of(), 0, List.of(), SyscallEvent.NO_EXIT),
                new ExitEvent(11, 500, 500, t + 17, true, 3, 0, false));
    }

    static RecordingSummary summary() {
        return new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_000_300_000_000L, 3, 11, 1);
    }

    /** Writes the fixture into args[0] (which must not exist), its queue file cut after the data. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        try (RecordingWriter w = RecordingWriter.create(dir, header())) {
            String hash = w.storeBlob(EXE);
            if (!hash.equals(exeHash())) throw new AssertionError(hash);
            for (Event e : events(hash)) w.append(e);
            w.finish(summary());
        }
        try (Stream<Path> s = Files.list(dir.resolve("journal"))) {
            for (Path q : s.filter(p -> p.toString().endsWith(".cq4")).toList()) {
                byte[] all = Files.readAllBytes(q);
                int last = all.length - 1;
                while (last >= 0 && all[last] == 0) last--;
                long keep = ((last + 1) + 4095) / 4096 * 4096;   // the sparse tail is zeros: keep the git file small
                try (FileChannel ch = FileChannel.open(q, StandardOpenOption.WRITE)) {
                    ch.truncate(keep);
                }
            }
        }
    }

    private static Path fixture() throws URISyntaxException {
        return Path.of(FixtureV1Test.class.getResource("/fixtures/v1/tiny/meta.json").toURI()).getParent();
    }

    @Test
    void readsTheStoredVersion1Recording(@TempDir Path tmp) throws Exception {
        Path copy = tmp.resolve("tiny");      // read a copy: never touch the fixture
        copyTree(fixture(), copy);
        try (Recording r = Recording.open(copy)) {
            assertEquals(header(), r.header());
            assertFalse(r.metadataChecksummed(), "version 1 recordings made before the metadata checksum have none");
            assertEquals(RecordingStatus.COMPLETE, r.status());
            assertEquals(summary(), r.summary().orElseThrow());
            String hash = exeHash();
            assertArrayEquals(EXE, Files.readAllBytes(r.blob(hash)));
            try (EventReader er = r.events()) {
                for (Event expected : events(hash)) assertEquals(expected, er.next());
                assertNull(er.next());
            }
            r.verify();
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }
}
