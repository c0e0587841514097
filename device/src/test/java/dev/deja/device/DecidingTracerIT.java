package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device's answers (skip-ok, skip-fail, rewrite, memory writes, injection, signals) on real processes. */
class DecidingTracerIT {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.current());

    @TempDir
    Path dir;

    private static int nr(String name) {
        return TABLE.number(name).orElseThrow();
    }

    /** A deciding tracer built from a function; it also keeps every completed syscall. */
    static final class Deciding implements Tracer {
        final BiFunction<SyscallEntry, Tracee, Decision> decide;
        final List<SyscallEvent> calls = new ArrayList<>();
        int suppressSignal;

        Deciding(BiFunction<SyscallEntry, Tracee, Decision> decide) {
            this.decide = decide;
        }

        @Override public boolean decides() { return true; }
        @Override public Decision onSyscallEntry(SyscallEntry e, Tracee t) { return decide.apply(e, t); }
        @Override public void onSyscall(SyscallEvent e, Tracee t) { calls.add(e); }
        @Override public int signalToDeliver(SignalEvent e, Tracee t) { return e.signo() == suppressSignal ? 0 : e.signo(); }
    }

    private TraceResult run(Tracer t, String shellCommand) throws Exception {
        LaunchSpec spec = Launch.of(List.of("/bin/sh", "-c", shellCommand), List.of());
        TraceResult[] out = new TraceResult[1];
        Thread th = Thread.ofPlatform().start(() -> out[0] = new TraceSession(spec, t).run());
        th.join();
        return out[0];
    }

    private static String pathArg(SyscallEntry e, int arg) {
        return e.inputs().stream().filter(b -> b.arg() == arg).findFirst()
                .map(b -> new String(b.data(), StandardCharsets.UTF_8).replace("\0", "")).orElse("");
    }

    @Test
    void skipFailMakesOpenFailWithoutTheKernel() throws Exception {
        Path out = dir.resolve("err");
        Deciding t = new Deciding((e, tr) -> e.nr() == nr("openat") && pathArg(e, 1).equals("/etc/hostname")
                ? Decision.fail(2) : Decision.proceed());
        TraceResult r = run(t, "cat /etc/hostname 2>" + out);
        assertEquals(1, r.shellStatus());
        assertTrue(Files.readString(out).contains("No such file or directory"), Files.readString(out));
        SyscallEvent open = t.calls.stream().filter(c -> (c.flags() & SyscallEvent.SKIPPED) != 0).findFirst().orElseThrow();
        assertEquals(-2, open.result());
    }

    @Test
    void skipOkWithAMemoryWriteMakesItTheYear2038() throws Exception {
        Path out = dir.resolve("year");
        Deciding t = new Deciding((e, tr) -> {
            if (e.nr() != nr("clock_gettime")) return Decision.proceed();
            byte[] ts = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(2_147_483_647L).putLong(0).array();
            tr.write(e.arg(1), ts);
            return Decision.succeed(0);
        });
        TraceResult r = run(t, "date -u +%Y-%m-%d >" + out);
        assertEquals(0, r.shellStatus());
        assertEquals("2038-01-19\n", Files.readString(out));
    }

    @Test
    void rewriteSendsStdoutToStderr() throws Exception {
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Deciding t = new Deciding((e, tr) -> {
            if (e.nr() == nr("write") && e.arg(0) == 1) {
                long[] a = e.args();
                a[0] = 2;
                return new Decision.Rewrite(e.nr(), a);
            }
            return Decision.proceed();
        });
        run(t, "/bin/echo moved >" + out + " 2>" + err);
        assertEquals("", Files.readString(out));
        assertEquals("moved\n", Files.readString(err));
        assertTrue(t.calls.stream().anyMatch(c -> (c.flags() & SyscallEvent.REWRITTEN) != 0 && c.arg(0) == 2));
    }

    @Test
    void injectedSyscallRunsInTheTraceeAndItsOwnCallStillRuns() throws Exception {
        Path out = dir.resolve("pid");
        long[] injected = {0};
        int[] pid = {0};
        Deciding t = new Deciding((e, tr) -> {
            if (e.nr() == nr("getppid") && injected[0] == 0) {
                injected[0] = tr.inject(nr("getpid"));
                pid[0] = tr.pid();
            }
            return Decision.proceed();
        });
        TraceResult r = run(t, "echo $PPID >" + out);
        assertEquals(0, r.shellStatus());
        assertEquals(pid[0], injected[0], "the injected getpid ran in the tracee");
        long ppid = Long.parseLong(Files.readString(out).trim());
        SyscallEvent getppid = t.calls.stream().filter(c -> c.nr() == nr("getppid")).findFirst().orElseThrow();
        assertEquals(ppid, getppid.result(), "the tracee's own getppid still ran and returned to it");
    }

    @Test
    void suppressedSignalIsNotDelivered() throws Exception {
        Path out = dir.resolve("alive");
        Deciding t = new Deciding((e, tr) -> Decision.proceed());
        t.suppressSignal = 15;
        TraceResult r = run(t, "kill -TERM $$; echo alive >" + out);
        assertEquals(0, r.shellStatus());
        assertEquals("alive\n", Files.readString(out));
    }
}
