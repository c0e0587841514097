package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.SyscallTable;
import dev.deja.device.syscall.Arch;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stop loop against real processes under the real kernel. */
class TraceSessionIT {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.current());

    /** Collects every event in the order the device reports them. */
    static class Collect implements Tracer {
        final List<Event> events = new ArrayList<>();

        @Override public void onSyscall(SyscallEvent e, Tracee t) { events.add(e); }
        @Override public void onSignal(dev.deja.formats.event.SignalEvent e, Tracee t) { events.add(e); }
        @Override public void onSpawn(SpawnEvent e) { events.add(e); }
        @Override public void onExec(ExecEvent e, Path exe) { events.add(e); }
        @Override public void onMapping(dev.deja.formats.event.MappingEvent e, Path source) { events.add(e); }
        @Override public void onContext(dev.deja.formats.event.ContextEvent e) { events.add(e); }
        @Override public void onExit(ExitEvent e) { events.add(e); }

        long count(String syscall) {
            int nr = TABLE.number(syscall).orElseThrow();
            return events.stream().filter(e -> e instanceof SyscallEvent s && s.nr() == nr).count();
        }
    }

    static TraceResult run(Collect c, String... argv) throws Exception {
        LaunchSpec spec = Launch.of(List.of(argv), List.of());
        TraceResult[] out = new TraceResult[1];
        Thread t = Thread.ofPlatform().start(() -> out[0] = new TraceSession(spec, c).run());
        t.join();
        return out[0];
    }

    @Test
    void countsEveryGetppidAndStartsWithTheProgramsExecve() throws Exception {
        Collect c = new Collect();
        TraceResult r = run(c, Samples.path("getppid_loop"), "1000");
        assertEquals(0, r.shellStatus());
        assertEquals(1000, c.count("getppid"));
        SyscallEvent first = (SyscallEvent) c.events.stream().filter(e -> e instanceof SyscallEvent).findFirst().orElseThrow();
        assertEquals(1, first.seq(), () -> c.events.subList(0, 6).toString());
        assertEquals(TABLE.number("execve").orElseThrow(), first.nr());
        assertEquals(0, first.result());
        ExecEvent exec = (ExecEvent) c.events.stream().filter(e -> e instanceof ExecEvent).findFirst().orElseThrow();
        assertEquals(List.of(Samples.path("getppid_loop"), "1000"), exec.argv());
        // The vDSO is hidden: no AT_SYSINFO_EHDR (33) left in the auxiliary vector.
        long[] auxv = exec.auxv();
        for (int i = 0; i < auxv.length; i += 2) assertTrue(auxv[i] != 33, "AT_SYSINFO_EHDR still present");
        // Events are numbered 1..N without gaps or repeats.
        long[] seqs = c.events.stream().mapToLong(Event::seq).sorted().toArray();
        for (int i = 0; i < seqs.length; i++) assertEquals(i + 1, seqs[i]);
    }

    @Test
    void followsForkAndExecAndPropagatesTheExitStatus() throws Exception {
        Collect c = new Collect();
        TraceResult r = run(c, "/bin/sh", "-c", "/bin/echo hi >/dev/null; exit 3");
        assertEquals(3, r.shellStatus());
        assertTrue(c.events.stream().anyMatch(e -> e instanceof SpawnEvent));
        assertEquals(2, c.events.stream().filter(e -> e instanceof ExecEvent).count());
        assertTrue(r.processes() >= 2);
    }

    @Test
    void timeCallsBecomeSyscallsWithoutTheVdso() throws Exception {
        Collect c = new Collect();
        TraceResult r = run(c, "/bin/date");
        assertEquals(0, r.shellStatus());
        assertTrue(c.count("clock_gettime") >= 1, "date's clock_gettime was not seen as a syscall");
    }

    @Test
    void reportsDeathBySignal() throws Exception {
        Collect c = new Collect();
        TraceResult r = run(c, "/bin/sh", "-c", "kill -TERM $$");
        assertEquals(128 + 15, r.shellStatus());
    }

    /** strace -b execve: a process that execs after the program's own exec is let go; the program's status stays. */
    @Test
    void letsAProcessGoAtItsExecWhenTheTracerAsks() throws Exception {
        List<SyscallEvent> detached = new ArrayList<>();
        Collect c = new Collect() {
            @Override public boolean detachesAtExec() { return true; }
            @Override public void onDetached(SyscallEvent e) { detached.add(e); }
        };
        TraceResult r = run(c, "/bin/sh", "-c", "/bin/true; exec /bin/sh -c 'exit 5'");
        assertEquals(5, r.shellStatus(), "the status of the root, let go at its second exec");
        assertEquals(2, detached.size(), detached.toString());
        int execve = TABLE.number("execve").orElseThrow();
        assertTrue(detached.stream().allMatch(e -> e.nr() == execve && !e.returned()), detached.toString());
        assertEquals(1, c.events.stream().filter(e -> e instanceof ExecEvent).count(), "only the program's own exec is reported");
        int child = detached.getFirst().tid();
        assertTrue(c.events.stream().noneMatch(e -> e.tid() == child && e.seq() > detached.getFirst().seq()),
                "nothing of /bin/true after its exec");
    }
}
