package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recording's call buffer (docs/recording-format.md's events are the same, docs/performance.md,
 * *Recording without a stop*): the common calls a program makes are made in stubs deja writes into it,
 * with no stop, and recorded at its next stop. A recording made so holds the same calls, arguments,
 * inputs, results and outputs as one where every call stops ({@code DEJA_NO_BUFFER=1}); signals that
 * land in a stub are held until the thread is out, and the replay delivers them where they came.
 */
class CallBufferIT {
    private static final Pattern STATS = Pattern.compile(
            "deja: recorded (\\d+) events in (\\d+) stops \\((\\d+) calls performed by deja at one stop, (\\d+) without a stop\\)");
    /** Calls whose results are the same from run to run of ahead_calls (not ids, clocks, addresses). */
    private static final List<String> STABLE = List.of("read", "pread64", "lseek", "fstat", "newfstatat", "statx",
            "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "open", "openat", "close",
            "write", "fcntl");

    @TempDir
    Path home;

    @Test
    void bufferedCallsAreRecordedAsIfEachHadStopped() throws Exception {
        Path scratch = Files.createDirectories(home.resolve("scratch"));
        String sample = Samples.path("ahead_calls");
        Path rec = home.resolve("buffered");
        Runs.Result buffered = record(rec, true, sample, scratch.toString(), "300");
        assertTrue(buffered.stdout().startsWith("300 rounds: "), buffered.stdout());
        Matcher m = STATS.matcher(buffered.stderr());
        assertTrue(m.find(), buffered.stderr());
        long events = Long.parseLong(m.group(1));
        long stops = Long.parseLong(m.group(2));
        long withoutStop = Long.parseLong(m.group(4));
        // 300 rounds of 13 calls: nearly all made in the stubs, a few hundred stops in all
        assertTrue(withoutStop >= 3000, buffered.stderr());
        assertTrue(stops < events / 4, buffered.stderr());

        Path recStops = home.resolve("stops");
        Runs.Result stopped = record(recStops, false, sample, scratch.toString(), "300");
        assertTrue(stopped.stderr().contains(", 0 without a stop)"), stopped.stderr());

        List<String> a = calls(rec);
        assertTrue(a.size() > 3000, "calls compared: " + a.size());
        assertSameCalls(calls(recStops), a);

        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals(buffered.stdout(), replay.stdout());
    }

    @Test
    void aSignalThatLandsInAStubComesWhereTheThreadIsBackInItsCode() throws Exception {
        String sample = Samples.path("buffered_signals");
        Path rec = home.resolve("signals");
        Runs.Result recorded = Runs.deja(home, "record", "-q", "--stats", "-o", rec.toString(), "--", sample, "100000");
        assertEquals(0, recorded.status(), recorded.stdout() + recorded.stderr());
        assertTrue(recorded.stdout().matches("(?s)checksum [0-9a-f]+\nsignals [1-9]\\d*, handler calls [1-9]\\d*\n"),
                recorded.stdout());
        Matcher m = STATS.matcher(recorded.stderr());
        assertTrue(m.find() && Long.parseLong(m.group(4)) > 100_000, recorded.stderr());

        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals(recorded.stdout(), replay.stdout(), "the same signals, at the same calls");
    }

    @Test
    void processesThatForkAndExecKeepTheirBuffersApart() throws Exception {
        // A shell that forks children which run ls and stat files in their own buffers, while it reads their
        // output through a pipe (never buffered) and waits for them.
        String script = "for d in /usr/bin /usr/lib /etc; do ls -l $d | wc -l; done; stat -c %s /etc/passwd";
        Runs.Result nat = Runs.run(home, List.of("sh", "-c", script));
        assertEquals(0, nat.status(), nat.stderr());
        Path rec = home.resolve("tree");
        Runs.Result recorded = Runs.deja(home, "record", "-q", "--stats", "-o", rec.toString(), "--", "sh", "-c", script);
        assertEquals(0, recorded.status(), recorded.stderr());
        assertEquals(nat.stdout(), recorded.stdout());
        Matcher m = STATS.matcher(recorded.stderr());
        assertTrue(m.find() && Long.parseLong(m.group(4)) > 1000, recorded.stderr());
        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals(nat.stdout(), replay.stdout());
    }

    @Test
    void opensSignalActionsAndLimitsInProcessesAndTheirSpawnedChildrenAreRecordedAsIfEachHadStopped() throws Exception {
        Path scratch = Files.createDirectories(home.resolve("scratch"));
        String sample = Samples.path("spawn_calls");
        Path rec = home.resolve("spawn-buffered");
        Runs.Result buffered = record(rec, true, sample, scratch.toString(), "100");
        assertTrue(buffered.stdout().startsWith("100 rounds: "), buffered.stdout());
        Path recStops = home.resolve("spawn-stops");
        Runs.Result stopped = record(recStops, false, sample, scratch.toString(), "100");
        assertEquals(stopped.stdout(), buffered.stdout());
        Matcher m = STATS.matcher(buffered.stderr());
        Matcher n = STATS.matcher(stopped.stderr());
        assertTrue(m.find() && n.find(), buffered.stderr() + stopped.stderr());
        // posix_spawn's 10 children reset 64 signals' actions each, in their parent's buffer
        assertTrue(Long.parseLong(m.group(4)) > 1500, buffered.stderr());
        assertTrue(Long.parseLong(m.group(2)) * 3 < Long.parseLong(n.group(2)), buffered.stderr() + stopped.stderr());

        List<String> a = byProcess(rec);
        assertTrue(a.stream().filter(c -> c.startsWith("rt_sigaction")).count() > 1300, "calls compared: " + a.size());
        assertSameCalls(byProcess(recStops), a);

        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals(buffered.stdout(), replay.stdout());
    }

    /** Records {@code program} into {@code rec} with {@code --stats}, with the call buffer or with every call stopping. */
    private Runs.Result record(Path rec, boolean buffer, String... program) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Runs.launcher().toString(), "record", "-q", "--stats", "-o", rec.toString(), "--"));
        if (!buffer) cmd.addAll(0, List.of("env", "DEJA_NO_BUFFER=1"));
        cmd.addAll(List.of(program));
        Runs.Result r = Runs.run(home, cmd);
        assertEquals(0, r.status(), r.stderr());
        return r;
    }

    /** The same calls, one by one (the first that differs named), and as many. */
    private static void assertSameCalls(List<String> expected, List<String> actual) {
        for (int i = 0; i < Math.min(actual.size(), expected.size()); i++) {
            assertEquals(expected.get(i), actual.get(i), "call " + i + " of " + actual.size());
        }
        assertEquals(expected.size(), actual.size());
    }

    /**
     * The calls of spawn_calls and its children, process after process (each in order; the processes in
     * the order they first appear): name, arguments but pointers, inputs, result, outputs.
     */
    private static List<String> byProcess(Path rec) throws Exception {
        SyscallTable table = SyscallTable.of(Arch.X86_64);
        // the arguments that are no addresses on the stack (the environments differ by DEJA_NO_BUFFER)
        java.util.Map<String, int[]> kept = java.util.Map.of("rt_sigaction", new int[] {0, 3}, "prlimit64", new int[] {0, 1},
                "brk", new int[] {0}, "open", new int[] {1}, "openat", new int[] {0, 2}, "read", new int[] {0, 2},
                "close", new int[] {0});
        java.util.Map<Integer, List<String>> calls = new java.util.LinkedHashMap<>();
        HexFormat hex = HexFormat.of();
        for (Event e : Runs.events(rec)) {
            if (!(e instanceof SyscallEvent s)) continue;
            String name = table.name(s.nr());
            if (!kept.containsKey(name)) continue;
            StringBuilder b = new StringBuilder(name);
            for (int i : kept.get(name)) b.append(' ').append(s.args()[i]);
            b.append(" = ").append(s.result());
            s.inputs().forEach(k -> b.append(" in ").append(k.arg()).append(':').append(hex.formatHex(k.data())));
            s.outputs().forEach(k -> b.append(" out ").append(k.arg()).append(':').append(hex.formatHex(k.data())));
            calls.computeIfAbsent(s.pid(), k -> new ArrayList<>()).add(b.toString());
        }
        List<String> all = new ArrayList<>();
        calls.values().forEach(all::addAll);
        return all;
    }

    /** Each stable call of a recording: its name, arguments but addresses, inputs, result and outputs. */
    private static List<String> calls(Path rec) throws Exception {
        SyscallTable table = SyscallTable.of(Arch.X86_64);
        List<String> calls = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (Event e : Runs.events(rec)) {
            if (!(e instanceof SyscallEvent s)) continue;
            String name = table.name(s.nr());
            if (!STABLE.contains(name)) continue;
            if (name.equals("write") && s.args()[0] == 1) continue; // the checksum printed: the parent's pid is in it
            StringBuilder b = new StringBuilder(name).append(" = ").append(s.result());
            s.inputs().forEach(k -> b.append(" in ").append(k.arg()).append(':').append(hex.formatHex(k.data())));
            s.outputs().forEach(k -> b.append(" out ").append(k.arg()).append(':').append(
                    // a stat's times and a directory entry's inode number are the file's of this run
                    name.contains("stat") || name.equals("getdents64") ? k.length() : hex.formatHex(k.data())));
            calls.add(b.toString());
        }
        return calls;
    }
}
