package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.formats.pack.PackReader;
import dev.deja.formats.pack.PackWriter;
import dev.deja.formats.pack.Packs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Bounded fuzzing of what comes from outside: a recording's meta.json and a pack, with bytes flipped, cut
 * off, or (for a pack) manifest numbers forged with the manifest's checksum made to match. Every case must
 * end, within its time bound, either with the recording read exactly as written or with a
 * {@link RecordingException} whose message names the damaged file: never another exception, never a hang.
 * Seeded: a failure names its case and repeats.
 */
class FuzzTest {

    private static final long SEED = 16;
    private static final int META_CASES = 300;
    private static final int PACK_CASES = 200;
    /** Per case; the slowest legitimate case (unpacking and reading the whole recording) takes well under a second. */
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final Pattern NUMBER = Pattern.compile("(?<=[:\\[ ])\\d+(?=[,}\\]\\n])");

    @TempDir
    Path tmp;
    Path rec;
    String expected;   // the recording as read when intact: header, summary, events

    @BeforeEach
    void write() throws Exception {
        rec = tmp.resolve("rec");
        try (RecordingWriter w = RecordingWriter.create(rec, RandomEvents.header())) {
            String exe = w.storeBlob("#!/bin/sh\necho fuzz\n".getBytes(StandardCharsets.US_ASCII));
            byte[] data = new byte[3000];
            new Random(SEED).nextBytes(data);
            w.append(new ExecEvent(1, 4242, 4242, 1_700_000_000_000_000_000L, 4242, "/bin/prog", List.of("/bin/prog"), exe,
                    new long[]{6, 4096}, new byte[16]));
            w.append(new SyscallEvent(2, 4242, 4242, 1_700_000_000_000_001_000L, 1_700_000_000_000_002_000L, 0,
                    new long[]{3, 0x7ffd_0000_0000L, data.length, 0, 0, 0}, List.of(), data.length,
                    List.of(new MemoryBlock(1, 0x7ffd_0000_0000L, data)), 0));
            w.append(RandomEvents.getppid(3));
            w.append(new ExitEvent(4, 4242, 4242, 1_700_000_000_000_003_000L, true, 0, 0, false));
            w.finish(RandomEvents.summary(4));
        }
        expected = read(rec);
    }

    /** Everything a reader gets from a recording, checked whole (verify), as one comparable string. */
    private static String read(Path dir) throws RecordingException {
        StringBuilder sb = new StringBuilder();
        try (Recording r = Recording.open(dir)) {
            sb.append(r.header()).append('\n').append(r.status()).append('\n').append(r.summary()).append('\n');
            try (EventReader events = r.events()) {
                for (Event e; (e = events.next()) != null; ) sb.append(e).append('\n');
            }
            r.verify();
        }
        return sb.toString();
    }

    /** One to three bit flips, a cut, or both. */
    private static byte[] mutate(byte[] good, Random rnd) {
        byte[] b = good.clone();
        int kind = rnd.nextInt(4);
        if (kind != 1) {
            for (int n = 1 + rnd.nextInt(3); n > 0; n--) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
        if (kind >= 1 && kind <= 2) b = Arrays.copyOf(b, rnd.nextInt(b.length));
        return b;
    }

    /** Runs one case within the bound: the right data, or a RecordingException naming {@code named}. */
    private void oneCase(String which, String named, CaseBody body) {
        assertTimeoutPreemptively(BOUND, () -> {
            try {
                String got = body.run();
                assertEquals(expected, got, which + ": read without an error, so it must read as written");
            } catch (RecordingException e) {
                assertTrue(e.getMessage() != null && e.getMessage().contains(named),
                        which + ": the error must name " + named + ": " + e.getMessage());
            } catch (RuntimeException | Error e) {
                if (e instanceof AssertionError a) throw a;
                fail(which + ": an unexpected " + e, e);
            }
        }, which + " did not end within " + BOUND);
    }

    @FunctionalInterface
    private interface CaseBody {
        String run() throws RecordingException;
    }

    @Test
    void damagedMetadataIsReadRightOrRefusedNamingIt() throws Exception {
        Path meta = rec.resolve("meta.json");
        byte[] good = Files.readAllBytes(meta);
        Random rnd = new Random(SEED);
        int refused = 0;
        for (int i = 0; i < META_CASES; i++) {
            byte[] bad = mutate(good, rnd);
            Files.write(meta, bad);
            boolean[] failed = {false};
            oneCase("meta.json case " + i, "meta.json", () -> {
                try {
                    return read(rec);
                } catch (RecordingException e) {
                    failed[0] = true;
                    throw e;
                }
            });
            if (failed[0]) refused++;
        }
        Files.write(meta, good);
        assertEquals(expected, read(rec));
        // the checksum covers every byte: no change passes
        assertEquals(META_CASES, refused, "every damaged meta.json is refused");
    }

    @Test
    void aDamagedPackIsReadRightOrRefusedNamingIt() throws Exception {
        Path pack = tmp.resolve("fuzz.deja");
        PackWriter.pack(rec, pack, false);
        byte[] good = Files.readAllBytes(pack);
        Random rnd = new Random(SEED + 1);
        Path damaged = tmp.resolve("damaged.deja");
        for (int i = 0; i < PACK_CASES; i++) {
            byte[] bad = i % 4 == 3 ? forgedManifest(good, rnd) : mutate(good, rnd);
            Files.write(damaged, bad);
            oneCase("pack case " + i, "damaged.deja", () -> {
                // what info reads (the manifest and meta.json), then everything, as replay would
                try (PackReader r = PackReader.open(damaged)) {
                    r.metadata();
                    r.check();
                }
                Path dir = Packs.unpackToTemp(damaged);
                try {
                    return read(dir);
                } finally {
                    Recording.deleteTree(dir);
                }
            });
        }
    }

    /**
     * The pack with one number of its manifest (a size, a stored count, a version, a summary field) replaced
     * by another, small or huge, and the manifest's CRC32C recomputed: damage no checksum of the pack catches.
     */
    private static byte[] forgedManifest(byte[] good, Random rnd) {
        ByteBuffer in = ByteBuffer.wrap(good);
        int mlen = in.getInt(12);
        String json = new String(good, 16, mlen, StandardCharsets.UTF_8);
        List<int[]> numbers = new ArrayList<>();
        Matcher m = NUMBER.matcher(json);
        while (m.find()) numbers.add(new int[]{m.start(), m.end()});
        int[] at = numbers.get(rnd.nextInt(numbers.size()));
        long[] choices = {0, 1, 65535, 65536, 1L << 34, 1L << 62, Long.MAX_VALUE, rnd.nextInt(1 << 20)};
        String forged = json.substring(0, at[0]) + choices[rnd.nextInt(choices.length)] + json.substring(at[1]);
        byte[] j = forged.getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(j);
        ByteBuffer out = ByteBuffer.allocate(good.length - mlen + j.length);
        out.put(good, 0, 12).putInt(j.length).put(j).putInt((int) crc.getValue());
        out.put(good, 16 + mlen + 4, good.length - 16 - mlen - 4);
        return out.array();
    }
}
