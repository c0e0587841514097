package dev.deja.device.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.deja.device.Decision;
import dev.deja.device.SyscallEntry;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.formats.event.SignalEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TracerChainTest {

    private static final Tracee TRACEE = new Tracee() {
        @Override public int pid() { return 1; }
        @Override public int tid() { return 1; }
        @Override public TraceeMemory memory() { return (a, d, o, l) -> -1; }
        @Override public void write(long address, byte[] data) { }
        @Override public long inject(int nr, long... args) { return 0; }
        public void setResult(long value) { }
    };

    /** A deciding tracer that logs what it saw and answers with {@code answer}. */
    private record Step(String name, List<String> seen, java.util.function.Function<SyscallEntry, Decision> answer) implements Tracer {
        @Override public boolean decides() { return true; }

        @Override
        public Decision onSyscallEntry(SyscallEntry e, Tracee t) {
            seen.add(name + ":" + e.nr() + ":" + e.arg(0));
            return answer.apply(e);
        }

        @Override
        public int signalToDeliver(SignalEvent e, Tracee t) {
            seen.add(name + ":sig" + e.signo());
            return name.equals("a") ? 15 : name.equals("b") ? 0 : e.signo();
        }
    }

    @Test
    void eachTracerSeesThePreviousRewritesAndASkipEndsTheChain() {
        List<String> seen = new ArrayList<>();
        Tracer a = new Step("a", seen, e -> new Decision.Rewrite(e.nr(), new long[]{4, e.arg(1), 0, 0, 0, 0}));
        Tracer b = new Step("b", seen, e -> e.arg(0) == 4 ? Decision.fail(5) : Decision.proceed());
        Tracer c = new Step("c", seen, e -> Decision.proceed());
        TracerChain chain = new TracerChain(List.of(a, b, c));
        Decision d = chain.onSyscallEntry(new SyscallEntry(1, 1, 1, 0, 1, new long[]{2, 0, 0, 0, 0, 0}, List.of()), TRACEE);
        assertEquals(Decision.fail(5), d);
        assertEquals(List.of("a:1:2", "b:1:4"), seen);
    }

    @Test
    void rewritesAccumulateWhenNobodySkips() {
        List<String> seen = new ArrayList<>();
        Tracer a = new Step("a", seen, e -> new Decision.Rewrite(e.nr(), new long[]{4, 0, 0, 0, 0, 0}));
        Tracer c = new Step("c", seen, e -> Decision.proceed());
        Decision d = new TracerChain(List.of(a, c)).onSyscallEntry(
                new SyscallEntry(1, 1, 1, 0, 1, new long[]{2, 0, 0, 0, 0, 0}, List.of()), TRACEE);
        Decision.Rewrite r = assertInstanceOf(Decision.Rewrite.class, d);
        assertArrayEquals(new long[]{4, 0, 0, 0, 0, 0}, r.args());
        assertEquals(List.of("a:1:2", "c:1:4"), seen);
    }

    @Test
    void signalsGoThroughTheChainUntilSuppressed() {
        List<String> seen = new ArrayList<>();
        Tracer a = new Step("a", seen, e -> Decision.proceed());
        Tracer b = new Step("b", seen, e -> Decision.proceed());
        Tracer c = new Step("c", seen, e -> Decision.proceed());
        SignalEvent sig = new SignalEvent(3, 1, 1, 0, 2, 0, 0, 0, new byte[128], true);
        assertEquals(0, new TracerChain(List.of(a, b, c)).signalToDeliver(sig, TRACEE));
        assertEquals(List.of("a:sig2", "b:sig15"), seen);
    }

    /** A tracer that answers later: each entry's future is kept for the test to complete. */
    private record LaterStep(String name, List<String> seen, List<java.util.concurrent.CompletableFuture<Decision>> futures)
            implements Tracer {
        @Override public boolean decides() { return true; }
        @Override public boolean answersLater() { return true; }

        @Override
        public java.util.concurrent.CompletableFuture<Decision> onSyscallEntryLater(SyscallEntry e, Tracee t) {
            seen.add(name + ":" + e.seq() + ":" + e.arg(0));
            java.util.concurrent.CompletableFuture<Decision> f = new java.util.concurrent.CompletableFuture<>();
            futures.add(f);
            return f;
        }
    }

    @Test
    void laterAnswersGoThroughTheChainInOrderAndInAnyOrderAcrossEvents() {
        List<String> seen = new ArrayList<>();
        List<java.util.concurrent.CompletableFuture<Decision>> fa = new ArrayList<>();
        Tracer a = new LaterStep("a", seen, fa);
        Tracer b = new Step("b", seen, e -> e.arg(0) == 4 ? Decision.fail(5) : Decision.proceed());
        TracerChain chain = new TracerChain(List.of(a, b));
        assertEquals(true, chain.answersLater());
        var first = chain.onSyscallEntryLater(new SyscallEntry(17, 1, 1, 0, 1, new long[]{2, 0, 0, 0, 0, 0}, List.of()), TRACEE);
        var second = chain.onSyscallEntryLater(new SyscallEntry(18, 1, 2, 0, 1, new long[]{3, 0, 0, 0, 0, 0}, List.of()), TRACEE);
        assertEquals(List.of("a:17:2", "a:18:3"), seen, "b is asked only once a has answered");
        assertEquals(false, first.isDone());
        fa.get(1).complete(Decision.proceed()); // 18 answered first
        assertEquals(Decision.proceed(), second.join());
        assertEquals(false, first.isDone());
        fa.get(0).complete(new Decision.Rewrite(1, new long[]{4, 0, 0, 0, 0, 0}));
        assertEquals(Decision.fail(5), first.join(), "b saw a's rewrite and failed the call");
        assertEquals(List.of("a:17:2", "a:18:3", "b:1:3", "b:1:4"), seen);
    }

    @Test
    void aChainOfSynchronousTracersAnswersAtOnce() {
        List<String> seen = new ArrayList<>();
        TracerChain chain = new TracerChain(List.of(new Step("a", seen, e -> Decision.succeed(7))));
        assertEquals(false, chain.answersLater());
        var d = chain.onSyscallEntryLater(new SyscallEntry(1, 1, 1, 0, 1, new long[6], List.of()), TRACEE);
        assertEquals(Decision.succeed(7), d.getNow(null));
    }
}
