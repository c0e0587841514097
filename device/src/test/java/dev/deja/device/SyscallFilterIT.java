package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tracers that want only some calls: the seccomp filter lets the others run without stopping. */
class SyscallFilterIT {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.current());

    @TempDir
    Path dir;

    private static int nr(String name) {
        return TABLE.number(name).orElseThrow();
    }

    /** Keeps every event; decides with {@code decide}; wants {@code interest}. */
    static final class Selective implements Tracer {
        final SyscallInterest interest;
        final BiFunction<SyscallEntry, Tracee, Decision> decide;
        final List<SyscallEvent> calls = new ArrayList<>();
        final List<SignalEvent> signals = new ArrayList<>();
        final List<Long> seqs = new ArrayList<>();
        final List<String> statusAtExec = new ArrayList<>();
        int spawns;

        Selective(SyscallInterest interest, BiFunction<SyscallEntry, Tracee, Decision> decide) {
            this.interest = interest;
            this.decide = decide;
        }

        @Override public SyscallInterest interest() { return interest; }
        @Override public boolean decides() { return decide != null; }
        @Override public Decision onSyscallEntry(SyscallEntry e, Tracee t) { return decide.apply(e, t); }
        @Override public void onSyscall(SyscallEvent e, Tracee t) { calls.add(e); seqs.add(e.seq()); }
        @Override public void onSignal(SignalEvent e, Tracee t) { signals.add(e); seqs.add(e.seq()); }
        @Override public void onSpawn(SpawnEvent e) { spawns++; seqs.add(e.seq()); }
        @Override public void onMapping(MappingEvent e, Path source) { seqs.add(e.seq()); }
        @Override public void onContext(ContextEvent e) { seqs.add(e.seq()); }
        @Override public void onExit(ExitEvent e) { seqs.add(e.seq()); }

        @Override
        public void onExec(ExecEvent e, Path executable) {
            seqs.add(e.seq());
            try {
                statusAtExec.add(Files.readString(Path.of("/proc", Integer.toString(e.pid()), "status")));
            } catch (java.io.IOException ex) {
                throw new AssertionError(ex);
            }
        }

        long count(String name) {
            return calls.stream().filter(c -> c.nr() == nr(name)).count();
        }
    }

    private static TraceResult run(Tracer t, String... command) throws Exception {
        LaunchSpec spec = Launch.of(List.of(command), List.of());
        TraceResult[] out = new TraceResult[1];
        Thread th = Thread.ofPlatform().start(() -> out[0] = new TraceSession(spec, t).run());
        th.join();
        return out[0];
    }

    private static String loopThenEcho(int n) {
        return Samples.path("getppid_loop") + " " + n + " && echo done";
    }

    @Test
    void unsubscribedCallsDoNotStopAndEventsStayNumberedWithoutGaps() throws Exception {
        Selective only = new Selective(SyscallInterest.only(Set.of(nr("write"))), null);
        TraceResult r = run(only, "/bin/sh", "-c", loopThenEcho(1000));
        assertEquals(0, r.shellStatus());
        assertEquals(0, only.count("getppid"), "getppid is not subscribed");
        assertEquals(1, only.count("write"), "the shell's echo");
        assertEquals(1, only.count("execve"), "the program's own execve is always event 1");
        assertEquals(1, only.calls.getFirst().seq());
        assertTrue(only.spawns >= 1, "the fork is still seen");
        List<Long> sorted = only.seqs.stream().sorted().toList();
        for (int i = 0; i < sorted.size(); i++) assertEquals(i + 1, sorted.get(i), "event numbers " + sorted);
        assertEquals(sorted.size(), r.events());

        Selective all = new Selective(SyscallInterest.all(), null);
        run(all, "/bin/sh", "-c", loopThenEcho(1000));
        assertTrue(all.count("getppid") >= 1000, "without a filter every call stops");
    }

    @Test
    void theFilterIsInstalledAndInheritedAcrossExec() throws Exception {
        Selective t = new Selective(SyscallInterest.only(Set.of()), null);
        run(t, "/bin/sh", "-c", "/bin/true");
        assertEquals(2, t.statusAtExec.size(), "the shell and /bin/true");
        for (String status : t.statusAtExec) {
            assertTrue(status.contains("\nSeccomp:\t2\n"), status);
            boolean admin = status.lines().filter(l -> l.startsWith("CapEff:"))
                    .map(l -> (Long.parseUnsignedLong(l.substring(7).trim(), 16) >>> 21 & 1) != 0).findFirst().orElseThrow();
            // no_new_privs only when the filter could not be installed without it
            assertTrue(status.contains("\nNoNewPrivs:\t" + (admin ? 0 : 1) + "\n"), status);
        }
    }

    @Test
    void everyCallStopsWithoutAFilter() throws Exception {
        Selective t = new Selective(SyscallInterest.all(), null);
        run(t, "/bin/true");
        assertTrue(t.statusAtExec.getFirst().contains("\nSeccomp:\t0\n"), t.statusAtExec.getFirst());
    }

    @Test
    void decisionsWorkAtFilteredStops() throws Exception {
        Path err = dir.resolve("err");
        Selective t = new Selective(SyscallInterest.only(Set.of(nr("openat"))), (e, tr) ->
                e.nr() == nr("openat") && new String(e.inputs().stream().filter(b -> b.arg() == 1).findFirst()
                        .orElseThrow().data(), StandardCharsets.UTF_8).startsWith("/etc/hostname")
                        ? Decision.fail(2) : Decision.proceed());
        TraceResult r = run(t, "/bin/sh", "-c", "cat /etc/hostname 2>" + err);
        assertEquals(1, r.shellStatus());
        assertTrue(Files.readString(err).contains("No such file or directory"), Files.readString(err));
        assertTrue(t.calls.stream().anyMatch(c -> (c.flags() & SyscallEvent.SKIPPED) != 0 && c.result() == -2));
        assertFalse(t.calls.stream().anyMatch(c -> c.nr() == nr("read")), "read is not subscribed");
    }

    @Test
    void rewriteAndInjectionWorkAtFilteredStops() throws Exception {
        Path out = dir.resolve("out");
        Path err = dir.resolve("err2");
        long[] injected = {0};
        int[] pid = {0};
        Selective t = new Selective(SyscallInterest.only(Set.of(nr("write"), nr("getppid"))), (e, tr) -> {
            if (e.nr() == nr("getppid") && injected[0] == 0) {
                injected[0] = tr.inject(nr("getpid"));
                pid[0] = tr.pid();
            }
            if (e.nr() == nr("write") && e.arg(0) == 1) {
                long[] args = e.args();
                args[0] = 2;
                return new Decision.Rewrite(e.nr(), args);
            }
            return Decision.proceed();
        });
        TraceResult r = run(t, "/bin/sh", "-c", Samples.path("getppid_loop") + " 3; echo moved >" + out
                + " 2>" + err);
        assertEquals(0, r.shellStatus());
        assertEquals(pid[0], injected[0], "the injected getpid ran in the tracee");
        assertEquals("", Files.readString(out));
        assertEquals("moved\n", Files.readString(err));
        assertTrue(t.count("getppid") >= 3, "the loop's calls: " + t.count("getppid"));
    }

    @Test
    void signalsStillStop() throws Exception {
        Selective t = new Selective(SyscallInterest.only(Set.of()), null);
        TraceResult r = run(t, "/bin/sh", "-c", "trap 'exit 7' USR1; kill -USR1 $$; sleep 5");
        assertEquals(7, r.shellStatus());
        assertTrue(t.signals.stream().anyMatch(s -> s.signo() == 10), "SIGUSR1 seen: " + t.signals);
    }
}
