package dev.deja.device.tracer;

import dev.deja.device.Decision;
import dev.deja.device.SyscallEntry;
import dev.deja.device.SyscallInterest;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.MemoryCapture;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Several tracers screening each call in turn, in order (the 1999 proposal's nested tracers):
 * each deciding tracer sees the call as the previous ones left it (rewrites included, input
 * buffers read again from the new arguments); the first skip ends the chain and the tracers after
 * it are not asked. A signal goes through the chain the same way, each one seeing the signal the
 * previous one chose; a suppression ends it. Every tracer observes every event.
 */
public final class TracerChain implements Tracer {
    private final List<Tracer> tracers;
    private final MemoryCapture capture = MemoryCapture.of(Arch.current());
    private final boolean decides;
    private final boolean acceptsJoiners;
    /** Tracers that asked to join, admitted on the device's thread at the next event. */
    private final java.util.Queue<Tracer> joining = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** The device's thread, for tracers that answer later (those that join included). */
    private volatile java.util.concurrent.Executor deviceThread;
    /** The latest context of each live process, given to tracers that join mid-run. */
    private final java.util.Map<Integer, ContextEvent> contexts = new java.util.HashMap<>();

    public TracerChain(List<? extends Tracer> tracers) {
        this(tracers, false);
    }

    /** {@code alwaysDecides}: decide even if no tracer does now (tracers may join later). */
    public TracerChain(List<? extends Tracer> tracers, boolean alwaysDecides) {
        this.tracers = new java.util.concurrent.CopyOnWriteArrayList<>(tracers);
        this.decides = alwaysDecides || this.tracers.stream().anyMatch(Tracer::decides);
        this.acceptsJoiners = alwaysDecides;
    }

    /**
     * Adds {@code t} at the end of the chain, from any thread; it takes part from the next event
     * on (knowing the context of the processes already running). A chain that did not decide
     * when the session started never will: build it with {@code alwaysDecides} if tracers may join.
     */
    public void join(Tracer t) {
        joining.add(t);
    }

    /** The tracers in the chain now (those that joined included). */
    public List<Tracer> tracers() {
        return List.copyOf(tracers);
    }

    /** On the device's thread: admits joiners and drops remote tracers that are gone. */
    private void admit() {
        Tracer t;
        while ((t = joining.poll()) != null) {
            if (deviceThread != null) t.bindDeviceThread(deviceThread);
            for (ContextEvent c : contexts.values()) t.onContext(c);
            tracers.add(t);
        }
        tracers.removeIf(x -> x instanceof RemoteTracer r && !r.alive());
    }

    @Override
    public boolean decides() {
        return decides;
    }

    /**
     * The union of the tracers' interests; every call when tracers may join (a filter installed
     * at launch can only narrow what stops, so a later subscription could not be served).
     */
    @Override
    public SyscallInterest interest() {
        if (acceptsJoiners) return SyscallInterest.all();
        SyscallInterest i = SyscallInterest.only(java.util.Set.of());
        for (Tracer t : tracers) i = i.union(t.interest());
        return i;
    }

    @Override
    public Decision onSyscallEntry(SyscallEntry entry, Tracee tracee) {
        admit();
        SyscallEntry current = entry;
        boolean rewritten = false;
        for (Tracer t : tracers) {
            if (!t.decides()) continue;
            Decision d = t.onSyscallEntry(current, tracee);
            switch (d) {
                case Decision.Proceed p -> {
                }
                case Decision.Skip s -> {
                    return s;
                }
                case Decision.Rewrite r -> {
                    current = new SyscallEntry(entry.seq(), entry.pid(), entry.tid(), entry.timeNs(), r.nr(), r.args(),
                            capture.inputs(r.nr(), r.args(), tracee.memory()));
                    rewritten = true;
                }
            }
        }
        return rewritten ? new Decision.Rewrite(current.nr(), current.args()) : Decision.proceed();
    }

    /** When any tracer answers later, or tracers may join (remote ones answer later). */
    @Override
    public boolean answersLater() {
        return acceptsJoiners || tracers.stream().anyMatch(Tracer::answersLater);
    }

    @Override
    public void bindDeviceThread(java.util.concurrent.Executor executor) {
        this.deviceThread = executor;
        for (Tracer t : tracers) t.bindDeviceThread(executor);
    }

    /**
     * The chain, one tracer after the other as {@link #onSyscallEntry} does, each asked when the
     * previous one has answered (on the device's thread, where answers complete).
     */
    @Override
    public CompletableFuture<Decision> onSyscallEntryLater(SyscallEntry entry, Tracee tracee) {
        admit();
        return screen(List.copyOf(tracers), 0, entry, false, tracee);
    }

    private CompletableFuture<Decision> screen(List<Tracer> chain, int from, SyscallEntry current, boolean rewritten,
                                               Tracee tracee) {
        for (int i = from; i < chain.size(); i++) {
            Tracer t = chain.get(i);
            if (!t.decides()) continue;
            int next = i + 1;
            return t.onSyscallEntryLater(current, tracee).thenCompose(d -> switch (d) {
                case Decision.Proceed p -> screen(chain, next, current, rewritten, tracee);
                case Decision.Skip s -> CompletableFuture.<Decision>completedFuture(s);
                case Decision.Rewrite r -> screen(chain, next, new SyscallEntry(current.seq(), current.pid(), current.tid(),
                        current.timeNs(), r.nr(), r.args(), capture.inputs(r.nr(), r.args(), tracee.memory())), true, tracee);
            });
        }
        return CompletableFuture.completedFuture(rewritten ? new Decision.Rewrite(current.nr(), current.args())
                : Decision.proceed());
    }

    @Override
    public int signalToDeliver(SignalEvent event, Tracee tracee) {
        admit();
        int signo = event.signo();
        for (Tracer t : tracers) {
            if (!t.decides()) continue;
            SignalEvent e = signo == event.signo() ? event
                    : new SignalEvent(event.seq(), event.pid(), event.tid(), event.timeNs(), signo, event.code(),
                            event.senderPid(), event.senderUid(), event.siginfo(), true);
            signo = t.signalToDeliver(e, tracee);
            if (signo == 0) break;
        }
        return signo;
    }

    @Override
    public boolean ordersThreads() {
        for (Tracer t : tracers) if (t.ordersThreads()) return true;
        return false;
    }

    /** A thread goes on when every tracer that orders threads lets it. */
    @Override
    public boolean mayContinue(Tracee tracee, dev.deja.device.RunStop stop) {
        for (Tracer t : tracers) if (t.ordersThreads() && !t.mayContinue(tracee, stop)) return false;
        return true;
    }

    @Override
    public void stalled() {
        for (Tracer t : tracers) if (t.ordersThreads()) t.stalled();
        Tracer.super.stalled();
    }

    @Override
    public void onSyscall(SyscallEvent event, Tracee tracee) {
        admit();
        for (Tracer t : tracers) t.onSyscall(event, tracee);
    }

    @Override
    public void onSignal(SignalEvent event, Tracee tracee) {
        for (Tracer t : tracers) t.onSignal(event, tracee);
    }

    @Override
    public void onSpawn(SpawnEvent event) {
        for (Tracer t : tracers) t.onSpawn(event);
    }

    @Override
    public void onExec(ExecEvent event, Path executable) {
        for (Tracer t : tracers) t.onExec(event, executable);
    }

    @Override
    public void onMapping(MappingEvent event, Path source) {
        for (Tracer t : tracers) t.onMapping(event, source);
    }

    @Override
    public void onContext(ContextEvent event) {
        contexts.put(event.pid(), event);
        admit();
        for (Tracer t : tracers) t.onContext(event);
    }

    @Override
    public void onExit(ExitEvent event) {
        if (event.processExit()) contexts.remove(event.pid());
        for (Tracer t : tracers) t.onExit(event);
    }
}
