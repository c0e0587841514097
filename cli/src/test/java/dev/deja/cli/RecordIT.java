package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja record} end to end, through the real launcher, on real programs: the program behaves
 * as without deja, and the recording holds what it did.
 */
class RecordIT {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.current());

    @TempDir
    Path home;

    private static List<SyscallEvent> calls(List<Event> events, String name) {
        int nr = TABLE.number(name).orElseThrow();
        return events.stream().filter(e -> e instanceof SyscallEvent s && s.nr() == nr).map(e -> (SyscallEvent) e)
                .toList();
    }

    private static <T extends Event> List<T> of(List<Event> events, Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static byte[] outputBytes(SyscallEvent e) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (MemoryBlock m : e.outputs()) b.writeBytes(m.data());
        return b.toByteArray();
    }

    private static byte[] inputBytes(SyscallEvent e, int arg) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (MemoryBlock m : e.inputs()) if (m.arg() == arg) b.writeBytes(m.data());
        return b.toByteArray();
    }

    /** Everything the program wrote to fd 1, reassembled from the recorded write calls. */
    private static String recordedStdout(List<Event> events, int pid) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (SyscallEvent w : calls(events, "write")) {
            if (w.pid() == pid && w.arg(0) == 1 && w.result() > 0) {
                byte[] in = inputBytes(w, 1);
                b.write(in, 0, (int) Math.min(in.length, w.result()));
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private Path record(Runs.Result[] out, String... command) throws Exception {
        Path rec = home.resolve("rec");
        String[] args = new String[command.length + 5];
        args[0] = "record";
        args[1] = "-q";
        args[2] = "-o";
        args[3] = rec.toString();
        args[4] = "--";
        System.arraycopy(command, 0, args, 5, command.length);
        out[0] = Runs.deja(home, args);
        return rec;
    }

    @Test
    void lsLaBehavesAsNativeAndItsDirectoryEntriesAreRecorded(@TempDir Path top) throws Exception {
        Path dir = Files.createDirectory(top.resolve("listed")); // its parent ".." stays still between runs
        Files.writeString(dir.resolve("alpha.txt"), "a");
        Files.writeString(dir.resolve("beta.conf"), "bb");
        Runs.Result nat = Runs.nativeRun("ls", "-la", "--time-style=+", dir.toString());
        Runs.Result[] r = new Runs.Result[1];
        Path rec = record(r, "ls", "-la", "--time-style=+", dir.toString());
        assertEquals(nat.status(), r[0].status());
        assertEquals(nat.stdout(), r[0].stdout());
        assertEquals("", r[0].stderr());
        List<Event> events = Runs.events(rec);
        String entries = calls(events, "getdents64").stream().filter(e -> e.result() > 0)
                .map(e -> new String(outputBytes(e), StandardCharsets.ISO_8859_1)).collect(Collectors.joining());
        assertTrue(entries.contains("alpha.txt") && entries.contains("beta.conf"), entries);
        ExecEvent exec = of(events, ExecEvent.class).getFirst();
        assertEquals(List.of("ls", "-la", "--time-style=+", dir.toString()), exec.argv());
        assertFalse(exec.exeBlob().isEmpty(), "the executable was not copied into the blob store");
        try (Recording recording = Recording.open(rec)) {
            assertEquals(RecordingStatus.COMPLETE, recording.status());
            assertArrayEquals(Files.readAllBytes(Path.of(exec.path())), Files.readAllBytes(recording.blob(exec.exeBlob())));
            // libc was mapped by ld.so: its copy is in the store too.
            MappingEvent libc = of(events, MappingEvent.class).stream().filter(m -> m.path().contains("libc.so"))
                    .findFirst().orElseThrow();
            assertArrayEquals(Files.readAllBytes(Path.of(libc.path())), Files.readAllBytes(recording.blob(libc.blob())));
        }
        assertEquals(r[0].stdout(), recordedStdout(events, exec.pid()));
    }

    @Test
    void readsCarryTheFileBytes(@TempDir Path dir) throws Exception {
        byte[] content = new byte[100_000];
        for (int i = 0; i < content.length; i++) content[i] = (byte) ('a' + i % 26);
        Path file = dir.resolve("in.txt");
        Files.write(file, content);
        Runs.Result[] r = new Runs.Result[1];
        // md5sum reads the file through its buffer (cat would copy_file_range it inside the kernel).
        Runs.Result nat = Runs.nativeRun("md5sum", file.toString());
        Path rec = record(r, "md5sum", file.toString());
        assertEquals(0, r[0].status());
        assertEquals(nat.stdout(), r[0].stdout());
        List<Event> events = Runs.events(rec);
        SyscallEvent open = calls(events, "openat").stream()
                .filter(e -> new String(inputBytes(e, 1), StandardCharsets.UTF_8).startsWith(file.toString()))
                .findFirst().orElseThrow();
        int fd = (int) open.result();
        int readNr = TABLE.number("read").orElseThrow();
        int closeNr = TABLE.number("close").orElseThrow();
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        // The file's reads: on its descriptor, after its open, until that descriptor is closed.
        for (Event ev : events) {
            if (!(ev instanceof SyscallEvent e) || e.seq() < open.seq() || e.arg(0) != fd) continue;
            if (e.nr() == closeNr) break;
            if (e.nr() == readNr && e.result() > 0) {
                assertEquals(e.result(), outputBytes(e).length, "read's output is sized by its result");
                read.writeBytes(outputBytes(e));
            }
        }
        assertArrayEquals(content, read.toByteArray());
    }

    @Test
    void dateTimeIsASyscallWhoseTimespecIsRecorded() throws Exception {
        Runs.Result[] r = new Runs.Result[1];
        long before = System.currentTimeMillis() / 1000;
        Path rec = record(r, "date", "+%s");
        long after = System.currentTimeMillis() / 1000;
        assertEquals(0, r[0].status());
        long printed = Long.parseLong(r[0].stdout().trim());
        List<Event> events = Runs.events(rec);
        SyscallEvent clock = calls(events, "clock_gettime").stream().filter(e -> e.arg(0) == 0).findFirst().orElseThrow();
        byte[] ts = outputBytes(clock);
        assertEquals(16, ts.length, "struct timespec");
        long sec = java.nio.ByteBuffer.wrap(ts).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(printed, sec, "date printed the time the recording holds");
        assertTrue(sec >= before && sec <= after);
    }

    @Test
    void shellPipelineForksAndExecsEveryStage() throws Exception {
        Runs.Result[] r = new Runs.Result[1];
        Path rec = record(r, "/bin/sh", "-c", "printf 'b\\na\\nc\\n' | sort | head -n 2");
        assertEquals(0, r[0].status());
        assertEquals("a\nb\n", r[0].stdout());
        List<Event> events = Runs.events(rec);
        Set<String> programs = of(events, ExecEvent.class).stream().map(e -> Path.of(e.path()).getFileName().toString())
                .collect(Collectors.toSet());
        assertTrue(programs.containsAll(Set.of("dash", "sort", "head")), programs.toString());
        assertTrue(of(events, SpawnEvent.class).size() >= 2);
        List<SyscallEvent> pipes = calls(events, "pipe2");
        pipes = pipes.isEmpty() ? calls(events, "pipe") : pipes;
        assertFalse(pipes.isEmpty());
        assertEquals(8, outputBytes(pipes.getFirst()).length, "pipe's two descriptors");
        long processExits = of(events, ExitEvent.class).stream().filter(ExitEvent::processExit).count();
        assertTrue(processExits >= 3, "every process's exit is recorded");
        // Every event number appears once, from 1 without gaps.
        long[] seqs = events.stream().mapToLong(Event::seq).sorted().toArray();
        for (int i = 0; i < seqs.length; i++) assertEquals(i + 1, seqs[i]);
    }

    @Test
    void multiThreadedProgramHasOneThreadSpawnPerThread() throws Exception {
        Runs.Result nat = Runs.nativeRun(Samples.path("threads"));
        Runs.Result[] r = new Runs.Result[1];
        Path rec = record(r, Samples.path("threads"));
        assertEquals(0, r[0].status());
        assertEquals(nat.stdout(), r[0].stdout());
        List<Event> events = Runs.events(rec);
        List<SpawnEvent> threads = of(events, SpawnEvent.class).stream()
                .filter(s -> s.spawnKind() == SpawnEvent.Kind.THREAD).toList();
        assertEquals(4, threads.size());
        Set<Integer> tids = events.stream().filter(e -> e instanceof SyscallEvent).map(Event::tid)
                .collect(Collectors.toSet());
        assertTrue(tids.size() >= 5, "syscalls of the main thread and of 4 threads: " + tids);
        for (SpawnEvent t : threads) assertEquals(t.pid(), t.childPid());
    }

    @Test
    void signalsAreRecordedAndDeathBySignalIsTheExitStatus() throws Exception {
        Runs.Result[] r = new Runs.Result[1];
        Path rec = record(r, Samples.path("signals"));
        assertEquals(0, r[0].status(), r[0].stderr());
        Set<Integer> signals = of(Runs.events(rec), SignalEvent.class).stream().map(SignalEvent::signo)
                .collect(Collectors.toSet());
        assertTrue(signals.containsAll(Set.of(10, 14)), "SIGUSR1 and SIGALRM: " + signals);

        Path rec2 = home.resolve("killed");
        Runs.Result k = Runs.deja(home, "record", "-q", "-o", rec2.toString(), "--", Samples.path("signals"), "kill");
        assertEquals(128 + 15, k.status());
        ExitEvent exit = of(Runs.events(rec2), ExitEvent.class).stream().filter(ExitEvent::processExit).findFirst()
                .orElseThrow();
        assertEquals(15, exit.termSignal());
    }

    /**
     * A program that signals its own process group ({@code kill 0}, as {@code trap 'kill 0' EXIT} scripts
     * do), started in deja's group as from a shell: the signal reaches its processes as natively and not deja,
     * which SIGUSR1 used to kill (status 138, the recording cut off). The replay prints the same lines.
     */
    @Test
    void aKillOfTheProgramsOwnProcessGroupLeavesDejaOut() throws Exception {
        String script = "trap 'echo parent got USR1' USR1;"
                + " sh -c 'trap \"echo child got USR1; exit 7\" USR1; while :; do sleep 0.05; done' &"
                + " sleep 0.3; kill -USR1 0; wait $!; echo child status $?";
        Path rec = home.resolve("group-kill");
        // setsid: deja leads a group of its own, as a shell's job; else the group is the test runner's.
        Runs.Result r = Runs.run(home, List.of("setsid", "-w", Runs.launcher().toString(), "record", "-q", "-o",
                rec.toString(), "--", "/bin/sh", "-c", script));
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        Set<String> expected = Set.of("parent got USR1", "child got USR1", "child status 7");
        assertEquals(expected, Set.copyOf(r.stdout().lines().toList()), r.stdout());
        SyscallEvent kill = calls(Runs.events(rec), "kill").stream().filter(e -> e.arg(0) == 0).findFirst().orElseThrow();
        assertEquals(0, kill.result());
        assertTrue((kill.flags() & SyscallEvent.SKIPPED) != 0, "answered by deja");
        Runs.Result replay = Runs.run(home, List.of("setsid", "-w", Runs.launcher().toString(), "replay", rec.toString()));
        assertEquals(0, replay.status(), replay.stdout() + replay.stderr());
        assertEquals(expected, Set.copyOf(replay.stdout().lines().toList()), replay.stdout());
    }

    /**
     * signal_in_jit noguard: no instruction of the loop can take a guard, so each 2 ms SIGALRM the recorder
     * holds back while it steps the thread finds none in reach and must then arrive where the stepping ended.
     * Held again at that delivery, it never came: the loop, which ends after 5 signals, ran on for ever.
     */
    @Test
    void aSignalHeldBackWithNoGuardableInstructionInReachStillArrives() throws Exception {
        Path rec = home.resolve("noguard");
        Runs.Result r = Runs.dejaWithin(java.time.Duration.ofSeconds(60), home, "record", "-q", "-o", rec.toString(), "--",
                Samples.path("signal_in_jit"), "5", "2000", "noguard");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        assertTrue(r.stdout().matches("turns=\\d+ signals=([5-9]|\\d\\d+) code=0x[0-9a-f]+\n"), r.stdout());
    }

    @Test
    void eightMebibytesInOneMebibyteReads(@TempDir Path dir) throws Exception {
        Runs.Result nat = Runs.nativeRun(Samples.path("bigread"), dir.toString());
        Runs.Result[] r = new Runs.Result[1];
        Path rec = record(r, Samples.path("bigread"), dir.toString());
        assertEquals(0, r[0].status());
        assertEquals(nat.stdout(), r[0].stdout());
        List<SyscallEvent> big = calls(Runs.events(rec), "read").stream().filter(e -> e.result() == 1 << 20).toList();
        assertEquals(8, big.size());
        for (SyscallEvent e : big) assertEquals(1 << 20, outputBytes(e).length);
    }

    @Test
    void forkExecAndVforkAreFollowedAndTheStatusPropagates() throws Exception {
        Runs.Result nat = Runs.nativeRun(Samples.path("forkexec"));
        Runs.Result[] r = new Runs.Result[1];
        Path rec = record(r, Samples.path("forkexec"));
        assertEquals(3, nat.status());
        assertEquals(3, r[0].status());
        assertEquals(nat.stdout().lines().count(), r[0].stdout().lines().count());
        List<Event> events = Runs.events(rec);
        Set<SpawnEvent.Kind> kinds = of(events, SpawnEvent.class).stream().map(SpawnEvent::spawnKind)
                .collect(Collectors.toSet());
        assertTrue(kinds.contains(SpawnEvent.Kind.VFORK), kinds.toString());
        assertTrue(of(events, ExecEvent.class).size() >= 3);
    }

    @Test
    void programStartsWithTheSignalStateDejaWasGivenNotTheJvms() throws Exception {
        String[] cmd = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"};
        Runs.Result nat = Runs.nativeRun(cmd);
        Runs.Result[] r = new Runs.Result[1];
        record(r, cmd);
        assertEquals(nat.stdout(), r[0].stdout());
    }

    @Test
    void pythonRuns() throws Exception {
        Runs.Result[] r = new Runs.Result[1];
        Path rec = record(r, "python3", "-c", "import os, random; print(len(os.listdir('/')) > 0, random.random() < 1)");
        assertEquals(0, r[0].status(), r[0].stderr());
        assertEquals("True True\n", r[0].stdout());
        assertFalse(calls(Runs.events(rec), "getrandom").isEmpty(), "python seeds from getrandom");
    }

    @Test
    void unknownCommandIsReportedLikeAShell() throws Exception {
        Runs.Result r = Runs.deja(home, "record", "--", "no-such-program-deja");
        assertEquals(127, r.status());
        assertTrue(r.stderr().contains("no-such-program-deja: command not found"), r.stderr());
        assertFalse(r.stderr().contains("Exception"), r.stderr());
    }

    @Test
    void defaultLocationLatestLinkLsInfoAndJsonDump() throws Exception {
        Runs.Result r = Runs.deja(home, "record", "--", "/bin/echo", "hello");
        assertEquals(0, r.status());
        assertEquals("hello\n", r.stdout());
        assertTrue(Files.isDirectory(home.resolve("echo-1")), "default name <program>-N");
        assertTrue(Files.isSymbolicLink(home.resolve("latest")));
        Runs.Result ls = Runs.deja(home, "ls");
        assertTrue(ls.stdout().contains("echo-1") && ls.stdout().contains("/bin/echo hello"), ls.stdout());
        Runs.Result info = Runs.deja(home, "info");
        assertTrue(info.stdout().contains("status:    complete"), info.stdout());
        assertTrue(info.stdout().lines().anyMatch(l -> l.matches("events: +\\d+")), info.stdout());
        Runs.Result dump = Runs.deja(home, "dump", "echo-1");
        assertTrue(dump.stdout().lines().anyMatch(l -> l.matches("\\[pid \\d+\\] write\\(1, \"hello\\\\n\", 6\\) += 6")),
                dump.stdout());
        Runs.Result json = Runs.deja(home, "dump", "--json", "latest");
        Path jl = home.resolve("dump.jsonl");
        Files.writeString(jl, json.stdout());
        Runs.Result check = Runs.nativeRun("python3", "-c",
                "import json,sys\nn=0\nfor l in open(sys.argv[1]):\n  e=json.loads(l); n+=1\n  assert 'seq' in e and 'kind' in e\nprint(n)",
                jl.toString());
        assertEquals(0, check.status(), check.stderr());
        assertTrue(Integer.parseInt(check.stdout().trim()) > 20);
    }

    @Test
    void corruptOrMissingRecordingIsOneClearLine() throws Exception {
        Runs.Result missing = Runs.deja(home, "dump", home.resolve("nope").toString());
        assertEquals(ExitCodes.DEJA_FAILURE, missing.status());
        assertTrue(missing.stderr().startsWith("deja: "), missing.stderr());
        assertFalse(missing.stderr().contains("\tat "), "no stack trace: " + missing.stderr());
        Path notRec = Files.createDirectories(home.resolve("plain"));
        Files.writeString(notRec.resolve("x"), "x");
        Runs.Result plain = Runs.deja(home, "info", notRec.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, plain.status());
        assertFalse(plain.stderr().contains("\tat "), plain.stderr());
    }

    private static void signal(Process p, String sig) throws Exception {
        assertEquals(0, Runs.nativeRun("kill", "-" + sig, Long.toString(p.pid())).status());
    }

    private static void assertGone(int pid) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (Files.exists(Path.of("/proc", Integer.toString(pid)))) {
            if (System.nanoTime() > deadline) throw new AssertionError("traced process " + pid + " was left behind");
            Thread.sleep(50);
        }
    }

    @Test
    void ctrlCEndsTheTreeAndKeepsTheEventsMarkedInterrupted() throws Exception {
        Path rec = home.resolve("int");
        Process p = Runs.startSleeper(home, rec, home.resolve("int.out"));
        signal(p, "INT");
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(130, p.exitValue());
        List<Event> events = Runs.events(rec);
        try (Recording recording = Recording.open(rec)) {
            assertEquals(RecordingStatus.INTERRUPTED, recording.status());
        }
        assertEquals("started\n", recordedStdout(events, of(events, ExecEvent.class).getFirst().pid()));
        assertGone(of(events, ExecEvent.class).getLast().pid());
    }

    @Test
    void sigkillOfDejaKeepsEveryEventWrittenAndKillsTheTree() throws Exception {
        Path rec = home.resolve("kill");
        Process p = Runs.startSleeper(home, rec, home.resolve("kill.out"));
        signal(p, "KILL");
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        List<Event> events = Runs.events(rec);
        try (Recording recording = Recording.open(rec)) {
            assertEquals(RecordingStatus.INCOMPLETE, recording.status());
        }
        ExecEvent sleep = of(events, ExecEvent.class).getLast();
        assertTrue(sleep.path().endsWith("sleep"), sleep.toString());
        assertEquals("started\n", recordedStdout(events, sleep.pid()));
        assertGone(sleep.pid());
    }

    @Test
    void theProgramsOwnOptionsNeedNoDoubleDash() throws Exception {
        Path rec = home.resolve("no-dashes");
        Runs.Result r = Runs.deja(home, "record", "-q", "-o", rec.toString(), "ls", "-d", "--", "/");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("/\n", r.stdout());
        Runs.Result help = Runs.deja(home, "record", "--help");
        assertEquals(0, help.status(), help.stderr());
        assertTrue(help.stdout().contains("Usage: deja record"), help.stdout());
    }
}
