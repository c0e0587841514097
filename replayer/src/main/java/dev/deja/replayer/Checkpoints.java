package dev.deja.replayer;

import dev.deja.device.DeviceException;
import dev.deja.device.ProcessCopies;
import dev.deja.device.ThreadImage;
import dev.deja.device.TraceSession;
import dev.deja.device.Tracee;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.stream.Stream;

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
 * Every live process of the replayed tree is copied (see {@link ProcessCopies#refusal} for what
 * refuses one). Each copy is forked from its process's first thread ({@link Tracee#copyTree}); its
 * other threads (the one at the call among them) are kept as {@link ThreadImage}s, taken where the
 * replay holds them (a thread blocked in a futex wait or wait4 is interrupted for its registers and
 * sent back in), and re-created in each copy a restore makes. A copy is not its original parent's
 * child (forks for checkpoints are CLONE_PARENT): a restored parent's real wait for a child of the
 * checkpoint finds none, and the replay gives it the recorded answer, as it does for every wait, once
 * the recorded order has that child's end before it. The bytes of writable shared memory, which the
 * copies share with the running replay, are kept and put back by each restore. Every copy is killed
 * when the replay ends.
 */
public final class Checkpoints implements AutoCloseable {
    /**
     * A checkpoint: {@code number} as the user names it, before recorded call {@code seq} of recorded
     * thread {@code tid}; {@code copyPids} the stopped copies, of that thread's process first, then of the
     * other processes alive then; {@code automatic} when the debugger took it on its own; {@code costNs}
     * how long taking it took.
     */
    public record Checkpoint(int number, long seq, int pid, int tid, List<Integer> copyPids, boolean automatic,
                             long costNs) {
        public Checkpoint {
            copyPids = List.copyOf(copyPids);
        }
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
     * A checkpoint with what restoring it needs: the replayer's state, the copy of each process, and the live
     * pid of the program's first process then.
     */
    private record Held(Checkpoint info, ReplayTracer.State state, List<Copied> processes, int rootPid) {
    }

    /**
     * One process of a checkpoint: its live pid then, its copy's image (the copy's pid, its threads' images), and
     * the bytes of its writable shared memory.
     */
    private record Copied(int livePid, ProcessCopies.Image image, List<ProcessCopies.SharedBytes> shared) {
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
        List<Integer> pids = tracer.livePids();
        if (!pids.contains(tracee.pid())) pids = java.util.stream.Stream.concat(Stream.of(tracee.pid()), pids.stream()).toList();
        int root = tracer.rootLivePid();
        if (!pids.contains(root)) {
            throw new Refused("the program's first process has ended: a copy of the others could not end the replay"
                    + " with its status");
        }
        Map<Integer, List<ProcessCopies.SharedBytes>> shared = new HashMap<>();
        Map<Integer, ProcessCopies.Image> images;
        try {
            long kept = sharedBytesKept();
            for (int pid : pids) {
                Optional<String> refusal = ProcessCopies.refusal(pid, "pid " + pid, tracer.restorableSignals(pid));
                if (refusal.isPresent()) throw new Refused(inRecordedIds(refusal.get()));
                List<ProcessCopies.SharedBytes> bytes = ProcessCopies.sharedContents(pid, "pid " + pid);
                kept += bytes.stream().mapToLong(b -> b.bytes().length).sum();
                shared.put(pid, bytes);
            }
            if (kept > SHARED_KEPT_LIMIT) {
                throw new Refused("the checkpoints would keep " + (kept >> 20) + " MiB of the program's writable shared"
                        + " memory, more than " + (SHARED_KEPT_LIMIT >> 20) + " MiB ('delete checkpoint N' frees some)");
            }
            images = tracee.copyTree(pids, tracer.cloneNr(), tracer.threadFacts());
        } catch (DeviceException e) {
            throw new Refused(inRecordedIds(e.getMessage()));
        }
        List<Copied> copied = new ArrayList<>();
        images.forEach((pid, image) -> copied.add(new Copied(pid, image, shared.get(pid))));
        ReplayTracer.State state = tracer.state(parked, tracee.tid());
        Checkpoint c = new Checkpoint(nextNumber++, parked.seq(), parked.pid(), parked.tid(),
                copied.stream().map(x -> x.image().pid()).toList(), automatic, System.nanoTime() - started);
        synchronized (held) {
            held.add(new Held(c, state, copied, root));
        }
        return c;
    }

    private static final java.util.regex.Pattern LIVE_ID = java.util.regex.Pattern.compile("\\b(pid|tid|thread) (\\d+)");

    /**
     * A device's refusal, which names live processes and threads, with the recorded ids the user sees
     * everywhere else (a first thread's tid is its pid, recorded and live).
     */
    private String inRecordedIds(String message) {
        return LIVE_ID.matcher(message).replaceAll(m -> {
            Integer recorded = tracer.recordedTidOf(Integer.parseInt(m.group(2)));
            return m.group(1) + " " + (recorded == null ? m.group(2) : recorded);
        });
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
            return held.stream().flatMap(h -> h.processes().stream()).flatMap(p -> p.shared().stream())
                    .mapToLong(b -> b.bytes().length).sum();
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

    /** What checkpoint {@code c}'s copies hold in memory (shared with the replay until either writes). */
    public static ProcessCopies.Footprint footprint(Checkpoint c) {
        long rss = 0;
        long pss = 0;
        for (int pid : c.copyPids()) {
            ProcessCopies.Footprint f = ProcessCopies.footprint(pid);
            if (f.rssBytes() < 0 || f.pssBytes() < 0) return f;
            rss += f.rssBytes();
            pss += f.pssBytes();
        }
        return new ProcessCopies.Footprint(rss, pss);
    }

    /** On the tracing thread: deletes checkpoint {@code number} (its copy killed); false when there is none. */
    public boolean delete(int number) {
        Held h;
        synchronized (held) {
            h = held.stream().filter(x -> x.info().number() == number).findFirst().orElse(null);
            if (h == null) return false;
            held.remove(h);
        }
        ProcessCopies.kill(h.info().copyPids());
        return true;
    }

    /**
     * On the tracing thread, once the session that {@code r} ended is gone: a fresh copy of each of the
     * checkpoint's processes, primed to enter its call, its other threads re-created, and the replayer's
     * state put back; returns the copies for a session to adopt, with the images of their threads.
     */
    Restored restore(Restore r) {
        Held h;
        synchronized (held) {
            h = held.stream().filter(x -> x.info().number() == r.number).findFirst().orElse(null);
        }
        if (h == null) throw new ReplayTracer.Stop(new ReplayException("no checkpoint " + r.number + " to go back to"));
        List<TraceSession.Adoption> made = new ArrayList<>();
        Map<Integer, Integer> pids = new HashMap<>();
        // A process's first thread is its copy's first: its tid is the copy's pid, as the leader's was the process's.
        Map<Integer, Integer> tids = new HashMap<>();
        Set<Integer> issuedAgain = new HashSet<>();
        try {
            for (Copied p : h.processes()) {
                ProcessCopies.Copy copy = ProcessCopies.fork(p.image().pid(), tracer.cloneNr(), p.image());
                made.add(new TraceSession.Adoption(copy, p.image().leaderHeld(), p.image().threads()));
                ProcessCopies.putBack(copy.pid(), p.shared());
                pids.put(p.livePid(), copy.pid());
                tids.putAll(copy.tids());
                tids.put(p.livePid(), copy.pid());
                if (p.image().leaderInCall()) issuedAgain.add(copy.pid());
                for (ThreadImage t : p.image().threads()) {
                    if (t.stop() == ThreadImage.Stop.IN_CALL) issuedAgain.add(copy.tids().get(t.tid()));
                }
            }
        } catch (DeviceException e) {
            List<Integer> tasks = new ArrayList<>();
            for (TraceSession.Adoption a : made) {
                tasks.addAll(a.copy().tids().values());
                tasks.add(a.copy().pid());
            }
            ProcessCopies.kill(tasks);
            throw new ReplayTracer.Stop(new ReplayException("cannot restore checkpoint " + r.number + ": " + e.getMessage(), e));
        }
        tracer.restore(h.state(), pids, tids, issuedAgain);
        Map<Integer, Integer> tidToPid = new HashMap<>();
        for (TraceSession.Adoption a : made) {
            tidToPid.put(a.copy().pid(), a.copy().pid());
            a.copy().tids().values().forEach(t -> tidToPid.put(t, a.copy().pid()));
        }
        tracer.resendInjected(tidToPid);
        return new Restored(made, pids.get(h.rootPid()));
    }

    /** A checkpoint's fresh copies, for a session to adopt, and which is the program's first process. */
    record Restored(List<TraceSession.Adoption> processes, int rootPid) {
    }

    /** On the tracing thread: every copy is killed and reaped. */
    @Override
    public void close() {
        List<Integer> copies;
        synchronized (held) {
            copies = held.stream().flatMap(h -> h.info().copyPids().stream()).toList();
            held.clear();
        }
        ProcessCopies.kill(copies);
    }
}
