package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja trace} end to end through the launcher: strace's options, its output format, fault
 * injection, and the program's status. (The line-by-line comparison with strace over a corpus is
 * device's StraceTracerIT; here the launcher's output is compared with strace's on one program.)
 */
class TraceIT {

    @TempDir
    Path tmp;

    private static final String HOSTNAME_OPEN = "openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3";

    private static List<String> lines(String s) {
        return s.lines().toList();
    }

    private static String norm(String line) {
        return line.replaceFirst("^(\\[pid\\s+\\d+\\]|\\d+)\\s+", "").replaceAll("0x[0-9a-f]+", "ADDR")
                .replaceAll("\\s+= ", " = ").replaceAll(":\\[[0-9]+\\]", ":[INODE]");
    }

    @Test
    void aTraceSetInstallsASeccompFilterAndAllDoesNot() throws Exception {
        Path out = tmp.resolve("set.txt");
        Runs.Result r = Runs.deja(tmp, "trace", "-o", out.toString(), "-e", "trace=openat", "--", "grep", "^Seccomp:",
                "/proc/self/status");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("Seccomp:\t2\n", r.stdout());
        List<String> lines = Files.readAllLines(out);
        assertTrue(lines.stream().anyMatch(l -> l.contains("openat(AT_FDCWD, \"/proc/self/status\"")), String.join("\n", lines));
        assertFalse(lines.stream().anyMatch(l -> l.contains(" read(")), "read is not traced: " + String.join("\n", lines));
        Runs.Result all = Runs.deja(tmp, "trace", "-o", out.toString(), "--", "grep", "^Seccomp:", "/proc/self/status");
        assertEquals("Seccomp:\t0\n", all.stdout());
    }

    private static String statusField(long pid, long tid, String field) throws java.io.IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/task/" + tid + "/status"))) {
            if (l.startsWith(field + ":")) return l.substring(field.length() + 1).trim();
        }
        throw new AssertionError("no " + field + " in /proc/" + pid + "/task/" + tid + "/status");
    }

    @Test
    void attachesToEveryThreadOfARunningProcessAndDetachesOnSigterm() throws Exception {
        Process target = new ProcessBuilder(dev.deja.samples.Samples.path("attach_target"))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Process deja = null;
        try {
            java.io.BufferedReader ready = new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream()));
            assertEquals("ready", ready.readLine());
            long pid = target.pid();
            List<Long> tids;
            try (var dir = Files.list(Path.of("/proc/" + pid + "/task"))) {
                tids = dir.map(p -> Long.parseLong(p.getFileName().toString())).sorted().toList();
            }
            assertEquals(2, tids.size(), "the sample's two threads");
            Path out = tmp.resolve("attach.txt");
            deja = new ProcessBuilder(Runs.launcher().toString(), "trace", "-p", Long.toString(pid), "-o", out.toString())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("deja.log").toFile()).start();
            // both threads traced and both seen calling getppid
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (true) {
                List<String> lines = Files.exists(out) ? Files.readAllLines(out) : List.of();
                boolean both = tids.stream().allMatch(t -> lines.stream().anyMatch(l -> l.startsWith(t + " ") && l.contains("getppid()")));
                if (both) break;
                assertTrue(deja.isAlive(), "deja ended: " + Files.readString(tmp.resolve("deja.log")));
                assertTrue(System.nanoTime() < deadline, "no getppid from both threads in 60 s: " + lines);
                Thread.sleep(200);
            }
            // TracerPid names deja's tracing thread
            for (long tid : tids) assertFalse(statusField(pid, tid, "TracerPid").equals("0"), "thread " + tid + " traced");
            deja.destroy(); // SIGTERM
            assertTrue(deja.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "deja did not end after SIGTERM");
            assertTrue(target.isAlive(), "the process outlives deja");
            for (long tid : tids) assertEquals("0", statusField(pid, tid, "TracerPid"), "thread " + tid + " detached");
            String state = statusField(pid, pid, "State");
            assertTrue(state.startsWith("S") || state.startsWith("R"), "still running: " + state);
            Thread.sleep(300);
            assertTrue(target.isAlive(), "still alive a moment later");
        } finally {
            if (deja != null) deja.destroyForcibly();
            target.destroyForcibly();
        }
    }

    @Test
    void attachRefusesWhatItCannotTrace() throws Exception {
        Runs.Result gone = Runs.deja(tmp, "trace", "-p", "999999999");
        assertEquals(ExitCodes.DEJA_FAILURE, gone.status(), gone.stderr());
        assertTrue(gone.stderr().startsWith("deja: trace -p 999999999: cannot attach: no process 999999999"), gone.stderr());
        Runs.Result both = Runs.deja(tmp, "trace", "-p", "1", "--", "true");
        assertTrue(both.stderr().contains("either -p PID or a COMMAND"), both.stderr());
    }

    @Test
    void tracesLikeStraceToAFileWithPidPrefixes() throws Exception {
        Path out = tmp.resolve("out.txt");
        Runs.Result r = Runs.deja(tmp, "trace", "-f", "-o", out.toString(), "--", "cat", "/etc/hostname");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(Files.readString(Path.of("/etc/hostname")), r.stdout());
        List<String> deja = Files.readAllLines(out);
        assertTrue(deja.getFirst().matches("\\d+ +execve\\(\"/usr/bin/cat\", \\[\"cat\", \"/etc/hostname\"\\], .*\\) = 0"), deja.getFirst());
        assertTrue(deja.stream().anyMatch(l -> norm(l).equals(HOSTNAME_OPEN)), String.join("\n", deja));
        assertTrue(deja.getLast().matches("\\d+ +\\+\\+\\+ exited with 0 \\+\\+\\+"), deja.getLast());
        Path strace = Path.of("/usr/bin/strace");
        Assumptions.assumeTrue(Files.isExecutable(strace));
        Path sout = tmp.resolve("strace.txt");
        // with deja's DEJA_HOME too: the same environment, so that execve's "/* N vars */" can agree
        Runs.Result s = Runs.run(tmp, List.of(strace.toString(), "-f", "-q", "-o", sout.toString(), "cat", "/etc/hostname"));
        assertEquals(0, s.status());
        Set<String> straceLines = new HashSet<>();
        for (String l : Files.readAllLines(sout)) straceLines.add(norm(l));
        long matched = deja.stream().filter(l -> straceLines.contains(norm(l))).count();
        double rate = (double) matched / deja.size();
        System.out.printf("deja trace vs strace -f on cat: %d of %d lines equal (%.1f%%)%n", matched, deja.size(), 100 * rate);
        assertTrue(rate >= 0.9, "only " + matched + " of " + deja.size() + " lines as strace prints them");
    }

    @Test
    void toStderrLinesGetPidTagsOnceThereAreSeveralProcessesAndTheStatusIsTheProgramsOwn() throws Exception {
        Runs.Result r = Runs.deja(tmp, "trace", "-f", "--", "/bin/sh", "-c", "echo a | cat; exit 3");
        assertEquals(3, r.status(), r.stderr());
        assertEquals("a\n", r.stdout());
        List<String> err = lines(r.stderr());
        assertTrue(err.getFirst().startsWith("execve(\"/bin/sh\""), err.getFirst());
        assertTrue(err.stream().anyMatch(l -> l.matches("\\[pid +\\d+\\] .*")), r.stderr());
        assertTrue(err.getLast().equals("+++ exited with 3 +++"), err.getLast());
    }

    @Test
    void traceFiltersByNameAndClassAndSizesStrings() throws Exception {
        Runs.Result r = Runs.deja(tmp, "trace", "-e", "trace=%file,write", "-s", "2", "--", "/bin/sh", "-c", "echo hello");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("hello\n", r.stdout());
        List<String> err = lines(r.stderr());
        assertTrue(err.stream().anyMatch(l -> l.startsWith("openat(")), r.stderr());
        assertTrue(err.stream().anyMatch(l -> l.startsWith("write(1, \"he\"..., 6)")), r.stderr());
        assertFalse(err.stream().anyMatch(l -> l.startsWith("mmap(") || l.startsWith("read(") || l.startsWith("close(")), r.stderr());
    }

    @Test
    void decodesFdsAndPrintsTimes() throws Exception {
        Runs.Result r = Runs.deja(tmp, "trace", "-y", "-tt", "-T", "-e", "trace=openat,read,close", "--", "cat", "/etc/hostname");
        assertEquals(0, r.status(), r.stderr());
        List<String> err = lines(r.stderr());
        String open = err.stream().filter(l -> l.contains("\"/etc/hostname\"")).findFirst().orElseThrow();
        assertTrue(open.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{6} openat\\(AT_FDCWD<[^>]+>, \"/etc/hostname\", O_RDONLY\\) += 3</etc/hostname> <\\d+\\.\\d{6}>"), open);
        assertTrue(err.stream().anyMatch(l -> l.matches(".* close\\(3</etc/hostname>\\) += 0 <\\d+\\.\\d{6}>")), r.stderr());
    }

    @Test
    void injectsAnErrorAtTheNthCall() throws Exception {
        Runs.Result plain = Runs.deja(tmp, "trace", "-e", "trace=openat", "--", "cat", "/etc/hostname");
        List<String> opens = lines(plain.stderr()).stream().filter(l -> l.startsWith("openat(")).toList();
        int n = 1 + opens.stream().map(TraceIT::norm).toList().indexOf(HOSTNAME_OPEN);
        assertTrue(n > 0, plain.stderr());
        Path out = tmp.resolve("trace.txt");
        Runs.Result r = Runs.deja(tmp, "trace", "-o", out.toString(), "-e", "trace=openat", "-e",
                "inject=openat:error=ENOENT:when=" + n, "--", "cat", "/etc/hostname");
        assertEquals(1, r.status(), r.stderr());
        assertEquals("", r.stdout());
        assertEquals("cat: /etc/hostname: No such file or directory\n", r.stderr());
        List<String> injected = Files.readAllLines(out).stream().filter(l -> l.endsWith("(INJECTED)")).toList();
        assertEquals(List.of("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = -1 ENOENT (No such file or directory) (INJECTED)"),
                injected.stream().map(TraceIT::norm).toList());

        // when=3: exactly the third openat, as strace counts
        Runs.Result third = Runs.deja(tmp, "trace", "-e", "trace=openat", "-e", "inject=openat:error=ENOENT:when=3", "--",
                "cat", "/etc/hostname");
        List<String> o3 = lines(third.stderr()).stream().filter(l -> l.startsWith("openat(")).toList();
        assertTrue(o3.get(2).endsWith("= -1 ENOENT (No such file or directory) (INJECTED)"), third.stderr());
        assertEquals(1, o3.stream().filter(l -> l.endsWith("(INJECTED)")).count(), third.stderr());
    }

    @Test
    void injectsAReturnValueWithoutRunningTheCall() throws Exception {
        // the program believes all 7 bytes were written; none were
        Runs.Result r = Runs.deja(tmp, "trace", "-e", "trace=write", "-e", "inject=write:retval=7", "--",
                "/bin/sh", "-c", "echo hidden");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("", r.stdout());
        assertEquals("write(1, \"hidden\\n\", 7) = 7 (INJECTED)", norm(lines(r.stderr()).getFirst()), r.stderr());
    }

    @Test
    void injectsASignal() throws Exception {
        Runs.Result r = Runs.deja(tmp, "trace", "-e", "trace=write", "-e", "inject=write:signal=SIGTERM:when=2", "--",
                "/bin/sh", "-c", "echo one; echo two; echo three");
        assertEquals(128 + 15, r.status(), r.stderr());
        assertEquals("one\ntwo\n", r.stdout());
        List<String> err = lines(r.stderr());
        assertTrue(err.stream().anyMatch(l -> l.startsWith("--- SIGTERM {si_signo=SIGTERM, si_code=SI_TKILL")), r.stderr());
        assertEquals(2, err.stream().filter(l -> l.startsWith("write(")).count(), r.stderr());
        assertEquals("+++ killed by SIGTERM +++", err.getLast());
    }

    @Test
    void delaysCalls() throws Exception {
        long start = System.nanoTime();
        Runs.Result r = Runs.deja(tmp, "trace", "-o", "/dev/null", "-e", "inject=getpid:delay_enter=300000:delay_exit=300000", "--",
                "/bin/sh", "-c", "echo $$");
        assertEquals(0, r.status(), r.stderr());
        assertTrue(System.nanoTime() - start > 600_000_000L);
    }

    @Test
    void summarisesWithMinusC() throws Exception {
        Runs.Result r = Runs.deja(tmp, "trace", "-c", "--", "cat", "/etc/hostname");
        assertEquals(0, r.status(), r.stderr());
        List<String> err = lines(r.stderr());
        assertEquals("% time     seconds  usecs/call     calls    errors syscall", err.getFirst());
        assertTrue(err.stream().anyMatch(l -> l.matches(" *\\d+\\.\\d\\d +\\d+\\.\\d{6} +\\d+ +1 +execve")), r.stderr());
        assertTrue(err.getLast().matches("100\\.00 +\\d+\\.\\d{6} +\\d+ +\\d+ +\\d* *total"), err.getLast());
        assertFalse(r.stderr().contains("+++"), r.stderr());
    }

    @Test
    void refusesWhatItCannotDo() throws Exception {
        Runs.Result bad = Runs.deja(tmp, "trace", "-e", "inject=openat:error=EWHAT", "--", "true");
        assertEquals(ExitCodes.DEJA_FAILURE, bad.status());
        assertTrue(bad.stderr().contains("unknown errno 'EWHAT'"), bad.stderr());
        Runs.Result cls = Runs.deja(tmp, "trace", "-e", "trace=%nope", "--", "true");
        assertTrue(cls.stderr().contains("unknown syscall class '%nope'"), cls.stderr());
        Runs.Result missing = Runs.deja(tmp, "trace", "--", "/no/such/program");
        assertEquals(127, missing.status());
    }

    /** Issue 15: strace's -ttt, -t, -r, -ff, -yy, -z/-Z, -C/-S, -E; -c leaves out exit_group; no '--' needed. */
    @Test
    void moreStraceOptions() throws Exception {
        Runs.Result ttt = Runs.deja(tmp, "trace", "-ttt", "-e", "trace=openat", "cat", "/etc/hostname");
        assertTrue(lines(ttt.stderr()).getFirst().matches("\\d{10}\\.\\d{6} openat\\(.*"), ttt.stderr());
        Runs.Result t = Runs.deja(tmp, "trace", "-t", "-r", "-e", "trace=openat", "cat", "/etc/hostname");
        assertTrue(lines(t.stderr()).getFirst().matches(" +0\\.000000 \\d\\d:\\d\\d:\\d\\d openat\\(.*"), t.stderr());

        Path out = tmp.resolve("ff");
        Runs.Result ff = Runs.deja(tmp, "trace", "-ff", "-o", out.toString(), "-e", "trace=execve", "sh", "-c", "cat /etc/hostname | cat");
        assertEquals(0, ff.status(), ff.stderr());
        List<Path> files;
        try (var list = Files.list(tmp)) {
            files = list.filter(p -> p.getFileName().toString().startsWith("ff.")).sorted().toList();
        }
        assertEquals(3, files.size(), files.toString());
        assertTrue(Files.readString(files.getFirst()).startsWith("execve(\"/usr/bin/sh\""), Files.readString(files.getFirst()));
        assertFalse(Files.exists(out));

        Runs.Result yy = Runs.deja(tmp, "trace", "-yy", "-e", "trace=read", "head", "-c1", "/dev/zero");
        assertTrue(yy.stderr().contains("read(3</dev/zero<char 1:5>>, \"\\0\", 1)"), yy.stderr());

        Runs.Result failed = Runs.deja(tmp, "trace", "-Z", "-e", "trace=openat", "cat", "/no/such/file");
        assertTrue(lines(failed.stderr()).stream().filter(l -> l.startsWith("openat(")).allMatch(l -> l.contains("= -1 ")),
                failed.stderr());
        Runs.Result ok = Runs.deja(tmp, "trace", "-z", "-e", "trace=openat", "cat", "/no/such/file");
        assertTrue(lines(ok.stderr()).stream().filter(l -> l.startsWith("openat(")).noneMatch(l -> l.contains("= -1 ")), ok.stderr());

        Runs.Result both = Runs.deja(tmp, "trace", "-C", "-S", "calls", "cat", "/etc/hostname");
        assertTrue(both.stderr().contains("execve(\"/usr/bin/cat\"") && both.stderr().contains("% time     seconds"), both.stderr());
        assertFalse(both.stderr().lines().anyMatch(l -> l.endsWith(" exit_group")), both.stderr());

        Runs.Result env = Runs.deja(tmp, "trace", "-E", "DEJA_TRACE_TEST=1", "-e", "trace=none", "sh", "-c", "echo $DEJA_TRACE_TEST");
        assertEquals("1\n", env.stdout(), env.stderr());
        Runs.Result seccomp = Runs.deja(tmp, "trace", "--seccomp-bpf", "-f", "-e", "trace=none", "true");
        assertEquals(0, seccomp.status(), seccomp.stderr());
    }

    /** Issue 15: -A, -a, -i, -e signal=none, -e quiet=exit, and rt_sigreturn's mask as strace prints it. */
    @Test
    void columnsPointersAppendAndSigreturn() throws Exception {
        Path out = tmp.resolve("app.txt");
        for (int i = 0; i < 2; i++) {
            Runs.Result r = Runs.deja(tmp, "trace", "-A", "-o", out.toString(), "-e", "trace=none", "true");
            assertEquals(0, r.status(), r.stderr());
        }
        assertEquals(2, Files.readAllLines(out).stream().filter(l -> l.contains("+++ exited with 0 +++")).count());

        Runs.Result ia = Runs.deja(tmp, "trace", "-i", "-a", "70", "-e", "trace=openat", "-e", "quiet=exit", "cat", "/etc/hostname");
        String open = lines(ia.stderr()).stream().filter(l -> l.contains("\"/etc/hostname\"")).findFirst().orElseThrow();
        assertTrue(open.matches("\\[[0-9a-f]{16}\\] openat\\(.*\\)\\s+= 3"), open);
        assertEquals(69, open.indexOf(" = 3"), open);
        assertFalse(ia.stderr().contains("+++ exited"), ia.stderr());

        Runs.Result sig = Runs.deja(tmp, "trace", "-e", "trace=rt_sigreturn", Samples.path("signals").toString());
        assertTrue(lines(sig.stderr()).stream().anyMatch(l -> l.matches("rt_sigreturn\\(\\{mask=\\[[A-Z0-9 ]*\\]\\}\\)\\s+= 0")),
                sig.stderr());
        assertTrue(sig.stderr().contains("--- SIG"), sig.stderr());
        Runs.Result quiet = Runs.deja(tmp, "trace", "-e", "trace=rt_sigreturn", "-e", "signal=none", Samples.path("signals").toString());
        assertFalse(quiet.stderr().contains("--- SIG"), quiet.stderr());
    }

    /** Issue 15: -x and -xx print strings in hex as strace does; -P keeps the calls on one path, close included. */
    @Test
    void hexStringsAndPathFilter() throws Exception {
        Runs.Result x = Runs.deja(tmp, "trace", "-x", "-e", "trace=write", "sh", "-c", "printf 'ab\\n'; printf '\\001z'");
        List<String> writes = lines(x.stderr()).stream().filter(l -> l.startsWith("write(")).map(TraceIT::norm).toList();
        assertEquals(List.of("write(1, \"ab\\n\", 3) = 3", "write(1, \"\\x01\\x7a\", 2) = 2"), writes, x.stderr());
        Runs.Result xx = Runs.deja(tmp, "trace", "-xx", "-e", "trace=write", "printf", "ab");
        assertEquals("write(1, \"\\x61\\x62\", 2) = 2", norm(lines(xx.stderr()).getFirst()), xx.stderr());

        Runs.Result p = Runs.deja(tmp, "trace", "-P", "/etc/hostname", "cat", "/etc/hostname");
        List<String> calls = lines(p.stderr()).stream().filter(l -> !l.startsWith("+++")).map(TraceIT::norm).toList();
        assertEquals(HOSTNAME_OPEN, calls.getFirst(), p.stderr());
        assertEquals("close(3) = 0", calls.getLast(), p.stderr());
        assertTrue(calls.stream().allMatch(l -> l.startsWith("openat(") || l.matches("[a-z0-9_]+\\(3[,)].*")), p.stderr());
    }

    /** Issue 15: -e write= and -e read= dump the data as strace does (lines compared with strace 6.1's). */
    @Test
    void dumpsDataReadAndWritten() throws Exception {
        Runs.Result w = Runs.deja(tmp, "trace", "-e", "trace=write", "-e", "write=1", "sh", "-c",
                "printf 'hello world, this is more than sixteen\\n'");
        List<String> dump = lines(w.stderr()).stream().filter(l -> l.startsWith(" | ")).toList();
        assertEquals(List.of(
                " | 00000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  hello world, thi |",
                " | 00010  73 20 69 73 20 6d 6f 72  65 20 74 68 61 6e 20 73  s is more than s |",
                " | 00020  69 78 74 65 65 6e 0a                              ixteen.          |"), dump, w.stderr());
        Runs.Result r = Runs.deja(tmp, "trace", "-e", "trace=read", "-e", "read=0", "head", "-c", "2");
        assertFalse(r.stderr().contains(" | 00000"), "nothing was read from /dev/null: " + r.stderr());
    }

    // ---------------------------------------------------------------- issue 15, item 12: the rest of strace's options

    private static final Path STRACE = Path.of("/usr/bin/strace");

    /** The lines strace 6.x prints for {@code args} to a file (-o, single process: no pid prefixes). */
    private List<String> strace(String... args) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(STRACE), "strace is not installed");
        Path out = tmp.resolve("strace-" + System.nanoTime() + ".txt");
        List<String> cmd = new java.util.ArrayList<>(List.of(STRACE.toString(), "-q", "-o", out.toString()));
        cmd.addAll(List.of(args));
        Runs.Result r = Runs.run(tmp, cmd); // DEJA_HOME as deja gets it: the same environment
        assertTrue(Files.exists(out), r.stderr());
        return Files.readAllLines(out);
    }

    /** deja's lines for the same arguments (stderr, one process: no pid prefixes). */
    private List<String> deja(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("trace"));
        cmd.addAll(List.of(args));
        Runs.Result r = Runs.deja(tmp, cmd.toArray(String[]::new));
        assertEquals(0, r.status(), r.stderr());
        return lines(r.stderr());
    }

    private static List<String> normalised(List<String> lines) {
        return lines.stream().map(TraceIT::norm).toList();
    }

    /** -e raw= prints the arguments undecoded in hex and the result in hex, line for line as strace. */
    @Test
    void rawArgumentsAsStrace() throws Exception {
        String[] args = {"-e", "trace=openat,read,close,exit_group", "-e", "raw=openat,read,close", "cat", "/etc/hostname"};
        List<String> deja = deja(args);
        assertTrue(deja.stream().anyMatch(l -> l.matches("openat\\(0xffffff9c, 0x[0-9a-f]+, 0x80000, 0\\) += 0x3")),
                String.join("\n", deja));
        assertTrue(deja.stream().anyMatch(l -> l.matches("close\\(0x3\\) += 0")), String.join("\n", deja));
        assertTrue(deja.contains("exit_group(0)                           = ?"), "exit_group is decoded: " + deja);
        assertEquals(normalised(strace(args)), normalised(deja));
    }

    /** -e verbose=none prints structures (stat buffers, argv, masks) as their addresses, strings still decoded. */
    @Test
    void verboseNoneLeavesStructuresAsAddresses() throws Exception {
        String[] args = {"-e", "trace=execve,newfstatat,rt_sigaction,prlimit64,openat", "-e", "verbose=none", "cat",
                "/etc/hostname"};
        List<String> deja = deja(args);
        assertTrue(deja.getFirst().matches("execve\\(\"/usr/bin/cat\", 0x[0-9a-f]+, 0x[0-9a-f]+\\) = 0"), deja.getFirst());
        assertTrue(deja.stream().anyMatch(l -> l.matches("newfstatat\\(3, \"\", 0x[0-9a-f]+, AT_EMPTY_PATH\\) += 0")),
                String.join("\n", deja));
        assertTrue(deja.stream().anyMatch(l -> norm(l).equals(HOSTNAME_OPEN)), "paths are still strings: " + deja);
        assertEquals(normalised(strace(args)), normalised(deja));
    }

    /** -v prints every member of struct stat (times with their dates) and execve's environment, as strace -v. */
    @Test
    void minusVPrintsStructuresWhole() throws Exception {
        String[] args = {"-v", "-e", "trace=newfstatat,uname", "uname", "-n"};
        List<String> deja = deja(args);
        String stat = deja.stream().filter(l -> l.startsWith("newfstatat(3, ")).findFirst().orElseThrow();
        assertTrue(stat.matches("newfstatat\\(3, \"\", \\{st_dev=makedev\\(0x[0-9a-f]+, (0|0x[0-9a-f]+)\\), st_ino=\\d+, "
                + "st_mode=S_IFREG\\|0\\d+, st_nlink=\\d+, st_uid=0, st_gid=0, st_blksize=\\d+, st_blocks=\\d+, st_size=\\d+, "
                + "st_atime=\\d+ /\\* [-0-9T:.+]+ \\*/, st_atime_nsec=\\d+, .*, st_ctime_nsec=\\d+\\}, AT_EMPTY_PATH\\) += 0"), stat);
        assertTrue(deja.stream().anyMatch(l -> l.matches("uname\\(\\{sysname=\"Linux\", nodename=.*, release=.*, version=.*,"
                + " machine=.*, domainname=.*\\}\\) += 0")), String.join("\n", deja));
        // atime moves between the two runs when a file is read for the first time in a while: compared without it;
        // stdout (descriptor 1) is a different file in each run: only the files the program opened are compared
        java.util.function.UnaryOperator<String> noAtime = l -> norm(l).replaceAll("st_atime=\\d+ /\\* [^*]* \\*/, st_atime_nsec=\\d+",
                "st_atime=T");
        java.util.function.Predicate<String> opened = l -> l.startsWith("newfstatat(3, ") || l.startsWith("uname(");
        assertEquals(strace(args).stream().filter(opened).map(noAtime).toList(), deja.stream().filter(opened).map(noAtime).toList());

        List<String> env = deja("-v", "-e", "trace=execve", "true");
        assertTrue(env.getFirst().matches("execve\\(\"/usr/bin/true\", \\[\"true\"\\], \\[\".*\"\\]\\) = 0")
                && env.getFirst().contains("\"PATH="), env.getFirst());
        List<String> abbreviated = deja("-e", "abbrev=none", "-e", "trace=execve", "true");
        assertEquals(env.getFirst().replaceAll("_=[^\"]*", ""), abbreviated.getFirst().replaceAll("_=[^\"]*", ""));
        List<String> usual = deja("-v", "-e", "abbrev=all", "-e", "trace=execve", "true");
        assertTrue(usual.getFirst().matches(".*, 0x[0-9a-f]+ /\\* \\d+ vars \\*/\\) = 0"), usual.getFirst());
    }

    /** -e signal=SET: names with or without SIG, numbers, and ! as strace reads them. */
    @Test
    void signalSetsChooseTheSignalLines() throws Exception {
        String script = "trap '' USR1 USR2; kill -USR1 $$; kill -USR2 $$";
        for (String set : List.of("!SIGUSR1", "usr1", "12", "SIGUSR1,SIGUSR2", "none", "all")) {
            String[] args = {"-e", "trace=none", "-e", "signal=" + set, "sh", "-c", script};
            List<String> deja = deja(args).stream().filter(l -> l.startsWith("---")).map(l -> l.replaceAll("si_pid=\\d+", "")).toList();
            List<String> strace = strace(args).stream().filter(l -> l.startsWith("---")).map(l -> l.replaceAll("si_pid=\\d+", "")).toList();
            assertEquals(strace, deja, "signal=" + set);
        }
        assertTrue(deja("-e", "trace=none", "-e", "signal=!SIGUSR1", "sh", "-c", script).stream()
                .anyMatch(l -> l.startsWith("--- SIGUSR2 ")));
        Runs.Result bad = Runs.deja(tmp, "trace", "-e", "signal=SIGNOPE", "true");
        assertEquals(ExitCodes.DEJA_FAILURE, bad.status());
        assertTrue(bad.stderr().startsWith("deja: trace: -e signal=SIGNOPE: no signal called SIGNOPE"), bad.stderr());
    }

    /** -U chooses the -c table's columns: the header and rule as strace 6.x prints them, the name last when not given. */
    @Test
    void summaryColumns() throws Exception {
        for (String columns : List.of("name,calls,min-time,max-time,avg-time,total-time,time-percent,errors", "calls,errors",
                "max-time,shortest,count")) {
            String[] args = {"-c", "-U", columns, "cat", "/etc/hostname"};
            List<String> deja = deja(args);
            List<String> strace = strace(args);
            assertEquals(strace.subList(0, 2), deja.subList(0, 2), columns);
            String cat = String.join("\n", deja);
            assertTrue(deja.stream().anyMatch(l -> l.contains("execve")), cat);
            assertTrue(deja.getLast().contains("total"), cat);
        }
        List<String> min = deja("-c", "-U", "name,calls,min-time,max-time", "cat", "/etc/hostname");
        assertTrue(min.stream().anyMatch(l -> l.matches("execve +1 \\d\\.\\d{6} \\d\\.\\d{6}")), String.join("\n", min));
        Runs.Result bad = Runs.deja(tmp, "trace", "-c", "-U", "name,speed", "true");
        assertEquals(ExitCodes.DEJA_FAILURE, bad.status());
        assertTrue(bad.stderr().startsWith("deja: trace: -U speed: not a column"), bad.stderr());
    }

    /** --decode-pids=comm (-Y): thread ids in prefixes, pid arguments and results followed by the command name. */
    @Test
    void decodePidsPrintsCommandNames() throws Exception {
        Path out = tmp.resolve("comm.txt");
        Runs.Result r = Runs.deja(tmp, "trace", "-f", "-o", out.toString(), "--decode-pids=comm", "-e", "trace=getpid,kill,exit_group",
                "sh", "-c", "kill -0 $$; /bin/true");
        assertEquals(0, r.status(), r.stderr());
        List<String> deja = Files.readAllLines(out);
        String pid = deja.getFirst().substring(0, deja.getFirst().indexOf('<'));
        assertTrue(deja.stream().anyMatch(l -> l.replaceAll(" +", " ").equals(pid + "<sh> kill(" + pid + "<sh>, 0) = 0")),
                String.join("\n", deja));
        assertTrue(deja.stream().anyMatch(l -> l.matches("\\d+<true> exit_group\\(0\\) += \\?")), String.join("\n", deja));
        Path sout = tmp.resolve("comm-strace.txt");
        Assumptions.assumeTrue(Files.isExecutable(STRACE));
        Runs.nativeRun(STRACE.toString(), "-f", "-q", "-o", sout.toString(), "--decode-pids=comm", "-e",
                "trace=getpid,kill,exit_group", "sh", "-c", "kill -0 $$; /bin/true");
        java.util.function.UnaryOperator<String> pids = l -> l.replaceAll("\\d+<", "N<").replaceAll("si_pid=\\d+", "si_pid=N").replaceAll(" +", " ");
        assertEquals(Files.readAllLines(sout).stream().map(pids).toList(), deja.stream().map(pids).toList());

        List<String> y = lines(Runs.deja(tmp, "trace", "-Y", "-e", "trace=getpid", "sh", "-c", "kill -0 $$").stderr());
        assertTrue(y.getFirst().matches("getpid\\(\\) += \\d+<sh>"), y.getFirst());
    }

    /** -b execve: a child that execs is let go (its line unfinished, nothing after), the program runs on and its status stays. */
    @Test
    void detachesOnExecve() throws Exception {
        Path out = tmp.resolve("b.txt");
        Runs.Result r = Runs.deja(tmp, "trace", "-f", "-b", "execve", "-o", out.toString(), "sh", "-c",
                "/bin/echo child; echo parent");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("child\nparent\n", r.stdout());
        List<String> lines = Files.readAllLines(out);
        String exec = lines.stream().filter(l -> l.contains("execve(\"/bin/echo\"")).findFirst().orElseThrow();
        assertTrue(exec.matches("\\d+ +execve\\(\"/bin/echo\", \\[\"/bin/echo\", \"child\"\\], 0x[0-9a-f]+ /\\* \\d+ vars \\*/ <unfinished \\.\\.\\.>"),
                exec);
        String child = exec.substring(0, exec.indexOf(' '));
        assertEquals(exec, lines.stream().filter(l -> l.startsWith(child + " ")).reduce((a, b) -> b).orElseThrow(),
                "nothing of the child after its exec");
        assertTrue(lines.getFirst().contains("execve(\"") && lines.getFirst().contains("[\"sh\", \"-c\"")
                        && lines.getFirst().endsWith(") = 0"),
                "the program's own exec is traced: " + lines.getFirst());
        assertTrue(lines.getLast().endsWith("+++ exited with 0 +++"), lines.getLast());

        Runs.Result root = Runs.deja(tmp, "trace", "-b", "execve", "-e", "trace=execve", "sh", "-c", "exec sh -c 'exit 3'");
        assertEquals(3, root.status(), "the status of the program deja let go: " + root.stderr());
        assertTrue(lines(root.stderr()).getLast().matches("execve\\(\".*/sh\", .* <detached \\.\\.\\.>"), root.stderr());
        Runs.Result other = Runs.deja(tmp, "trace", "-b", "open", "true");
        assertEquals(ExitCodes.DEJA_FAILURE, other.status());
    }

    /** -u USER runs the program with USER's ids and groups (deja runs as root here); -D is accepted. */
    @Test
    void runsAsAnotherUser() throws Exception {
        Assumptions.assumeTrue(Host.uid() == 0, "deja runs as root only in CI's container");
        Runs.Result want = Runs.nativeRun("id", "nobody");
        Assumptions.assumeTrue(want.status() == 0, "no user nobody here");
        Runs.Result r = Runs.deja(tmp, "trace", "-u", "nobody", "-e", "trace=none", "id");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(want.stdout(), r.stdout());
        Runs.Result none = Runs.deja(tmp, "trace", "-u", "no-such-user-here", "true");
        assertEquals(ExitCodes.DEJA_FAILURE, none.status());
        assertTrue(none.stderr().startsWith("deja: trace: -u no-such-user-here: no such user"), none.stderr());
        Runs.Result notRoot = Runs.nativeRun("su", "nobody", "-s", "/bin/sh", "-c",
                Runs.launcher() + " trace -u root -e trace=none true");
        Assumptions.assumeTrue(!notRoot.stderr().contains("Error: Could not find or load"), "the build is not readable by nobody");
        assertEquals(ExitCodes.DEJA_FAILURE, notRoot.status(), notRoot.stderr());
        assertTrue(notRoot.stderr().contains("deja: trace: -u root: deja must run as root"), notRoot.stderr());

        for (String d : List.of("-D", "-DD", "-DDD", "--daemonize=session")) {
            Runs.Result daemon = Runs.deja(tmp, "trace", d, "-e", "trace=none", "sh", "-c", "exit 4");
            assertEquals(4, daemon.status(), d + ": " + daemon.stderr());
        }
    }

    /** deja dump takes -v and -e abbrev=/verbose=/raw= too: the recording holds the memory they decode. */
    @Test
    void dumpTakesTheSameQualifiers() throws Exception {
        Path rec = tmp.resolve("cat-rec");
        Runs.Result r = Runs.deja(tmp, "record", "-o", rec.toString(), "cat", "/etc/hostname");
        assertEquals(0, r.status(), r.stderr());
        List<String> full = lines(Runs.deja(tmp, "dump", "-v", "-e", "raw=close", rec.toString()).stdout());
        assertTrue(full.getFirst().matches(".*execve\\(\"[^\"]*cat\", \\[\"cat\", \"/etc/hostname\"\\], \\[\".*\"\\]\\) = 0"),
                full.getFirst());
        assertTrue(full.stream().anyMatch(l -> l.contains("st_ino=") && l.contains("st_ctime_nsec=")), String.join("\n", full));
        assertTrue(full.stream().anyMatch(l -> l.matches(".*close\\(0x3\\) += 0")), String.join("\n", full));
        List<String> addresses = lines(Runs.deja(tmp, "dump", "-e", "verbose=none", rec.toString()).stdout());
        assertTrue(addresses.getFirst().matches(".*execve\\(\"[^\"]*cat\", 0x[0-9a-f]+, 0x[0-9a-f]+\\) = 0"), addresses.getFirst());
        Runs.Result bad = Runs.deja(tmp, "dump", "-e", "trace=close", rec.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, bad.status());
    }
}
