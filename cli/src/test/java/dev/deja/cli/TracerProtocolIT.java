package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja run --tracer} end to end: tracer programs in Python (standard library only) speak
 * the text protocol on their stdin/stdout; the samples in samples/tracers/ and small tracers
 * written here for one behaviour each (stacking, a crash, a timeout, queries, JSON).
 */
class TracerProtocolIT {

    @TempDir
    Path tmp;

    private static final String PRELUDE = """
            import json, sys
            def send(line):
                sys.stdout.write(line + "\\n"); sys.stdout.flush()
            def fields(line):
                f = {}
                for w in line.split(" ")[2:]:
                    if "=" in w and "(" not in w.split("=")[0]:
                        k, v = w.split("=", 1); f[k] = v
                    else:
                        break
                return f
            assert sys.stdin.readline().strip() == "deja-tracer 1"
            """;

    private Path tracer(String name, String body) throws Exception {
        Path p = tmp.resolve(name + ".py");
        Files.writeString(p, PRELUDE + body);
        return p;
    }

    private static String sample(String name) {
        return Path.of("..", "samples", "tracers", name).toAbsolutePath().normalize().toString();
    }

    @Test
    void theYear2038SampleAnswersTimeCallsWithSkipOkAndMemoryWrites() throws Exception {
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + sample("year2038.py"), "--", "date", "-u", "+%Y-%m-%d");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("2038-01-19\n", r.stdout());
        Runs.Result at = Runs.deja(tmp, "run", "--tracer", "python3 " + sample("year2038.py") + " --at 2200000000", "--",
                "python3", "-c", "import time; print(time.gmtime().tm_year)");
        assertEquals("2039\n", at.stdout(), at.stderr());
    }

    @Test
    void theFaultInjectorFailsASeededShareOfWrites() throws Exception {
        String prog = "for i in 1 2 3 4 5 6 7 8; do echo line $i; done";
        String cmd = "python3 " + sample("fail_writes.py") + " --share 0.5 --seed 3 --fd 1";
        Runs.Result a = Runs.deja(tmp, "run", "--tracer", cmd, "--", "/bin/sh", "-c", prog);
        Runs.Result b = Runs.deja(tmp, "run", "--tracer", cmd, "--", "/bin/sh", "-c", prog);
        assertEquals(a.stdout(), b.stdout(), "the same seed fails the same writes");
        long kept = a.stdout().lines().count();
        assertTrue(kept > 0 && kept < 8, a.stdout());
        assertEquals(8 - kept, a.stderr().lines().filter(l -> l.contains("echo: I/O error")).count(), a.stderr());
        Runs.Result all = Runs.deja(tmp, "run", "--tracer", "python3 " + sample("fail_writes.py") + " --share 1 --fd 1",
                "--", "/bin/sh", "-c", "echo x");
        assertEquals("", all.stdout());
        assertTrue(all.stderr().contains("fail_writes: failed event"), all.stderr());
    }

    @Test
    void theDenyOutsideCwdSampleFailsWritesOutsideTheWorkingDirectory() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + sample("deny_outside_cwd.py"), "--", "/bin/sh", "-c",
                "cd \"$0\" && echo in > inside.txt; echo out > ../outside.txt; mkdir ../nope; mkdir sub; cat inside.txt",
                work.toString());
        assertEquals("in\n", r.stdout(), r.stderr());
        assertTrue(Files.isDirectory(work.resolve("sub")));
        assertTrue(Files.notExists(tmp.resolve("outside.txt")) && Files.notExists(tmp.resolve("nope")), r.stderr());
        assertEquals(2, r.stderr().lines().filter(l -> l.startsWith("deny_outside_cwd: denied event")).count(), r.stderr());
    }

    @Test
    void stackedTracersSeeThePreviousRewritesAndASkipEndsTheChain() throws Exception {
        Path seenA = tmp.resolve("a.log");
        Path seenB = tmp.resolve("b.log");
        Path a = tracer("redirect", """
                send("hello redirect"); send("subscribe decide write"); send("ready")
                log = open(%s, "w")
                for line in sys.stdin:
                    if not line.startswith("event "): continue
                    seq = line.split()[1]; log.write(line); log.flush()
                    args = fields(line)["args"].split(",")
                    send(seq + (" rewrite arg0=2" if int(args[0], 16) == 1 else " continue"))
                """.formatted("'" + seenA + "'"));
        Path b = tracer("failer", """
                send("hello failer"); send("subscribe decide write"); send("ready")
                log = open(%s, "w")
                for line in sys.stdin:
                    if not line.startswith("event "): continue
                    seq = line.split()[1]; log.write(line); log.flush()
                    send(seq + " skip-fail EIO")
                """.formatted("'" + seenB + "'"));
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + a, "--tracer", "python3 " + b, "--",
                "/bin/sh", "-c", "echo hello");
        assertEquals("", r.stdout(), r.stderr());
        assertTrue(!r.stderr().contains("hello"), r.stderr());
        assertTrue(Files.readString(seenA).contains("write(1, \"hello\\n\", 6)"), Files.readString(seenA));
        String b1 = Files.readString(seenB).lines().findFirst().orElseThrow();
        assertTrue(b1.contains("args=0x2,") && b1.endsWith("write(2, \"hello\\n\", 6)"), b1);
        assertEquals(Files.readString(seenA).lines().findFirst().orElseThrow().split(" ")[1], b1.split(" ")[1],
                "the same event number along the chain");
    }

    @Test
    void unsubscribedCallsRunUnderASeccompFilterUnlessTracersMayJoin() throws Exception {
        Path t = tracer("writes", """
                send("hello writes"); send("subscribe observe write"); send("ready")
                for line in sys.stdin:
                    pass
                """);
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + t, "--", "grep", "^Seccomp:", "/proc/self/status");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("Seccomp:\t2\n", r.stdout(), "the program runs under the device's filter");
        Runs.Result listening = Runs.deja(tmp, "run", "--tracer", "python3 " + t, "--listen", tmp.resolve("s").toString(),
                "--", "grep", "^Seccomp:", "/proc/self/status");
        assertEquals(0, listening.status(), listening.stderr());
        assertEquals("Seccomp:\t0\n", listening.stdout(), "with --listen every call stops: no filter");
    }

    @Test
    void aTracerHoldsOneEventWhileItAnswersAnotherFirst() throws Exception {
        // Holds the first write it gets (thread A's) until the second one (thread B's) has come,
        // answers the second first, then the first: B's line must come out before A's.
        Path t = tracer("holder", """
                send("hello holder"); send("subscribe decide write"); send("ready")
                def next_event():
                    while True:
                        line = sys.stdin.readline()
                        if not line: sys.exit(1)
                        if line.startswith("event "): return line
                first = next_event(); second = next_event()
                sys.stderr.write("ORDER " + ("1" if "thread 1" in first else "2") + ("1" if "thread 1" in second else "2") + "\\n")
                send(second.split(" ")[1] + " continue")
                import time; time.sleep(0.3)
                send(first.split(" ")[1] + " continue")
                send(first.split(" ")[1] + " continue")
                for line in sys.stdin:
                    if line.startswith("error"): sys.stderr.write("GOT " + line)
                """);
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + t, "--", dev.deja.samples.Samples.path("two_writers"));
        assertEquals(0, r.status(), r.stderr());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("ORDER (\\d)(\\d)").matcher(r.stderr());
        assertTrue(m.find(), r.stderr());
        // the event received second was answered first, so its line comes out first
        assertEquals("thread " + m.group(2) + "\nthread " + m.group(1) + "\n", r.stdout(), r.stderr());
        assertTrue(r.stderr().contains("already answered"), "a second answer to the same event is refused: " + r.stderr());
    }

    @Test
    void runAttachesToARunningProcessAndDetachesOnSigterm() throws Exception {
        Path seen = tmp.resolve("seen.txt");
        Path t = tracer("attached", """
                send("hello attached"); send("subscribe decide getppid"); send("ready")
                out = open(sys.argv[1], "a")
                for line in sys.stdin:
                    if line.startswith("event "):
                        out.write(line); out.flush()
                        send(line.split(" ")[1] + " continue")
                """);
        Process target = new ProcessBuilder(dev.deja.samples.Samples.path("attach_target"))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Process deja = null;
        try {
            assertEquals("ready", new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream())).readLine());
            long pid = target.pid();
            deja = new ProcessBuilder(Runs.launcher().toString(), "run", "--tracer", "python3 " + t + " " + seen, "-p",
                    Long.toString(pid)).redirectErrorStream(true).redirectOutput(tmp.resolve("deja.log").toFile()).start();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!(Files.exists(seen) && Files.readString(seen).contains("getppid()"))) {
                assertTrue(deja.isAlive(), "deja ended: " + Files.readString(tmp.resolve("deja.log")));
                assertTrue(System.nanoTime() < deadline, "no getppid event in 60 s");
                Thread.sleep(200);
            }
            deja.destroy(); // SIGTERM
            assertTrue(deja.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "deja did not end after SIGTERM");
            assertTrue(target.isAlive(), "the process outlives deja");
            String status = Files.readString(Path.of("/proc/" + pid + "/status"));
            assertTrue(status.contains("\nTracerPid:\t0\n"), status);
        } finally {
            if (deja != null) deja.destroyForcibly();
            target.destroyForcibly();
        }
    }

    @Test
    void aTracerThatCrashesIsDroppedAndTheRunGoesOn() throws Exception {
        Path t = tracer("crasher", """
                send("hello crasher"); send("subscribe decide write"); send("ready")
                sys.stdin.readline()
                sys.exit(3)
                """);
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo one; echo two");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("one\ntwo\n", r.stdout());
        assertTrue(r.stderr().contains("deja: tracer crasher is gone"), r.stderr());
    }

    @Test
    void aTracerThatDoesNotAnswerTimesOutAndTheCallContinues() throws Exception {
        Path t = tracer("sleeper", """
                send("hello sleeper"); send("subscribe decide write"); send("ready")
                for line in sys.stdin:
                    pass
                """);
        long start = System.nanoTime();
        Runs.Result r = Runs.deja(tmp, "run", "--timeout", "300", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo one");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("one\n", r.stdout());
        assertTrue(r.stderr().contains("tracer sleeper did not answer event"), r.stderr());
        assertTrue(System.nanoTime() - start > 300_000_000L);
    }

    @Test
    void queriesAndRefusalsOverTheWire() throws Exception {
        Path out = tmp.resolve("q.log");
        Path t = tracer("asker", """
                send("hello asker"); send("subscribe decide write"); send("ready")
                log = open(%s, "w")
                for line in sys.stdin:
                    if not line.startswith("event "): continue
                    seq = line.split()[1]
                    args = [int(x, 16) for x in fields(line)["args"].split(",")]
                    send("%%s peek 0x%%x %%d" %% (seq, args[1], args[2]))
                    log.write(sys.stdin.readline())
                    send(seq + " proc"); log.write(sys.stdin.readline())
                    send(seq + " fds"); log.write(sys.stdin.readline())
                    send("99999 continue"); log.write(sys.stdin.readline())
                    send(seq + " frobnicate"); log.write(sys.stdin.readline())
                    send(seq + " continue")
                    send(seq + " continue"); log.flush()
                """.formatted("'" + out + "'"));
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo hi");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("hi\n", r.stdout());
        String[] log = Files.readString(out).split("\n");
        assertTrue(log[0].matches("\\d+ reply peek addr=0x[0-9a-f]+ len=3 hex=68690a"), log[0]);
        assertTrue(log[1].matches("\\d+ reply proc pid=\\d+ tid=\\d+ comm=sh ppid=\\d+ uid=\\d+ euid=\\d+ gid=\\d+ egid=\\d+ .*exe=/usr/bin/dash cwd=.*"), log[1]);
        assertTrue(log[2].matches("\\d+ reply fds 0=\\S+ 1=\\S+ 2=\\S+.*"), log[2]);
        assertEquals("error 99999 refused: no event 99999 is waiting for your answer (event " + log[0].split(" ")[0] + " is)", log[3]);
        assertTrue(log[4].startsWith("error - refused '" + log[0].split(" ")[0] + " frobnicate': unknown message 'frobnicate'"), log[4]);
    }

    @Test
    void signalsCanBeSuppressedAndProcessEventsObserved() throws Exception {
        Path seen = tmp.resolve("seen.log");
        Path t = tracer("guard", """
                send("hello guard"); send("subscribe decide @signal"); send("subscribe observe @spawn @exec @exit"); send("ready")
                log = open(%s, "w")
                for line in sys.stdin:
                    if not line.startswith("event "): continue
                    log.write(line); log.flush()
                    if "--- SIGTERM" in line: send(line.split()[1] + " suppress")
                    elif "--- " in line: send(line.split()[1] + " continue")
                """.formatted("'" + seen + "'"));
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c",
                "kill -TERM $$; /bin/echo survived");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("survived\n", r.stdout());
        String log = Files.readString(seen);
        assertTrue(log.contains("--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER"), log);
        assertTrue(log.contains("+++ fork ") || log.contains("+++ vfork "), log);
        assertTrue(log.contains("+++ exec /usr/bin/echo +++"), log);
        assertTrue(log.contains("+++ exited with 0 +++"), log);
    }

    @Test
    void jsonTracersWork() throws Exception {
        Path t = tracer("jsoner", """
                send(json.dumps({"msg": "hello", "name": "jsoner"}))
                send(json.dumps({"msg": "subscribe", "mode": "decide", "names": ["write"]}))
                send(json.dumps({"msg": "ready"}))
                for line in sys.stdin:
                    m = json.loads(line)
                    if m["msg"] == "event":
                        send(json.dumps({"msg": "skip-ok", "seq": m["seq"], "value": len("hidden\\n")}))
                """);
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo hidden");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("", r.stdout());
    }

    @Test
    void aTracerThatFailsTheHandshakeStopsTheRunBeforeItStarts() throws Exception {
        Runs.Result r = Runs.deja(tmp, "run", "--tracer", "echo nonsense", "--", "/bin/sh", "-c", "echo never");
        assertEquals(ExitCodes.DEJA_FAILURE, r.status());
        assertEquals("", r.stdout());
        assertTrue(r.stderr().contains("deja: run: tracer 'echo nonsense': tracer echo nonsense hung up during the handshake"), r.stderr());
        assertNotEquals(0, r.status());
    }

    @Test
    void tracersJoinAndLeaveOverAUnixSocket() throws Exception {
        Path sock = tmp.resolve("deja.sock");
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        Process deja = new ProcessBuilder(Runs.launcher().toString(), "run", "--listen", sock.toString(), "--",
                "/bin/sh", "-c", "echo a; echo b; echo c")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            for (int i = 0; i < 300 && !Files.exists(sock); i++) Thread.sleep(100);
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(sock))) {
                java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                        java.nio.channels.Channels.newInputStream(ch), java.nio.charset.StandardCharsets.UTF_8));
                java.io.Writer w = new java.io.OutputStreamWriter(new java.io.OutputStream() {
                    @Override public void write(int b) throws java.io.IOException { write(new byte[]{(byte) b}, 0, 1); }
                    @Override public void write(byte[] b, int o, int l) throws java.io.IOException {
                        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b, o, l);
                        while (buf.hasRemaining()) ch.write(buf);
                    }
                }, java.nio.charset.StandardCharsets.UTF_8);
                assertEquals("deja-tracer 1", in.readLine());
                w.write("hello socket tracer\nsubscribe decide write\nready\n");
                w.flush();
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.startsWith("event ")) continue;
                    String seq = line.split(" ")[1];
                    if (line.endsWith("write(1, \"b\\n\", 2)")) {
                        w.write(seq + " skip-fail EIO\n");
                        w.flush();
                        break; // and leave: the run goes on without this tracer
                    }
                    w.write(seq + " continue\n");
                    w.flush();
                }
            }
            assertTrue(deja.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            deja.destroyForcibly();
        }
        String stderr = Files.readString(err);
        assertEquals("a\nc\n", Files.readString(out), stderr);
        assertTrue(stderr.contains("deja: tracer socket tracer joined"), stderr);
        assertTrue(stderr.contains("echo: I/O error"), stderr);
        assertTrue(Files.notExists(sock), "the socket is removed at the end");
    }

    @Test
    void aSocketPeerOfAnotherUserIsRefused() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name"))
                && Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/python3")),
                "needs root, setpriv and /usr/bin/python3 to connect as another user");
        Path dir = Files.createDirectories(tmp.resolve("open"));
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path sock = dir.resolve("deja.sock");
        Path client = dir.resolve("client.py");
        Files.writeString(client, """
                import socket, sys
                s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
                print(s.makefile().readline().strip())
                """);
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        Process deja = new ProcessBuilder(Runs.launcher().toString(), "run", "--listen", sock.toString(), "--", "/bin/true")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            for (int i = 0; i < 300 && !Files.exists(sock); i++) Thread.sleep(100);
            // the 0600 mode alone keeps others out; open it up to reach the credential check behind it
            Files.setPosixFilePermissions(sock, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
            Runs.Result other = Runs.nativeRun("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "/usr/bin/python3", client.toString(), sock.toString());
            assertEquals("error - refused: you are nobody; only root may trace this program", other.stdout().strip(), other.stderr());
        } finally {
            deja.destroy();
            deja.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertTrue(Files.readString(err).contains("deja: --listen: refused a tracer of user nobody"), Files.readString(err));
    }
}
