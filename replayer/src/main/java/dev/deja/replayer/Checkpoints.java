package dev.deja.replayer;

import dev.deja.device.DeviceException;
import dev.deja.device.ProcessCopies;
import dev.deja.device.ThreadImage;
import dev.deja.device.Tracee;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;

/**
 * Checkpoints of a live replay (rr's fork checkpoints): at a stop parked before a recorded call,
 * the replayed process is copied ({@link ProcessCopies#fork}: the copy is kept stopped at the same
 * call and never runs) and the replayer's own state is copied with it (the journal cursors, the
 * id and descriptor maps, see {@link ReplayTracer.State}). Restoring one kills the running tree,
 * forks a fresh copy of the checkpoint's (so that the checkpoint stays usable) and goes on from
 * it in a new session on the same tracing thread, as if the replay had just reached that call.
 *
 * <p>The replayer-level API for debuggers: a {@link ReplayControl} that asks for checkpoints
 * ({@link ReplayControl#checkpointing()}) gets this object before the replay starts; {@link #take},
 * {@link #delete} and throwing {@link Restore} happen on the tracing thread, inside
 * {@link ReplayControl#beforeEvent}; {@link #list} and {@link #nearestAtOrBefore} from any thread.
 * Only a replay with one live process can be checkpointed (see {@link ProcessCopies#refusal}). The
 * copy is forked from the process's first thread ({@link Tracee#copyProcess}); its other threads (the
 * one at the call among them) are kept as {@link ThreadImage}s, taken where the replay holds them (a
 * thread blocked in a futex wait is interrupted for its registers and sent back in), and re-created in
 * each copy a restore makes. The bytes of writable shared memory, which the copies share with the
 * running replay, are kept and put back by each restore. Every copy is killed when the replay ends.
 */
public final class Checkpoints implements AutoCloseable {
    /**
     * A checkpoint: {@code number} as the user names it, before recorded call {@code seq} of recorded
     * thread {@code tid}; {@code copyPid} the stopped copy; {@code automatic} when the debugger took
     * it on its own; {@code costNs} how long taking it took.
     */
    public record Checkpoint(int number, long seq, int pid, int tid, int copyPid, boolean automatic, long costNs) {
    }

    /** A checkpoint cannot be taken here: {@code getMessage()} says why. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String why) {
            super(why);
        }
    }

    /**
     * Thrown from {@link ReplayControl#beforeEvent} to go back to checkpoint {@code number}: the
     * running session ends (its tree killed) and the replay goes on from the checkpoint's call, where
     * the control is called again.
     */
    public static final class Restore extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int number;

        public Restore(int number) {
            super("restore checkpoint " + number, null, false, false);
            this.number = number;
        }
    }

    /**
     * A checkpoint with what restoring it needs: the replayer's state, the live pid and forking thread it was
     * taken in, that thread's CLONE_CHILD_CLEARTID word, and the images of the process's other threads.
     */
    private record Held(Checkpoint info, ReplayTracer.State state, int livePid, ProcessCopies.Image image,
                        List<ProcessCopies.SharedBytes> shared) {
    }

    private final ReplayTracer tracer;
    private final List<Held> held = new ArrayList<>();
    private int nextNumber = 1;

    Checkpoints(ReplayTracer tracer) {
        this.tracer = tracer;
    }

    /**
     * On the tracing thread, in {@link ReplayControl#beforeEvent}: a checkpoint before {@code parked},
     * the call {@code tracee} is stopped at.
     */
    public Checkpoint take(SyscallEvent parked, Tracee tracee, boolean automatic) throws Refused {
        long started = System.nanoTime();
        int processes = tracer.liveProcessCount();
        if (processes != 1) {
            throw new Refused(processes + " replayed processes are alive: a checkpoint copies one process"
                    + " (checkpoints of process trees are not supported yet)");
        }
        Optional<String> refusal = ProcessCopies.refusal(tracee.pid(), "pid " + parked.pid());
        if (refusal.isPresent()) throw new Refused(refusal.get());
        ProcessCopies.Image image;
        List<ProcessCopies.SharedBytes> shared;
        try {
            shared = ProcessCopies.sharedContents(tracee.pid(), "pid " + parked.pid());
            long kept = sharedBytesKept() + shared.stream().mapToLong(b -> b.bytes().length).sum();
            if (kept > SHARED_KEPT_LIMIT) {
                throw new Refused("the checkpoints would keep " + (kept >> 20) + " MiB of the program's writable shared"
                        + " memory, more than " + (SHARED_KEPT_LIMIT >> 20) + " MiB ('delete checkpoint N' frees some)");
            }
            image = tracee.copyProcess(tracer.cloneNr(), tracer.threadFacts());
        } catch (DeviceException e) {
            throw new Refused(e.getMessage());
        }
        int copy = image.pid();
        ReplayTracer.State state = tracer.state(parked, tracee.tid());
        Checkpoint c = new Checkpoint(nextNumber++, parked.seq(), parked.pid(), parked.tid(), copy, automatic,
                System.nanoTime() - started);
        synchronized (held) {
            held.add(new Held(c, state, tracee.pid(), image, shared));
        }
        return c;
    }

    /**
     * The recorded tid of live thread {@code liveTid} as the replay maps it (a thread a restore re-created
     * included), or null. While the replay is stopped for the debugger (the tracing thread waits for it).
     */
    public Integer recordedTid(int liveTid) {
        return tracer.recordedTidOf(liveTid);
    }

    /** The most bytes of writable shared memory all checkpoints together keep (in deja's heap). */
    static final long SHARED_KEPT_LIMIT = 256L << 20;

    private long sharedBytesKept() {
        synchronized (held) {
            return held.stream().flatMap(h -> h.shared().stream()).mapToLong(b -> b.bytes().length).sum();
        }
    }

    /** Every checkpoint, oldest number first. */
    public List<Checkpoint> list() {
        synchronized (held) {
            return held.stream().map(Held::info).toList();
        }
    }

    /** The latest checkpoint at or before recorded event {@code seq}. */
    public Optional<Checkpoint> nearestAtOrBefore(long seq) {
        Checkpoint best = null;
        for (Checkpoint c : list()) {
            if (c.seq() <= seq && (best == null || c.seq() > best.seq())) best = c;
        }
        return Optional.ofNullable(best);
    }

    public Optional<Checkpoint> get(int number) {
        return list().stream().filter(c -> c.number() == number).findFirst();
    }

    /** What checkpoint {@code c}'s copy holds in memory (shared with the replay until either writes). */
    public static ProcessCopies.Footprint footprint(Checkpoint c) {
        return ProcessCopies.footprint(c.copyPid());
    }

    /** On the tracing thread: deletes checkpoint {@code number} (its copy killed); false when there is none. */
    public boolean delete(int number) {
        Held h;
        synchronized (held) {
            h = held.stream().filter(x -> x.info().number() == number).findFirst().orElse(null);
            if (h == null) return false;
            held.remove(h);
        }
        ProcessCopies.kill(List.of(h.info().copyPid()));
        return true;
    }

    /**
     * On the tracing thread, once the session that {@code r} ended is gone: a fresh copy of the
     * checkpoint's process, primed to enter its call, its other threads re-created, and the replayer's
     * state put back; returns the copy for a session to adopt, with the images of its threads.
     */
    Restored restore(Restore r) {
        Held h;
        synchronized (held) {
            h = held.stream().filter(x -> x.info().number() == r.number).findFirst().orElse(null);
        }
        if (h == null) throw new ReplayTracer.Stop(new ReplayException("no checkpoint " + r.number + " to go back to"));
        ProcessCopies.Copy copy;
        List<ThreadImage> threads = h.image().threads();
        try {
            copy = ProcessCopies.fork(h.info().copyPid(), tracer.cloneNr(), h.image());
            try {
                ProcessCopies.putBack(copy.pid(), h.shared());
            } catch (DeviceException e) {
                List<Integer> tasks = new ArrayList<>(copy.tids().values());
                tasks.add(copy.pid());
                ProcessCopies.kill(tasks);
                throw e;
            }
        } catch (DeviceException e) {
            throw new ReplayTracer.Stop(new ReplayException("cannot restore checkpoint " + r.number + ": " + e.getMessage(), e));
        }
        // The copy's first thread is the leader's copy: its tid is the copy's pid, as the leader's was the process's.
        Map<Integer, Integer> tids = new HashMap<>(copy.tids());
        tids.put(h.livePid(), copy.pid());
        Set<Integer> issuedAgain = new HashSet<>();
        if (h.image().leaderInCall()) issuedAgain.add(copy.pid());
        for (ThreadImage t : threads) {
            if (t.stop() == ThreadImage.Stop.IN_CALL) issuedAgain.add(copy.tids().get(t.tid()));
        }
        tracer.restore(h.state(), h.livePid(), copy.pid(), tids, issuedAgain);
        return new Restored(copy, h.image().leaderHeld(), threads);
    }

    /** A checkpoint's fresh copy, for a session to adopt: the process and the images its threads were re-created from. */
    record Restored(ProcessCopies.Copy copy, ThreadImage leaderHeld, List<ThreadImage> threads) {
    }

    /** On the tracing thread: every copy is killed and reaped. */
    @Override
    public void close() {
        List<Integer> copies;
        synchronized (held) {
            copies = held.stream().map(h -> h.info().copyPid()).toList();
            held.clear();
        }
        ProcessCopies.kill(copies);
    }
}
