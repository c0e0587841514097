package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recording performs some calls in deja's own process, at their seccomp stop (docs/performance.md, "Calls
 * deja performs itself"). The sample {@code emulated_calls} makes them in the cases where that could answer
 * otherwise than the kernel (a read into a read-only page, a pipe end stat'd then closed, paths through
 * /proc/self and a symlink to it, /dev/fd): recorded, it prints what it prints natively, and its calls have
 * the results they have with every call run in the kernel ({@code DEJA_NO_EMULATION=1}); the replay prints
 * it again.
 */
class EmulationIT {
    private static final Pattern STATS = Pattern.compile(
            "deja: recorded (\\d+) events in (\\d+) stops \\((\\d+) calls performed by deja at one stop, (\\d+) without a stop\\)");
    /** Calls whose results are the same from run to run of the sample (not ids, clocks, addresses). */
    private static final Set<String> STABLE = Set.of("read", "pread64", "lseek", "fstat", "newfstatat", "statx",
            "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "fcntl", "openat", "close",
            "write");

    @TempDir
    Path home;

    @Test
    void callsDejaPerformsAnswerAsTheKernelDoes() throws Exception {
        Path scratch = Files.createDirectories(home.resolve("scratch"));
        String sample = Samples.path("emulated_calls");
        Runs.Result nat = Runs.nativeRun(sample, scratch.toString());
        assertEquals(0, nat.status(), nat.stderr());

        Path rec = home.resolve("performed");
        Runs.Result performed = Runs.deja(home, "record", "-q", "--stats", "-o", rec.toString(), "--", sample,
                scratch.toString());
        assertEquals(0, performed.status(), performed.stderr());
        assertEquals(nat.stdout(), performed.stdout());
        Matcher m = STATS.matcher(performed.stderr());
        assertTrue(m.find(), performed.stderr());
        long events = Long.parseLong(m.group(1));
        long stops = Long.parseLong(m.group(2));
        long atOneStop = Long.parseLong(m.group(3)) + Long.parseLong(m.group(4));
        // the sample's reads, stats, readlinks, accesses, clock, random bytes and ids, at least
        assertTrue(atOneStop >= 25, performed.stderr());
        assertTrue(stops < 2 * events, performed.stderr());

        Path recKernel = home.resolve("kernel");
        Runs.Result kernel = Runs.run(home, List.of("env", "DEJA_NO_EMULATION=1", Runs.launcher().toString(), "record",
                "-q", "--stats", "-o", recKernel.toString(), "--", sample, scratch.toString()));
        assertEquals(0, kernel.status(), kernel.stderr());
        assertEquals(nat.stdout(), kernel.stdout());
        assertTrue(kernel.stderr().contains("(0 calls performed by deja at one stop, 0 without a stop)"), kernel.stderr());

        assertEquals(stableCalls(recKernel), stableCalls(rec));

        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals(nat.stdout(), replay.stdout());
    }

    @Test
    void aFileSystemServedByATracedProcessIsLeftToTheKernel() throws Exception {
        // A call deja made on it in its own process (a stat's lookup, a read, even closing its copy of the
        // descriptor) would wait for the server, a traced process stopped until deja goes on: a deadlock.
        assumeTrue(Host.uid() == 0, "mounting a FUSE file system needs root");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse here");
        Path mnt = Files.createDirectories(home.resolve("mnt"));
        String sample = Samples.path("fuse_served");
        List<String> privately = List.of("unshare", "-m", "--propagation", "private");
        Runs.Result nat = Runs.run(home, join(privately, sample, mnt.toString()), Duration.ofSeconds(60));
        assumeTrue(!nat.stderr().contains("unshare: ") && !nat.stderr().contains("mount: ")
                && !nat.stderr().contains("/dev/fuse: "), "no FUSE mount here: " + nat.stderr());
        assertEquals(0, nat.status(), nat.stderr());

        Path rec = home.resolve("fuse");
        Runs.Result recorded = Runs.run(home, join(privately, Runs.launcher().toString(), "record", "-q", "-o",
                rec.toString(), "--", sample, mnt.toString()), Duration.ofSeconds(60));
        assertEquals(0, recorded.status(), recorded.stderr());
        assertEquals(nat.stdout(), recorded.stdout());

        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals(nat.stdout(), replay.stdout());
    }

    private static List<String> join(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    @Test
    void aProgramsOwnSeccompFilterFailsTheSameCallsRecordedAndReplayed() throws Exception {
        // Its filter's ERRNO would win over deja's SECCOMP_RET_TRACE: deja must see those calls before any filter.
        String sample = Samples.path("own_seccomp");
        Runs.Result nat = Runs.nativeRun(sample);
        assertEquals(0, nat.status(), nat.stderr());
        assertTrue(nat.stdout().contains("child: uname -1 EPERM"), nat.stdout());
        Path rec = home.resolve("sandboxed");
        Runs.Result recorded = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", sample);
        assertEquals(0, recorded.status(), recorded.stderr());
        assertEquals(nat.stdout(), recorded.stdout());
        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals(nat.stdout(), replay.stdout());
        SyscallTable table = SyscallTable.of(Arch.X86_64);
        long failedUnames = Runs.events(rec).stream().filter(e -> e instanceof SyscallEvent s
                && table.name(s.nr()).equals("uname") && s.result() == -1).count();
        assertEquals(2, failedUnames, "the recording holds both failed unames (EPERM)");
    }

    /** The sample's calls as "name = result" with their outputs' lengths, for the calls of {@link #STABLE}. */
    private static List<String> stableCalls(Path rec) throws Exception {
        SyscallTable table = SyscallTable.of(Arch.X86_64);
        List<String> calls = new ArrayList<>();
        for (Event e : Runs.events(rec)) {
            if (!(e instanceof SyscallEvent s)) continue;
            String name = table.name(s.nr());
            if (!STABLE.contains(name)) continue;
            int outBytes = s.outputs().stream().mapToInt(b -> b.length()).sum();
            calls.add(name + " = " + s.result() + " (" + outBytes + " bytes out)");
        }
        return calls;
    }
}
