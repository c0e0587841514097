package dev.deja.cli.debug;

import dev.deja.device.DebugAgent;
import dev.deja.device.DeviceException;
import dev.deja.device.Tracee;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.replayer.Checkpoints;
import dev.deja.replayer.ReplayControl;
import dev.deja.replayer.ReplayException;
import dev.deja.replayer.Replayer;
import dev.deja.replayer.gdb.GdbServer;
import dev.deja.replayer.gdb.RecordedThreads;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * A replay the debugger holds: it runs on its own threads (the replayer's tracing thread), and
 * {@link #beforeEvent} parks the tracing thread at the stop the shell asked for. While parked, the
 * tracing thread serves the shell's requests (registers, memory: ptrace belongs to it) until the
 * shell resumes or abandons the replay. The shell thread only ever waits for {@link Notice}s.
 */
final class LiveReplay implements ReplayControl {

    /** What the shell hears from the replay. */
    sealed interface Notice {
    }

    /**
     * The replay is parked before {@code event}, replayed by live process {@code livePid}, thread
     * {@code liveTid}; or, {@code atExit}, right after it (the call answered, its outputs written).
     */
    record Stopped(SyscallEvent event, int livePid, int liveTid, boolean atExit) implements Notice {
    }

    /**
     * The replay is over: {@code outcome} when the program ran to its end (or diverged), else
     * {@code failure} (deja could not go on), or neither when the shell abandoned it.
     */
    record Ended(Replayer.Outcome outcome, String failure, boolean checkpointsKept) implements Notice {
        Ended(Replayer.Outcome outcome, String failure) {
            this(outcome, failure, false);
        }

        boolean abandoned() {
            return outcome == null && failure == null;
        }
    }

    private sealed interface Request {
    }

    private record Resume(long stopAtSeq) implements Request {
    }

    private record Query<T>(Function<Tracee, T> work, CompletableFuture<T> answer) implements Request {
        void run(Tracee t) {
            try {
                answer.complete(work.apply(t));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        }
    }

    private record Abandon() implements Request {
    }

    /** gdb takes over at the parked event ({@code gdb} in the shell) until it detaches or the run ends. */
    private record ServeGdb(GdbServer server) implements Request {
    }

    /** Go back (or forth) to checkpoint {@code number}, then on to the first stop at or after {@code stopAtSeq}. */
    private record RestoreTo(int number, long stopAtSeq) implements Request {
    }

    /** A checkpoint taken, or why none could be. */
    record Taken(Checkpoints.Checkpoint checkpoint, String refusal) {
    }

    private final Recording recording;
    private final Replayer.Options options;
    private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final BlockingQueue<Notice> notices = new LinkedBlockingQueue<>();
    private volatile long stopAt;
    /** The call whose exit the replay stops at ({@link #finishCall}), or -1. */
    private volatile long stopAfter = -1;
    private volatile boolean interrupted;
    private Thread runner;
    /** Shell side: the replay is parked in the hook and takes requests. */
    private boolean parked;
    /** The gdb server driving the replay, from the shell's {@code gdb} until gdb detaches; null otherwise. */
    private volatile GdbServer gdb;
    /** The recorded tids and thread names, gathered from the replay's start for a gdb server started later. */
    private final RecordedThreads recordedThreads = new RecordedThreads(SyscallTable.of(Arch.current()).number("prctl").orElse(-1));
    /** Shell side: the program ended, and the replay waits with its checkpoints for a restore or the end. */
    private boolean endedKept;
    /** The running replay's checkpoints (null before it starts and once it ended). */
    private volatile Checkpoints checkpoints;
    private final CheckpointPolicy policy;
    /** Tracing thread: the call the replay is parked at, and since when it runs forward without a stop or checkpoint. */
    private SyscallEvent parkedAt;
    private long runningSince;

    LiveReplay(Recording recording, Replayer.Options options) {
        this(recording, options, CheckpointPolicy.fromEnvironment(System.getenv("DEJA_AUTO_CHECKPOINTS")));
    }

    LiveReplay(Recording recording, Replayer.Options options, CheckpointPolicy policy) {
        this.recording = recording;
        this.options = options;
        this.policy = policy;
    }

    /** Starts a fresh replay and runs it to the first stop at or after event {@code seq}. */
    Notice start(long seq) {
        if (runner != null) throw new IllegalStateException("the replay is already running");
        stopAt = seq;
        interrupted = false;
        runner = Thread.ofPlatform().name("deja-debug-replay").start(this::runReplay);
        return await();
    }

    private void runReplay() {
        // Ctrl-C or SIGTERM to deja: the replay's own hook kills the tree and waits for the tracing thread,
        // which may be parked here waiting for the shell; it leaves as on 'quit' (the copies killed).
        Thread abandonOnShutdown = Thread.ofPlatform().name("deja-debug-abandon").unstarted(() -> requests.add(new Abandon()));
        try {
            Runtime.getRuntime().addShutdownHook(abandonOnShutdown);
        } catch (IllegalStateException shuttingDown) {
            requests.add(new Abandon());
        }
        Notice end;
        try {
            end = new Ended(Replayer.replay(recording, options, this), null);
        } catch (ReplayControl.Abandon a) {
            end = new Ended(null, null);
        } catch (ReplayException | DeviceException e) {
            end = new Ended(null, e.getMessage());
        } catch (RuntimeException e) {
            end = new Ended(null, "internal error: " + e);
        }
        GdbServer g = gdb;
        gdb = null;
        // The run ended under gdb: it hears how, and looks on until it detaches.
        if (g != null && !g.detached() && end instanceof Ended e && !e.abandoned()) g.finished(e.outcome(), e.failure());
        checkpoints = null;
        try {
            Runtime.getRuntime().removeShutdownHook(abandonOnShutdown);
        } catch (IllegalStateException shuttingDown) {
            // the hook has run or runs: its Abandon is meant for this replay, now over
        }
        notices.add(end);
    }

    /** Lets the parked replay go on to the first stop at or after event {@code seq}. */
    Notice resume(long seq) {
        return move(new Resume(seq));
    }

    /**
     * Lets the parked replay go back (or forth) to checkpoint {@code number}, then on to the first
     * stop at or after event {@code seq}.
     */
    Notice restore(int number, long seq) {
        if (!parked && !endedKept) throw new IllegalStateException("the replay is not stopped");
        parked = false;
        endedKept = false;
        interrupted = false;
        requests.add(new RestoreTo(number, seq));
        return await();
    }

    /** The running replay's checkpoints, oldest number first (none when it is not running). */
    List<Checkpoints.Checkpoint> checkpoints() {
        Checkpoints c = checkpoints;
        return c == null ? List.of() : c.list();
    }

    /** The latest checkpoint at or before event {@code seq}. */
    Optional<Checkpoints.Checkpoint> checkpointAtOrBefore(long seq) {
        Checkpoints c = checkpoints;
        return c == null ? Optional.empty() : c.nearestAtOrBefore(seq);
    }

    /** A checkpoint where the replay is parked. */
    Taken takeCheckpoint() {
        Checkpoints c = checkpoints;
        if (c == null) return new Taken(null, "the replay is not running");
        return query(t -> {
            if (parkedAt == null) return new Taken(null, "the replay stands after a call's exit; checkpoints are taken at a call's entry ('step' first)");
            try {
                return new Taken(c.take(parkedAt, t, false), null);
            } catch (Checkpoints.Refused r) {
                return new Taken(null, r.getMessage());
            }
        });
    }

    /** Deletes checkpoint {@code number} (its copy killed); false when there is none. */
    boolean deleteCheckpoint(int number) {
        Checkpoints c = checkpoints;
        return c != null && query(t -> c.delete(number));
    }

    /**
     * Lets the replay parked at call {@code seq}'s entry answer it and stops again right after it
     * (the outputs written, the result in rax); the other threads go on as the recording orders them.
     */
    Notice finishCall(long seq) {
        stopAfter = seq;
        Notice n = move(new Resume(Long.MAX_VALUE));
        stopAfter = -1;
        return n;
    }

    /** From any thread (a Ctrl-C handler): the running replay stops at its next event (under gdb: it ends). */
    void interrupt() {
        interrupted = true;
        GdbServer g = gdb;
        if (g != null) g.shutdown();
    }

    /** What a gdb server tells gdb about the recorded program. */
    GdbServer.Program gdbProgram() throws RecordingException {
        return GdbServer.Program.of(recording);
    }

    RecordedThreads recordedThreads() {
        return recordedThreads;
    }

    /**
     * Hands the parked replay to {@code server} (which waits for gdb at the current event); returns when
     * gdb has detached (stopped at the next call the replay reached) or the run is over.
     */
    Notice serveGdb(GdbServer server) {
        return move(new ServeGdb(server));
    }

    /** Hands the parked replay {@code how} it goes on; returns at its next stop or its end. */
    private Notice move(Request how) {
        if (!parked) throw new IllegalStateException("the replay is not stopped");
        parked = false;
        // A Ctrl-C from before this move is spent; one from now on stops the replay.
        interrupted = false;
        requests.add(how);
        return await();
    }

    /** The debugger the device stops the replay for: gdb's, while one is attached. */
    @Override
    public DebugAgent debugAgent() {
        return (why, thread) -> {
            GdbServer g = gdb;
            if (g == null) return DebugAgent.Resume.CONTINUE;
            DebugAgent.Resume how = g.stopped(why, thread);
            if (g.detached()) handBack();
            return how;
        };
    }

    /** gdb detached: the shell stops the replay at its next call. */
    private void handBack() {
        gdb = null;
        stopAt = 0;
    }

    boolean running() {
        return runner != null;
    }

    /** Runs {@code work} on the tracing thread with the parked thread; rethrows its failure. */
    <T> T query(Function<Tracee, T> work) {
        if (!parked && !endedKept) throw new IllegalStateException("the replay is not stopped");
        CompletableFuture<T> answer = new CompletableFuture<>();
        requests.add(new Query<>(work, answer));
        try {
            return answer.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the replay answered", e);
        }
    }

    /** Ends the replay (its processes are killed) and waits for it. */
    void kill() {
        if (runner == null) return;
        if (parked || endedKept) {
            parked = false;
            endedKept = false;
            requests.add(new Abandon());
        } else {
            interrupt();
        }
        Notice n;
        boolean over;
        do {
            n = take();
            // A replay stopped by the interrupt meanwhile, or ended with checkpoints kept, is abandoned there.
            over = n instanceof Ended e && !e.checkpointsKept();
            if (!over) requests.add(new Abandon());
        } while (!over);
        join();
    }

    private Notice await() {
        Notice n = take();
        if (n instanceof Stopped) {
            parked = true;
        } else if (n instanceof Ended e && e.checkpointsKept()) {
            endedKept = true; // the program is over, its checkpoints are not: the tracing thread waits
        } else {
            join();
        }
        return n;
    }

    private void join() {
        boolean wasInterrupted = false;
        while (true) {
            try {
                runner.join();
                break;
            } catch (InterruptedException e) {
                wasInterrupted = true;
            }
        }
        runner = null;
        requests.clear();
        if (wasInterrupted) Thread.currentThread().interrupt();
    }

    private Notice take() {
        boolean wasInterrupted = false;
        try {
            while (true) {
                try {
                    return notices.take();
                } catch (InterruptedException e) {
                    wasInterrupted = true;
                }
            }
        } finally {
            if (wasInterrupted) Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- the tracing thread

    @Override
    public boolean checkpointing() {
        return true;
    }

    @Override
    public void checkpoints(Checkpoints checkpoints) {
        this.checkpoints = checkpoints;
    }

    @Override
    public void beforeEvent(SyscallEvent recorded, Tracee tracee) {
        recordedThreads.observe(recorded, tracee);
        GdbServer g = gdb;
        if (g != null) {
            g.beforeEvent(recorded, tracee);
            if (!g.detached()) return;
            handBack();
        }
        if (recorded.seq() < stopAt && !interrupted) {
            automaticCheckpoint(recorded, tracee);
            return;
        }
        parkedAt = recorded;
        park(new Stopped(recorded, tracee.pid(), tracee.tid(), false), tracee);
    }

    @Override
    public void afterEvent(SyscallEvent recorded, Tracee tracee) {
        // A Ctrl-C while running to a call's exit stops at the next entry, as any move (beforeEvent).
        if (recorded.seq() != stopAfter) return;
        parkedAt = null; // at a call's exit: no checkpoint here (a copy is made at a call's entry)
        park(new Stopped(recorded, tracee.pid(), tracee.tid(), true), tracee);
    }

    private void park(Stopped where, Tracee tracee) {
        notices.add(where);
        while (true) {
            Request r;
            try {
                r = requests.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReplayControl.Abandon("the debugger's replay thread was interrupted");
            }
            switch (r) {
                case Resume go -> {
                    stopAt = go.stopAtSeq();
                    runningSince = System.nanoTime();
                    return;
                }
                case RestoreTo back -> {
                    stopAt = back.stopAtSeq();
                    runningSince = System.nanoTime();
                    throw new Checkpoints.Restore(back.number());
                }
                case Query<?> q -> q.run(tracee);
                case Abandon a -> throw new ReplayControl.Abandon("the debugger ended the replay");
                case ServeGdb s -> {
                    gdb = s.server();
                    s.server().checkpoints(checkpoints); // gdb goes back from the shell's checkpoints too
                    DebugAgent.Resume how = s.server().attachAt(where.event(), tracee);
                    if (s.server().detached()) {
                        // detached at once (or gdb never came): the shell has its stop back, here
                        gdb = null;
                        notices.add(where);
                        continue;
                    }
                    if (how == DebugAgent.Resume.STEP) tracee.stopAfterCall();
                    stopAt = Long.MAX_VALUE;
                    return;
                }
            }
        }
    }

    /** The program ended with checkpoints left: the shell may go back to one, or end the replay. */
    @Override
    public java.util.OptionalInt afterEnd(Replayer.Outcome outcome) {
        notices.add(new Ended(outcome, null, true));
        while (true) {
            Request r;
            try {
                r = requests.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return java.util.OptionalInt.empty();
            }
            switch (r) {
                case RestoreTo back -> {
                    stopAt = back.stopAtSeq();
                    runningSince = System.nanoTime();
                    return java.util.OptionalInt.of(back.number());
                }
                case Query<?> q -> q.run(null); // no thread to look at: only work on the checkpoints comes here
                case ServeGdb s -> notices.add(new Ended(outcome, null, true)); // nothing left to serve: still over
                case Resume go -> {
                    return java.util.OptionalInt.empty();
                }
                case Abandon a -> {
                    return java.util.OptionalInt.empty();
                }
            }
        }
    }

    /** Running forward past {@code recorded}: a checkpoint there when the policy says one is due. */
    private void automaticCheckpoint(SyscallEvent recorded, Tracee tracee) {
        Checkpoints c = checkpoints;
        if (c == null || !policy.enabled()) return;
        long now = System.nanoTime();
        if (runningSince == 0) runningSince = now;
        if (now - runningSince < policy.intervalNs()) return;
        long nearest = c.nearestAtOrBefore(recorded.seq()).map(Checkpoints.Checkpoint::seq).orElse(-1L);
        if (!policy.due(recorded.seq(), now - runningSince, nearest)) return;
        runningSince = now; // taken or refused: the next try is an interval away
        try {
            c.take(recorded, tracee, true);
        } catch (Checkpoints.Refused refused) {
            return; // a program or moment checkpoints do not support: the replay goes on without
        }
        while (true) {
            List<CheckpointPolicy.Mark> marks = c.list().stream().map(k -> new CheckpointPolicy.Mark(k.number(), k.seq(),
                    k.automatic(), Checkpoints.footprint(k).pssBytes())).toList();
            java.util.OptionalInt drop = policy.toDrop(marks);
            if (drop.isEmpty() || !c.delete(drop.getAsInt())) break;
        }
    }
}
