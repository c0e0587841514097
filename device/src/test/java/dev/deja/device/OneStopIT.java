package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.SyscallEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deciding tracer that {@link Tracer#answersAtOneStop answers at one stop}: a skipped call is over
 * at its (seccomp) entry stop, with the result and memory the tracer gave, and its exit reported there;
 * also right after a syscall injected at that entry (then from a plain entry stop).
 */
class OneStopIT {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.current());

    @TempDir
    Path dir;

    private static int nr(String name) {
        return TABLE.number(name).orElseThrow();
    }

    private static final class OneStop implements Tracer {
        final BiFunction<SyscallEntry, Tracee, Decision> decide;
        final boolean oneStop;
        final List<SyscallEvent> calls = new ArrayList<>();

        OneStop(boolean oneStop, BiFunction<SyscallEntry, Tracee, Decision> decide) {
            this.oneStop = oneStop;
            this.decide = decide;
        }

        @Override public boolean decides() { return true; }
        @Override public boolean answersAtOneStop() { return oneStop; }
        @Override public Decision onSyscallEntry(SyscallEntry e, Tracee t) { return decide.apply(e, t); }
        @Override public void onSyscall(SyscallEvent e, Tracee t) { calls.add(e); }
    }

    private static TraceResult run(Tracer t, String shellCommand) throws Exception {
        LaunchSpec spec = Launch.of(List.of("/bin/sh", "-c", shellCommand), List.of());
        TraceResult[] out = new TraceResult[1];
        Thread th = Thread.ofPlatform().start(() -> out[0] = new TraceSession(spec, t).run());
        th.join();
        return out[0];
    }

    /** clock_gettime answered with 2038 (memory and result), getppid with 4242 after an injected getpid. */
    private static BiFunction<SyscallEntry, Tracee, Decision> answers(int[] injectedPid) {
        return (e, tr) -> {
            if (e.nr() == nr("clock_gettime")) {
                tr.write(e.arg(1), ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(2_147_483_647L).putLong(0).array());
                return Decision.succeed(0);
            }
            if (e.nr() == nr("getppid")) {
                injectedPid[0] = (int) tr.inject(nr("getpid"));
                return Decision.succeed(4242);
            }
            return Decision.proceed();
        };
    }

    @Test
    void skippedCallsAreAnsweredAtTheirEntry() throws Exception {
        Path out = dir.resolve("out");
        int[] injected = {0};
        OneStop t = new OneStop(true, answers(injected));
        TraceResult r = run(t, "date -u +%Y-%m-%d >" + out + "; echo $PPID >>" + out);
        assertEquals(0, r.shellStatus());
        assertEquals("2038-01-19\n4242\n", Files.readString(out));
        assertTrue(injected[0] > 0, "the injected getpid ran: " + injected[0]);
        List<SyscallEvent> skipped = t.calls.stream().filter(c -> (c.flags() & SyscallEvent.SKIPPED) != 0).toList();
        assertTrue(skipped.size() >= 2, "skipped: " + skipped);
        assertEquals(4242, skipped.stream().filter(c -> c.nr() == nr("getppid")).findFirst().orElseThrow().result());
        assertEquals(skipped.size(), r.answeredAtEntry(), "calls answered at their entry");
        // the calls that run stop at their (seccomp) entry and at their exit, the skipped ones once; a few more
        // stops are events and signals (fork, exec, the first stop of the child, SIGCHLD)
        long syscallStops = 2L * (t.calls.size() - skipped.size()) + skipped.size();
        assertTrue(r.stops() <= syscallStops + 20, r.stops() + " stops for " + t.calls.size() + " calls");
    }

    @Test
    void withoutItEveryCallStopsTwice() throws Exception {
        Path out = dir.resolve("out");
        int[] injected = {0};
        OneStop t = new OneStop(false, answers(injected));
        TraceResult r = run(t, "date -u +%Y-%m-%d >" + out + "; echo $PPID >>" + out);
        assertEquals(0, r.shellStatus());
        assertEquals("2038-01-19\n4242\n", Files.readString(out));
        assertEquals(0, r.answeredAtEntry());
        assertTrue(r.stops() >= 2L * t.calls.size(), r.stops() + " stops for " + t.calls.size() + " calls");
    }
}
