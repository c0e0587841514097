package dev.deja.formats;

import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Seeded random events of every kind, for round trips. */
final class RandomEvents {

    private final Random rnd;
    private long seq;
    /** Hashes the events may name as exeBlob / blob (stored by the test); "" is always possible. */
    List<String> blobs = List.of();

    RandomEvents(long seed) {
        this.rnd = new Random(seed);
    }

    static RecordingHeader header() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/bin:/bin");
        env.put("WEIRD", "quote \" backslash \\ tab \t newline \n nul \u0000 é ☃ \uD83D\uDE00");
        return RecordingHeader.forCommand(List.of("/bin/prog", "arg one", "--x=\"y\""), env, "/home/u", 1000, 1000,
                "6.8.0-test", "x86_64", "host", 1_700_000_000_000_000_000L);
    }

    static RecordingSummary summary(long events) {
        return new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_001_000_000_000L, 0, events, 1);
    }

    static SyscallEvent getppid(long seq) {
        return new SyscallEvent(seq, 4242, 4242, 1_700_000_000_000_000_000L + seq * 1000, 1_700_000_000_000_000_000L + seq * 1000 + 700,
                110, new long[]{0, 0, 0, 0, 0, 0}, List.of(), 4241, List.of(), 0);
    }

    String string() {
        int n = rnd.nextInt(20);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append((char) (rnd.nextInt(3) == 0 ? 0x20 + rnd.nextInt(0x3000) : 'a' + rnd.nextInt(26)));
        return sb.toString();
    }

    byte[] bytes(int n, boolean compressible) {
        byte[] b = new byte[n];
        if (compressible) {
            for (int i = 0; i < n; i++) b[i] = (byte) ("hello world ".charAt(i % 12) + (i / 997 % 3));
        } else {
            rnd.nextBytes(b);
        }
        return b;
    }

    MemoryBlock block() {
        int size = switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> rnd.nextInt(100);
            case 3 -> 511 + rnd.nextInt(3);
            default -> rnd.nextInt(8192);
        };
        return new MemoryBlock(rnd.nextInt(7) - 1, rnd.nextLong(), bytes(size, rnd.nextBoolean()));
    }

    List<MemoryBlock> blocks() {
        int n = rnd.nextInt(4);
        List<MemoryBlock> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(block());
        return l;
    }

    long[] longs(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = switch (rnd.nextInt(3)) {
            case 0 -> rnd.nextInt(100) - 50;
            case 1 -> 0x7ffc_0000_0000L + rnd.nextInt();
            default -> rnd.nextLong();
        };
        return a;
    }

    String blobRef() {
        return blobs.isEmpty() || rnd.nextBoolean() ? "" : blobs.get(rnd.nextInt(blobs.size()));
    }

    int anInt() {
        return rnd.nextBoolean() ? rnd.nextInt(70000) : rnd.nextInt();
    }

    Event next(int kind) {
        seq++;
        long t = rnd.nextLong();
        int pid = anInt(), tid = anInt();
        return switch (kind) {
            case 0 -> new SyscallEvent(seq, pid, tid, t, t + rnd.nextInt(1_000_000), rnd.nextInt(460), longs(6), blocks(),
                    rnd.nextBoolean() ? -rnd.nextInt(4096) : rnd.nextLong(), blocks(), rnd.nextInt(4));
            case 1 -> new SignalEvent(seq, pid, tid, t, rnd.nextInt(65), anInt(), anInt(), anInt(), bytes(128, false), rnd.nextBoolean());
            case 2 -> new SpawnEvent(seq, pid, tid, t, SpawnEvent.Kind.values()[rnd.nextInt(4)], anInt(), anInt(), rnd.nextLong());
            case 3 -> new ExecEvent(seq, pid, tid, t, anInt(), "/usr/" + string(), List.of(string(), string(), ""),
                    blobRef(), longs(rnd.nextInt(40)), bytes(16, false));
            case 4 -> new ExitEvent(seq, pid, tid, t, rnd.nextBoolean(), anInt(), rnd.nextInt(65), rnd.nextBoolean());
            case 5 -> new MappingEvent(seq, pid, tid, t, rnd.nextLong(), rnd.nextLong(), rnd.nextInt(8), rnd.nextInt(), rnd.nextLong(),
                    "/lib/" + string(), rnd.nextLong(), blobRef());
            case 7 -> rnd.nextBoolean() ? ScheduleEvent.start(seq, pid, tid, t)
                    : new ScheduleEvent(seq, pid, tid, t, ScheduleEvent.Kind.PREEMPT, t + rnd.nextInt(1_000_000), longs(27),
                    rnd.nextLong(), rnd.nextLong(), rnd.nextInt(100_000_000), rnd.nextInt(1 << 15), longs(rnd.nextInt(65)),
                    rnd.nextLong(), rnd.nextLong());
            default -> new ContextEvent(seq, pid, tid, t, new ProcessContext(anInt(), anInt(), -1, anInt(), anInt(), anInt(),
                    string(), "/bin/" + string(), "/" + string()));
        };
    }

    Event next() {
        return next(rnd.nextInt(8));
    }

    static List<Event> readAll(Path dir) throws RecordingException {
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            List<Event> out = new ArrayList<>();
            for (Event e; (e = er.next()) != null; ) out.add(e);
            return out;
        }
    }
}
