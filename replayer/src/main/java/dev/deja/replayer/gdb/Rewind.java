package dev.deja.replayer.gdb;

import dev.deja.device.DebugAgent;
import dev.deja.device.DeviceException;
import dev.deja.device.Tracee;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.replayer.Checkpoints;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.zip.CRC32C;

/**
 * Reverse execution for the gdb server ({@code bs}, {@code bc}) and its monitor checkpoints, on the
 * replayer's {@link Checkpoints}. A live process cannot run backwards and deja has no instruction
 * counter, so every move back is a re-run forward from a checkpoint (a stopped fork taken before a
 * recorded call) to a place named so that the same run finds it again:
 *
 * <ul>
 *   <li>{@link Entry}: parked before recorded call {@code seq};</li>
 *   <li>{@link Visit}: after recorded call {@code seq} of recorded thread {@code tid}, the thread's
 *   {@code n}-th arrival at {@code pc} (an int3 deja plants there counts them; n = 0: the call's
 *   return), then {@code steps} single steps of it;</li>
 *   <li>{@link Here}: after call {@code seq}, the thread at {@code pc} with exactly these registers and
 *   stack bytes (a {@link Fingerprint}): where gdb stopped, before deja knows its {@link Visit}.</li>
 * </ul>
 *
 * A replay between two recorded calls of a thread runs the same instructions every time (the replay
 * lets one thread run user code at a time, in the recorded order), so a count of arrivals and steps
 * from a call names one instruction. A move back is a few such runs ("passes"): {@code bs} finds how
 * many arrivals at the stop's {@code pc} lead to it, then the steps from the arrival before, and goes
 * to one step less; {@code bc} counts gdb's breakpoint hits between a checkpoint and the stop and goes
 * to the last one, checkpoint by checkpoint backwards. Each pass is a {@link Checkpoints.Restore}
 * thrown from the server's hooks; the hooks then hand every stop here ({@link #atCall},
 * {@link #atStop}) until the pass arrives.
 *
 * <p>The tracing thread's object: every method runs there.
 */
final class Rewind {
    /** What the server does with a stop while a pass runs. */
    sealed interface Verdict {
    }

    /** The replay goes on ({@link DebugAgent.Resume#STEP}: one instruction, or to the return of the call at an entry). */
    record Go(DebugAgent.Resume how) implements Verdict {
    }

    /**
     * The pass arrived: gdb gets a stop here, with {@code stopInfo} in its reply ({@code swbreak:;},
     * {@code replaylog:begin;}, or ""); {@code monitorText} non-null when a monitor command moved the
     * program (the server answers that command, no stop reply); {@code note} a line for gdb's console.
     */
    record Arrive(String stopInfo, String monitorText, String note) implements Verdict {
    }

    /** A place in the replay that a run from a checkpoint finds again (see the class comment). */
    sealed interface Place {
        long seq();
    }

    record Entry(long seq) implements Place {
    }

    record Visit(long seq, int tid, long pc, int n, int steps) implements Place {
    }

    record Here(long seq, int tid, Fingerprint fingerprint) implements Place {
    }

    /**
     * A stopped thread's state, to tell one arrival at an address from another: its general registers
     * (all but {@code orig_rax}, which differs between a breakpoint's and a syscall's stop at the same
     * place) and a hash of the stack bytes from {@code rsp} on (a loop whose counter lives in memory).
     */
    record Fingerprint(long pc, long[] registers, long stackHash) {
        /** user_regs_struct words compared: r15..rdi, rip, eflags, rsp. */
        static final int[] WORDS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 18, 19};
        static final int STACK_BYTES = 2048;
        static final int RIP = 16;
        static final int RSP = 19;

        Fingerprint {
            registers = registers.clone();
        }

        static Fingerprint of(Tracee t) {
            long[] regs = t.registers();
            long[] kept = new long[WORDS.length];
            for (int i = 0; i < WORDS.length; i++) kept[i] = regs[WORDS[i]];
            byte[] stack = new byte[STACK_BYTES];
            int n = Math.max(0, t.memory().read(regs[RSP], stack, 0, STACK_BYTES));
            return new Fingerprint(regs[RIP], kept, hash(stack, n));
        }

        static long hash(byte[] bytes, int length) {
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, length);
            return crc.getValue() << 32 | length;
        }

        boolean sameAs(Fingerprint other) {
            return distance(other) == 0;
        }

        /**
         * How many registers (and the stack, as one) differ: 0 for the same state. A run from a checkpoint
         * may differ from the first in what no syscall brought in ({@code rdtsc}: the dynamic loader times
         * itself); the closest arrival is then taken.
         */
        int distance(Fingerprint other) {
            if (pc != other.pc) return Integer.MAX_VALUE;
            int d = stackHash == other.stackHash ? 0 : 1;
            for (int i = 0; i < registers.length; i++) if (registers[i] != other.registers[i]) d++;
            return d;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Fingerprint f && sameAs(f);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(pc) * 31 + Long.hashCode(stackHash);
        }

        @Override
        public String toString() {
            return "Fingerprint[pc=0x" + Long.toHexString(pc) + ", stack=" + Long.toHexString(stackHash) + "]";
        }
    }

    /** A checkpoint as gdb's {@code monitor checkpoint} made it: a place, and its pc for {@code info checkpoints}. */
    record Mark(int number, Place place, long pc) {
    }

    /** The passes: runs from a checkpoint, each arriving somewhere or measuring something for the next. */
    private sealed interface Pass {
    }

    /** Go to {@code place}, and stop there for gdb with {@code stopInfo}. */
    private record Reach(Place place, String stopInfo) implements Pass {
    }

    /** Count the arrivals at a {@link Here}'s pc up to it: its {@link Visit}; then {@code then} (or stop there: null). */
    private record Locate(Here here, Op then) implements Pass {
    }

    /** From {@code from} (steps 0), single-step thread {@code from.tid} until it is at {@code untilPc}: how many steps. */
    private record CountSteps(Visit from, long untilPc) implements Pass {
    }

    /** From call {@code from}'s return, single-step the thread until it enters call {@code call}: how many steps. */
    private record StepsToCall(Visit from, long call) implements Pass {
    }

    /** From checkpoint {@code window}, count gdb's breakpoint hits until {@code end}. */
    private record CountHits(Checkpoints.Checkpoint window, Place end) implements Pass {
    }

    /** From checkpoint {@code window}, stop at gdb's {@code n}-th breakpoint hit. */
    private record ReachHit(Checkpoints.Checkpoint window, int n) implements Pass {
    }

    /** From checkpoint {@code window}, count the arrivals of the store {@code hit} (int3 at its pc) up to the {@code n}-th hit: its arrival. */
    private record CountArrivals(Checkpoints.Checkpoint window, int n, StoreHit hit) implements Pass {
    }

    /** From checkpoint {@code window}, stop at the {@code m}-th arrival at store {@code hit}: just before it ran. */
    private record ReachArrival(Checkpoints.Checkpoint window, StoreHit hit, int m) implements Pass {
    }

    /** A hit going back stops at: one of gdb's breakpoints, a store into a watch, a replayed call writing into one. */
    private sealed interface Hit {
    }

    private record BreakHit() implements Hit {
    }

    /** Thread {@code tid}'s access at {@code pc} hit a watch ({@code watch}: the stop reply's field naming it, {@code watch:ADDR;}). */
    private record StoreHit(int tid, long pc, String watch) implements Hit {
    }

    /** Replaying call {@code seq} changed a watch ({@code watch}: as in {@link StoreHit}). */
    private record CallHit(long seq, String watch) implements Hit {
    }

    /** gdb's {@code catch syscall} stops at call {@code seq} of thread {@code tid}: at its entry, or once it returned. */
    private record SyscallHit(long seq, int tid, int nr, boolean entry) implements Hit {
        String stopInfo() {
            return (entry ? "syscall_entry:" : "syscall_return:") + Integer.toHexString(nr) + ";";
        }
    }

    /**
     * gdb's write watchpoints as going back needs them. deja's page protections live in one process: a
     * copy must not hold them (a restored run would keep read-only pages nobody handles), so they come
     * off for every copy taken and go on in a restored run when it counts watch hits or arrives.
     */
    interface Watching {
        boolean any();

        /** Takes deja's protections off {@code t}'s process; whether they were on there. */
        boolean lift(Tracee t);

        /** Puts deja's protections on {@code t}'s process (nothing when they are on there). */
        void protect(Tracee t);

        /** The watches take the bytes {@code t}'s process holds now as last seen. */
        void rebase(Tracee t);

        /** After a store or a call: the stop info ({@code watch:ADDR;}) of the first watch whose bytes changed (now last seen), or null. */
        String changed(Tracee t);

        /** After an access into a watched page: the stop info of the first watch it hit (changed, or read), or null. */
        String accessed(DebugAgent.Stored s, Tracee t);

        /** Whether replaying {@code recorded} (its thread {@code t} at the entry) writes watched bytes. */
        boolean written(SyscallEvent recorded, Tracee t);
    }

    /** What the passes of one request are for. */
    enum Op {
        REVERSE_STEP, REVERSE_CONTINUE, RESTART
    }

    /** Single steps one pass may take before deja gives up (a loop with no call between the stop and its anchor). */
    static final int MAX_STEPS = 2_000_000;
    /** Forward running between two automatic checkpoints, and how many are kept. */
    static final long AUTO_INTERVAL_NS = 200_000_000L;
    static final int MAX_AUTOMATIC = 32;

    private final Set<Long> gdbBreakpoints;
    private final Watching watching;
    /** gdb's {@code catch syscall}: the recorded calls it stops at (entry and return). */
    private final Predicate<SyscallEvent> catching;
    private final RecordedThreads names;
    private Checkpoints checkpoints;
    /** Per recorded thread: every recorded call of it the replay reached (going back finds the one before). */
    private final Map<Integer, TreeSet<Long>> calls = new HashMap<>();
    /** Per recorded thread: its last call in the current run. */
    private final Map<Integer, Long> anchors = new HashMap<>();
    /** The last hook was a call's entry (the stop gdb has is there), and which. */
    private long entrySeq = -1;
    /** The exact place of the stop gdb has, when a pass arrived there (null: not known, a fingerprint finds it). */
    private Place exact;

    /** The running pass (null: none), its request, and where it stands. */
    private Pass pass;
    private Op op;
    private Place origin;
    private boolean fresh;
    private boolean anchorReached;
    private boolean stepping;
    private int visits;
    private int steps;
    private int hits;
    /** The hits of a counting pass in order; a replayed call writing a watch, its return due (-1: none), and its thread. */
    private final List<Hit> hitLog = new ArrayList<>();
    private long callHitSeq = -1;
    private int callHitTid;
    /** A caught call whose return stop is due while counting (-1: none): its thread and number. */
    private long returnHitSeq = -1;
    private int returnHitTid;
    private int returnHitNr;
    private final Set<Long> planted = new HashSet<>();
    private final Set<Long> unplanted = new HashSet<>();
    /**
     * The pcs of the last stepping pass that started at a call's return ({@code tracePcs[i]}: after i steps),
     * kept while the pass runs ({@link #recording}) and after: a place on it is then reached by breakpoint
     * arrivals at its pc (fast) instead of single steps; {@code exactIndex} is {@link #exact}'s index on it.
     */
    private boolean recording;
    private long[] pcs = new long[1024];
    private int pcCount;
    private long traceSeq = -1;
    private int traceTid;
    private long[] tracePcs = new long[0];
    private int exactIndex = -1;
    private int pendingIndex = -1;
    private int nextIndex = -1;
    /** No exact arrival yet: the closest one so far (its distance, its visit or the hits before it; 0: none). */
    private int closest;
    private int closestAt;
    private long temporary;

    /** Forward running since the last automatic checkpoint (time gdb holds a stop does not count). */
    private long ranNs;
    private long resumedAt = System.nanoTime();
    private final List<Mark> marks = new ArrayList<>();
    private int nextMark = 1;
    /** The program's pid and its threads' ids as gdb first saw them (a restored copy has other live ids). */
    private int firstPid;
    private final Map<Integer, Integer> firstTids = new HashMap<>();

    Rewind(Set<Long> gdbBreakpoints, Watching watching, RecordedThreads names, Predicate<SyscallEvent> catching) {
        this.gdbBreakpoints = gdbBreakpoints;
        this.watching = watching;
        this.names = names;
        this.catching = catching;
    }

    void checkpoints(Checkpoints c) {
        this.checkpoints = c;
    }

    boolean available() {
        return checkpoints != null;
    }

    boolean seeking() {
        return pass != null;
    }

    // ---------------------------------------------------------------- what every hook tells

    /** Every recorded call the server sees (seeking or not). */
    void observeCall(SyscallEvent recorded) {
        calls.computeIfAbsent(recorded.tid(), k -> new TreeSet<>()).add(recorded.seq());
        anchors.put(recorded.tid(), recorded.seq());
        entrySeq = recorded.seq();
    }

    /** Every stop between calls the server sees. */
    void observeStop() {
        entrySeq = -1;
    }

    /** gdb let the program go forward: the place of the next stop is not known. */
    void resumedForward() {
        exact = null;
        exactIndex = -1;
        resumedAt = System.nanoTime();
    }

    /** gdb has a stop: the time it holds it is not forward running. */
    void served() {
        ranNs += System.nanoTime() - resumedAt;
        resumedAt = System.nanoTime();
    }

    // ---------------------------------------------------------------- stable ids for gdb

    /** The pid gdb knows the program by: its first live one (a restored copy runs under another). */
    int presentedPid(int livePid, int programPid) {
        if (firstPid == 0 && programPid != 0) firstPid = programPid;
        return livePid == programPid && firstPid != 0 ? firstPid : livePid;
    }

    /** The tid gdb knows a thread by: the first live tid of its recorded thread. */
    int presentedTid(int liveTid, int programPid) {
        Integer recorded = names.recordedTid(liveTid);
        if (recorded == null) return liveTid == programPid ? presentedPid(liveTid, programPid) : liveTid;
        return firstTids.computeIfAbsent(recorded, r -> liveTid == programPid ? presentedPid(liveTid, programPid) : liveTid);
    }

    // ---------------------------------------------------------------- automatic checkpoints

    /**
     * Running forward, before {@code recorded}: a checkpoint when none was taken yet, or once
     * {@link #AUTO_INTERVAL_NS} of forward running has passed; at most {@link #MAX_AUTOMATIC} kept
     * (the closest pair thinned, the first kept: it is the start of gdb's history).
     */
    void maybeCheckpoint(SyscallEvent recorded, Tracee t) {
        if (checkpoints == null) return;
        long now = System.nanoTime();
        // none yet at or before this call (the shell's may all be later, after a goto back): one now
        boolean none = checkpoints.nearestAtOrBefore(recorded.seq()).isEmpty();
        if (!none && ranNs + (now - resumedAt) < AUTO_INTERVAL_NS) return;
        ranNs = 0;
        resumedAt = now;
        if (checkpoints.nearestAtOrBefore(recorded.seq()).map(c -> c.seq() == recorded.seq()).orElse(false)) return;
        take(recorded, t, true, gdbBreakpoints);
        thin();
    }

    private Optional<Checkpoints.Checkpoint> take(SyscallEvent recorded, Tracee t, boolean automatic, Set<Long> inMemory) {
        // The copy must hold the program's own code bytes: a restored session knows nothing of deja's int3s.
        // Nor deja's watch protections: a restored run puts them on itself when it watches.
        List<Long> out = new ArrayList<>();
        for (long a : inMemory) if (t.removeBreakpoint(a)) out.add(a);
        boolean protectionsLifted = watching.lift(t);
        try {
            return Optional.of(checkpoints.take(recorded, t, automatic));
        } catch (Checkpoints.Refused r) {
            return Optional.empty();
        } finally {
            if (protectionsLifted) watching.protect(t);
            for (long a : out) t.insertBreakpoint(a);
        }
    }

    private void thin() {
        while (true) {
            List<Checkpoints.Checkpoint> auto = checkpoints.list().stream().filter(Checkpoints.Checkpoint::automatic)
                    .sorted((a, b) -> Long.compare(a.seq(), b.seq())).toList();
            if (auto.size() <= MAX_AUTOMATIC) return;
            int drop = 0;
            long smallest = Long.MAX_VALUE;
            for (int i = 2; i < auto.size(); i++) {
                long gap = auto.get(i).seq() - auto.get(i - 1).seq();
                if (gap < smallest) {
                    smallest = gap;
                    drop = auto.get(i - 1).number();
                }
            }
            if (drop == 0 || !checkpoints.delete(drop)) return;
        }
    }

    // ---------------------------------------------------------------- starting a move back

    /** Why gdb cannot go back now (an error reply), or null. */
    String refusal() {
        if (checkpoints == null) return "E.deja cannot go back here: this replay takes no checkpoints";
        if (checkpoints.list().isEmpty()) {
            return "E.deja has no checkpoint to go back from (the program's first process was never at a call deja could copy)";
        }
        return null;
    }

    /**
     * gdb asked to go back ({@code op}), the stop it has is thread {@code t}'s: the first pass starts (a
     * {@link Checkpoints.Restore} is thrown), or, when there is nothing before, gdb gets the stop it has
     * with {@code replaylog:begin}.
     */
    Arrive start(Op op, Tracee t) {
        this.op = op;
        Place here = currentPlace(t);
        origin = here;
        if (here == null) return new Arrive("replaylog:begin;", null, null);
        return switch (op) {
            case REVERSE_STEP -> stepBack(here);
            case REVERSE_CONTINUE -> continueBack(here instanceof Visit ? new Here(here.seq(), tidOf(t), Fingerprint.of(t)) : here);
            case RESTART -> throw new IllegalArgumentException("restart goes through restart()");
        };
    }

    /** Where the stop gdb has is, as a place a pass can find; null before the program's first call. */
    private Place currentPlace(Tracee t) {
        if (entrySeq >= 0) return new Entry(entrySeq);
        if (exact != null) return exact;
        int tid = tidOf(t);
        Long anchor = anchors.get(tid);
        if (anchor == null) return null;
        return new Here(anchor, tid, Fingerprint.of(t));
    }

    private int tidOf(Tracee t) {
        Integer recorded = names.recordedTid(t.tid());
        return recorded != null ? recorded : t.tid();
    }

    private Arrive stepBack(Place here) {
        return switch (here) {
            case Entry e -> toCallInstruction(e.seq(), tidAtEntry(e.seq()));
            case Here h -> run(new Locate(h, Op.REVERSE_STEP), h.seq());
            case Visit v -> stepBackFrom(v);
        };
    }

    /** One instruction before a known {@link Visit}. */
    private Arrive stepBackFrom(Visit v) {
        if (exactIndex >= 0 && v.seq() == traceSeq && v.tid() == traceTid) {
            return exactIndex == 0 ? toCallInstruction(v.seq(), v.tid()) : toTraceIndex(exactIndex - 1);
        }
        if (v.steps() > 0) return run(new Reach(new Visit(v.seq(), v.tid(), v.pc(), v.n(), v.steps() - 1), ""), v.seq());
        if (v.n() == 0) return toCallInstruction(v.seq(), v.tid());
        Visit before = v.n() == 1 ? new Visit(v.seq(), v.tid(), 0, 0, 0) : new Visit(v.seq(), v.tid(), v.pc(), v.n() - 1, 0);
        return run(new CountSteps(before, v.pc()), v.seq());
    }

    /** The thread at call {@code seq}'s {@code syscall} instruction, not yet executed: steps from its call before. */
    private Arrive toCallInstruction(long seq, int tid) {
        TreeSet<Long> mine = calls.get(tid);
        Long before = mine == null ? null : mine.lower(seq);
        if (before == null || checkpoints.nearestAtOrBefore(before).isEmpty()) {
            return run(new Reach(origin, "replaylog:begin;"), origin.seq()); // nothing before: back where gdb was
        }
        return run(new StepsToCall(new Visit(before, tid, 0, 0, 0), seq), before);
    }

    private int tidAtEntry(long seq) {
        for (Map.Entry<Integer, TreeSet<Long>> e : calls.entrySet()) if (e.getValue().contains(seq)) return e.getKey();
        return 0;
    }

    private Arrive continueBack(Place end) {
        // The window from the latest checkpoint before the stop (at its entry: strictly before).
        long limit = end instanceof Entry ? end.seq() - 1 : end.seq();
        Optional<Checkpoints.Checkpoint> window = checkpoints.nearestAtOrBefore(limit);
        if (window.isEmpty()) return run(new Reach(end, "replaylog:begin;"), end.seq());
        return run(new CountHits(window.get(), end), window.get().seq());
    }

    /** {@code monitor restart N}: to mark N (a restore is thrown); returns why not when no copy is early enough. */
    String restart(Mark m) {
        return moveTo(m.place(), "checkpoint " + m.number());
    }

    /** {@code monitor goto N}: to the entry of call {@code seq} (a restore is thrown); returns why not when no copy is early enough. */
    String goTo(long seq) {
        return moveTo(new Entry(seq), "event #" + seq);
    }

    /** A monitor command's move to {@code place} (a restore is thrown); returns why not when no copy is early enough. */
    private String moveTo(Place place, String what) {
        op = Op.RESTART;
        origin = place;
        run(place instanceof Here h ? new Locate(h, null) : new Reach(place, ""), place.seq());
        op = null;
        return "deja: cannot go to " + what + ": deja holds no copy of the program from before event #" + place.seq() + "\n";
    }

    /** Starts {@code p} from the latest checkpoint at or before {@code seq}: throws the restore. */
    private Arrive run(Pass p, long seq) {
        Optional<Checkpoints.Checkpoint> at = switch (p) {
            case CountHits c -> Optional.of(c.window());
            case ReachHit r -> Optional.of(r.window());
            case CountArrivals a -> Optional.of(a.window());
            case ReachArrival r -> Optional.of(r.window());
            default -> checkpoints.nearestAtOrBefore(seq);
        };
        if (at.isEmpty()) {
            // Nothing to re-run from (every copy is later): before any move gdb keeps its stop, as at the
            // start of the history; in the middle of a move, the earliest copy is that start.
            nextIndex = -1;
            if (pass == null) return new Arrive("replaylog:begin;", null, null);
            Checkpoints.Checkpoint earliest = checkpoints.list().stream().min((a, b) -> Long.compare(a.seq(), b.seq()))
                    .orElseThrow(() -> new Checkpoints.Restore(-1));
            return run(new Reach(new Entry(earliest.seq()), "replaylog:begin;"), earliest.seq());
        }
        Checkpoints.Checkpoint from = at.get();
        pendingIndex = nextIndex; // the trace index the pass arrives at (only a run to a trace's place has one)
        nextIndex = -1;
        recording = false;
        pcCount = 0;
        pass = p;
        fresh = true;
        anchorReached = false;
        stepping = false;
        visits = 0;
        steps = 0;
        hits = 0;
        hitLog.clear();
        callHitSeq = -1;
        returnHitSeq = -1;
        temporary = 0;
        closest = Integer.MAX_VALUE;
        closestAt = -1;
        planted.clear();
        unplanted.clear();
        exact = null;
        throw new Checkpoints.Restore(from.number());
    }

    // ---------------------------------------------------------------- a pass under way

    /** Before recorded call {@code recorded} while a pass runs. */
    Verdict atCall(SyscallEvent recorded, Tracee t) {
        if (fresh) {
            fresh = false;
            if (countsHits()) {
                for (long a : gdbBreakpoints) plant(t, a);
                if (watching.any()) {
                    watching.protect(t);
                    watching.rebase(t);
                }
            }
            if (pass instanceof CountHits c && c.end() instanceof Here h) plant(t, h.fingerprint().pc());
            if (pass instanceof CountArrivals a) plant(t, a.hit().pc());
            if (pass instanceof ReachArrival r) plant(t, r.hit().pc());
        }
        Verdict v = passAtCall(recorded, t);
        if (!(v instanceof Go go && go.how() == DebugAgent.Resume.CONTINUE) || !countsHits()) return v;
        boolean toReturn = false;
        if (catching.test(recorded)) {
            // catch syscall: a hit at the entry, and one at the return (seen after the call)
            Verdict h = hit(new SyscallHit(recorded.seq(), recorded.tid(), recorded.nr(), true), t);
            if (!(h instanceof Go)) return h;
            returnHitSeq = recorded.seq();
            returnHitTid = recorded.tid();
            returnHitNr = recorded.nr();
            toReturn = true;
        }
        if (watching.any() && watching.written(recorded, t)) {
            // a replayed call writing into a watch: a hit when the bytes changed, seen at its return
            callHitSeq = recorded.seq();
            callHitTid = recorded.tid();
            toReturn = true;
        }
        return toReturn ? new Go(DebugAgent.Resume.STEP) : v;
    }

    /** Whether the running pass counts hits (gdb's breakpoints, and with watches set, the stores and calls changing them). */
    private boolean countsHits() {
        return pass instanceof CountHits || pass instanceof ReachHit || pass instanceof CountArrivals;
    }

    private Verdict passAtCall(SyscallEvent recorded, Tracee t) {
        for (long a : new ArrayList<>(unplanted)) plant(t, a); // the program may have mapped their code since
        long seq = recorded.seq();
        int tid = recorded.tid();
        return switch (pass) {
            case Reach r when r.place() instanceof Entry e -> seq == e.seq() ? arrive(t, new Entry(seq), r.stopInfo()) : goOn();
            case Reach r when r.place() instanceof Visit v -> fromAnchor(recorded, t, v, v.pc());
            case Reach r -> lost(t, "no such place", new Entry(seq));
            case Locate l -> fromAnchor(recorded, t, new Visit(l.here().seq(), l.here().tid(), l.here().fingerprint().pc(),
                    Integer.MAX_VALUE, 0), l.here().fingerprint().pc());
            case CountSteps c -> fromAnchor(recorded, t, c.from(), c.from().pc());
            case StepsToCall s -> {
                if (anchorReached && tid == s.from().tid() && seq == s.call()) {
                    yield next(t, steps); // the step that ran the syscall instruction brought it here
                }
                yield fromAnchor(recorded, t, s.from(), 0);
            }
            case CountHits c when c.end() instanceof Here h && tid == h.tid() && seq > h.seq() -> closestAt >= 0
                    ? next(t, closestAt) : lost(t, "the thread made its next call first", new Entry(seq));
            case CountHits c -> c.end() instanceof Entry e && seq == e.seq() ? next(t, hits) : goOn();
            case ReachHit r -> goOn();
            case CountArrivals a -> goOn();
            case ReachArrival r -> goOn();
        };
    }

    /** At call {@code recorded}: the pass's anchor call starts its counting; a later call of the thread means it is lost. */
    private Verdict fromAnchor(SyscallEvent recorded, Tracee t, Visit from, long pc) {
        if (recorded.tid() != from.tid()) return goOn();
        if (anchorReached && recorded.seq() > from.seq()) {
            if (pass instanceof Locate l && closestAt > 0) return located(t, l, closestAt);
            return lost(t, "the thread made its next call first", new Entry(recorded.seq()));
        }
        if (recorded.seq() != from.seq()) return goOn();
        anchorReached = true;
        anchorCheckpoint(recorded, t);
        if (from.n() == 0) {
            stepping = true;
            recording = pass instanceof CountSteps || pass instanceof StepsToCall;
            steps = -1; // the stop after the call is step 0
            return new Go(DebugAgent.Resume.STEP);
        }
        temporary = pc;
        plant(t, pc);
        return goOn();
    }

    /** The anchor of a move back gets a checkpoint of its own: the next move back starts there. */
    private void anchorCheckpoint(SyscallEvent recorded, Tracee t) {
        if (checkpoints.nearestAtOrBefore(recorded.seq()).map(c -> c.seq() == recorded.seq()).orElse(false)) return;
        take(recorded, t, true, planted);
        thin();
    }

    /** No exact arrival at a {@link Locate}'s place: the closest visit is taken (another pass goes there). */
    private Verdict located(Tracee t, Locate l, int visit) {
        Visit v = new Visit(l.here().seq(), l.here().tid(), l.here().fingerprint().pc(), visit, 0);
        if (l.then() == null) return run(new Reach(v, ""), v.seq());
        return next(t, visit);
    }

    /** The stepping pass from {@code from}'s return is done: its pcs are kept, and the place {@code index} steps on is next. */
    private Verdict keepTrace(Visit from, int index) {
        traceSeq = from.seq();
        traceTid = from.tid();
        tracePcs = Arrays.copyOf(pcs, pcCount);
        return toTraceIndex(index);
    }

    /**
     * To the place {@code index} steps after the kept trace's call returned: the m-th arrival at its pc since
     * that call (the trace says which m), so that a breakpoint finds it without single steps.
     */
    private Arrive toTraceIndex(int index) {
        long pc = tracePcs[index];
        int m = arrivals(tracePcs, index);
        nextIndex = index;
        return run(new Reach(new Visit(traceSeq, traceTid, pc, m, 0), ""), traceSeq);
    }

    /** How many times the trace is at {@code pcs[index]}'s address up to that step, that step included (1 or more). */
    static int arrivals(long[] pcs, int index) {
        int m = 0;
        for (int i = 0; i <= index; i++) if (pcs[i] == pcs[index]) m++;
        return m;
    }

    /** A stop between calls while a pass runs. */
    Verdict atStop(DebugAgent.Stop why, Tracee t) {
        int tid = tidOf(t);
        return switch (why) {
            case DebugAgent.Breakpoint b -> atBreakpoint(b.address(), t, tid);
            case DebugAgent.Stepped s when callHitSeq >= 0 && tid == callHitTid
                    || returnHitSeq >= 0 && tid == returnHitTid -> returnedWhileCounting(t, tid);
            case DebugAgent.Stepped s -> stepping && anchorReached && tid == anchorTid() ? stepped(t) : goOn();
            case DebugAgent.Stored s -> stored(s, t, tid);
            default -> goOn();
        };
    }

    /**
     * The return of a call a counting pass stops after: one that writes into a watch (a hit when the watched
     * bytes changed), one gdb catches (a hit, unless it is the stop gdb has: going forward, gdb's
     * syscall_return stop was here). A change of watched bytes is what gdb reported there going forward.
     */
    private Verdict returnedWhileCounting(Tracee t, int tid) {
        boolean watchDue = callHitSeq >= 0 && tid == callHitTid;
        boolean caughtDue = returnHitSeq >= 0 && tid == returnHitTid;
        long seq = watchDue ? callHitSeq : returnHitSeq;
        if (watchDue) callHitSeq = -1;
        if (caughtDue) returnHitSeq = -1;
        String watch = watchDue ? watching.changed(t) : null;
        if (watch != null) {
            Verdict v = hit(new CallHit(seq, watch), t);
            return v instanceof Go ? endAfterWatchHit(t, tid) : v;
        }
        if (caughtDue) {
            if (isEnd(t, tid)) return next(t, hits);
            Verdict v = hit(new SyscallHit(seq, tid, returnHitNr, false), t);
            if (!(v instanceof Go)) return v;
        }
        return watchDue ? endAfterWatchHit(t, tid) : goOn();
    }

    /** Counting hits up to a {@link Here}: whether thread {@code t} is exactly there. */
    private boolean isEnd(Tracee t, int tid) {
        return pass instanceof CountHits c && c.end() instanceof Here h && tid == h.tid()
                && t.registers()[Fingerprint.RIP] == h.fingerprint().pc() && Fingerprint.of(t).distance(h.fingerprint()) == 0;
    }

    /**
     * A store into a watched page ran (the thread is after it). Counting hits, a change of watched bytes is
     * one; the stop gdb has may be right after it (a forward watch stop): the store counts, then the end.
     * A stepping pass's step that was such a store is a step.
     */
    private Verdict stored(DebugAgent.Stored s, Tracee t, int tid) {
        if (!countsHits()) return s.stepEnded() && stepping && anchorReached && tid == anchorTid() ? stepped(t) : goOn();
        String watch = watching.accessed(s, t);
        if (watch != null) {
            Verdict v = hit(new StoreHit(tid, s.storePc(), watch), t);
            if (!(v instanceof Go)) return v;
        }
        return endAfterWatchHit(t, tid);
    }

    /** Counting up to a stop gdb had right after a store or a call (a forward watch stop): whether this is it. */
    private Verdict endAfterWatchHit(Tracee t, int tid) {
        if (pass instanceof CountHits c && c.end() instanceof Here h && tid == h.tid()
                && t.registers()[Fingerprint.RIP] == h.fingerprint().pc()) {
            int d = Fingerprint.of(t).distance(h.fingerprint());
            if (d == 0) return next(t, hits);
            if (d < closest) {
                closest = d;
                closestAt = hits;
            }
        }
        return goOn();
    }

    /** A hit while a counting pass runs: counted; the pass may be done with it. */
    private Verdict hit(Hit h, Tracee t) {
        hits++;
        hitLog.add(h);
        return switch (pass) {
            case ReachHit r when hits == r.n() -> arrive(t, null, switch (h) {
                case BreakHit b -> "swbreak:;";
                case SyscallHit s -> s.stopInfo();
                default -> watchInfo(h);
            });
            case CountArrivals a when hits == a.n() -> next(t, visits);
            default -> goOn();
        };
    }

    private static String watchInfo(Hit h) {
        return switch (h) {
            case StoreHit s -> s.watch();
            case CallHit c -> c.watch();
            case BreakHit b -> throw new IllegalArgumentException("a breakpoint hit names no watch");
            case SyscallHit s -> throw new IllegalArgumentException("a catchpoint hit names no watch");
        };
    }

    private int anchorTid() {
        return switch (pass) {
            case Reach r when r.place() instanceof Visit v -> v.tid();
            case Locate l -> l.here().tid();
            case CountSteps c -> c.from().tid();
            case StepsToCall s -> s.from().tid();
            default -> -1;
        };
    }

    private Verdict atBreakpoint(long address, Tracee t, int tid) {
        switch (pass) {
            case CountHits c -> {
                if (c.end() instanceof Here h && tid == h.tid() && address == h.fingerprint().pc()) {
                    int d = Fingerprint.of(t).distance(h.fingerprint());
                    if (d == 0) return next(t, hits);
                    if (d < closest) {
                        closest = d;
                        closestAt = hits;
                    }
                }
                return gdbBreakpoints.contains(address) ? hit(new BreakHit(), t) : goOn();
            }
            case ReachHit r -> {
                return gdbBreakpoints.contains(address) ? hit(new BreakHit(), t) : goOn();
            }
            case CountArrivals a -> {
                if (tid == a.hit().tid() && address == a.hit().pc()) visits++;
                return gdbBreakpoints.contains(address) ? hit(new BreakHit(), t) : goOn();
            }
            case ReachArrival r -> {
                if (tid == r.hit().tid() && address == r.hit().pc() && ++visits == r.m()) return arrive(t, null, watchInfo(r.hit()));
                return goOn();
            }
            default -> {
            }
        }
        if (!anchorReached || tid != anchorTid() || address != temporary || stepping) return goOn();
        visits++;
        return switch (pass) {
            case Reach r when r.place() instanceof Visit v -> {
                if (visits < v.n()) yield goOn();
                unplantTemporary(t);
                if (v.steps() == 0) yield arrive(t, v, r.stopInfo());
                stepping = true;
                steps = 0;
                yield new Go(DebugAgent.Resume.STEP);
            }
            case Locate l -> {
                int d = Fingerprint.of(t).distance(l.here().fingerprint());
                if (d > 0) {
                    if (d < closest) {
                        closest = d;
                        closestAt = visits;
                    }
                    yield goOn();
                }
                if (l.then() == null) {
                    unplantTemporary(t);
                    yield arrive(t, new Visit(l.here().seq(), tid, address, visits, 0), "");
                }
                yield next(t, visits);
            }
            case CountSteps c -> {
                if (visits < c.from().n()) yield goOn();
                unplantTemporary(t);
                stepping = true;
                steps = 0;
                yield new Go(DebugAgent.Resume.STEP);
            }
            default -> goOn();
        };
    }

    private Verdict stepped(Tracee t) {
        steps++;
        if (recording) {
            if (pcCount == pcs.length) pcs = Arrays.copyOf(pcs, pcs.length * 2);
            pcs[pcCount++] = t.registers()[Fingerprint.RIP];
        }
        if (steps > MAX_STEPS) {
            return lost(t, "more than " + MAX_STEPS + " instructions since the thread's last recorded call", null);
        }
        return switch (pass) {
            case Reach r when r.place() instanceof Visit v -> steps >= v.steps() ? arrive(t, v, r.stopInfo()) : new Go(DebugAgent.Resume.STEP);
            case CountSteps c -> t.registers()[Fingerprint.RIP] == c.untilPc() ? next(t, steps) : new Go(DebugAgent.Resume.STEP);
            default -> new Go(DebugAgent.Resume.STEP);
        };
    }

    /** A measuring pass is done with {@code count}: the next pass starts (a restore is thrown), or the request arrives. */
    private Verdict next(Tracee t, int count) {
        Pass done = pass;
        switch (done) {
            case Locate l -> {
                Visit v = new Visit(l.here().seq(), l.here().tid(), l.here().fingerprint().pc(), count, 0);
                origin = v;
                return stepBackFrom(v);
            }
            case CountSteps c -> {
                if (count == 0) return toCallInstruction(c.from().seq(), c.from().tid());
                if (recording) return keepTrace(c.from(), count - 1);
                return run(new Reach(new Visit(c.from().seq(), c.from().tid(), c.from().pc(), c.from().n(), count - 1), ""),
                        c.from().seq());
            }
            case StepsToCall s -> {
                if (recording) return keepTrace(s.from(), count);
                return run(new Reach(new Visit(s.from().seq(), s.from().tid(), 0, 0, Math.max(count, 0)), ""), s.from().seq());
            }
            case CountHits c -> {
                if (count > 0) {
                    // the last hit before the stop: a breakpoint's, or the place just before a store or call into a watch
                    return switch (hitLog.get(count - 1)) {
                        case BreakHit b -> run(new ReachHit(c.window(), count), c.window().seq());
                        case StoreHit s -> run(new CountArrivals(c.window(), count, s), c.window().seq());
                        case CallHit h -> run(new Reach(new Entry(h.seq()), watchInfo(h)), h.seq());
                        case SyscallHit h when h.entry() -> run(new Reach(new Entry(h.seq()), h.stopInfo()), h.seq());
                        case SyscallHit h -> run(new Reach(new Visit(h.seq(), h.tid(), 0, 0, 0), h.stopInfo()), h.seq());
                    };
                }
                Optional<Checkpoints.Checkpoint> earlier = checkpoints.nearestAtOrBefore(c.window().seq() - 1);
                if (earlier.isEmpty()) {
                    return run(new Reach(new Entry(c.window().seq()), "replaylog:begin;"), c.window().seq());
                }
                return run(new CountHits(earlier.get(), new Entry(c.window().seq())), earlier.get().seq());
            }
            case CountArrivals a -> {
                // no int3 could be planted at the store (its code not mapped at the copy): after the store instead
                if (count == 0) return run(new ReachHit(a.window(), a.n()), a.window().seq());
                return run(new ReachArrival(a.window(), a.hit(), count), a.window().seq());
            }
            default -> throw new IllegalStateException("pass " + done + " measures nothing");
        }
    }

    private Arrive arrive(Tracee t, Place at, String stopInfo) {
        Op request = op;
        pass = null;
        op = null;
        stepping = false;
        exact = at;
        exactIndex = pendingIndex;
        pendingIndex = -1;
        // gdb believes its breakpoints inserted (it sent Z0 before bs or bc); deja's own go.
        for (long a : new ArrayList<>(planted)) if (!gdbBreakpoints.contains(a)) t.removeBreakpoint(a);
        planted.clear();
        unplanted.clear();
        for (long a : gdbBreakpoints) {
            try {
                t.insertBreakpoint(a);
            } catch (DeviceException e) {
                // not mapped here: gdb's removal finds nothing to remove
            }
        }
        if (at instanceof Entry) entrySeq = at.seq();
        else entrySeq = -1;
        callHitSeq = -1;
        if (watching.any()) {
            // A step back over a store into a watch (its pass watches nothing: the bytes are still those of the
            // stop it started from) is a watch stop, as going forward: gdb shows the change and keeps the value.
            String undone = request == Op.REVERSE_STEP && stopInfo.isEmpty() ? watching.changed(t) : null;
            if (undone != null) stopInfo = undone;
            // gdb's watches hold in the run it now has, from the bytes there
            watching.protect(t);
            watching.rebase(t);
        }
        String text = request == Op.RESTART ? "deja: at " + describe(at) + "; gdb still holds the old stop's registers and"
                + " memory: `maint flush register-cache` and `maint flush dcache` (docs/gdb.md defines `restart N` doing both)\n" : null;
        return new Arrive(stopInfo, text, null);
    }

    private Verdict lost(Tracee t, String why, Place at) {
        pendingIndex = -1;
        Arrive a = arrive(t, at, "");
        return new Arrive("", a.monitorText(), "deja: going back did not find the place again (" + why
                + "): the program stopped where the search ended\n");
    }

    private Verdict goOn() {
        return new Go(DebugAgent.Resume.CONTINUE);
    }

    /** An int3 at {@code address}; one in a library not mapped yet (a checkpoint before it loaded) waits for a later call. */
    private void plant(Tracee t, long address) {
        if (planted.contains(address)) return;
        try {
            t.insertBreakpoint(address);
            planted.add(address);
            unplanted.remove(address);
        } catch (DeviceException e) {
            unplanted.add(address);
        }
    }

    private void unplantTemporary(Tracee t) {
        if (temporary != 0 && !gdbBreakpoints.contains(temporary)) {
            t.removeBreakpoint(temporary);
            planted.remove(temporary);
        }
        temporary = 0;
    }

    // ---------------------------------------------------------------- monitor commands

    /** The monitor commands for checkpoints; null when {@code command} is none of them. */
    String monitor(String command, Tracee t) {
        String[] w = command.trim().split("\\s+");
        if (w.length == 0) return null;
        String head = w[0];
        if (head.equals("checkpoint") && w.length == 1) return mark(t);
        if (head.equals("checkpoints") || head.equals("info") && w.length > 1 && w[1].startsWith("checkpoint")) return listing();
        if (head.equals("delete") && w.length == 3 && w[1].startsWith("checkpoint")) return deleteMark(w[2]);
        return null;
    }

    private String mark(Tracee t) {
        if (checkpoints == null) return "deja: this replay takes no checkpoints\n";
        if (t == null) return "deja: the program is not stopped: no checkpoint\n";
        Place here = currentPlace(t);
        if (here == null) return "deja: no checkpoint before the program's first recorded call\n";
        long pc = t.registers()[Fingerprint.RIP];
        Mark m = new Mark(nextMark++, here, pc);
        marks.add(m);
        return "Checkpoint " + m.number() + " at " + describe(here) + ", pc 0x" + Long.toHexString(pc)
                + " (`monitor restart " + m.number() + "` comes back here)\n";
    }

    private String listing() {
        StringBuilder s = new StringBuilder();
        if (marks.isEmpty()) s.append("No checkpoints (`monitor checkpoint` makes one).\n");
        for (Mark m : marks) {
            s.append(String.format("%3d  %s, pc 0x%x%n", m.number(), describe(m.place()), m.pc()));
        }
        if (checkpoints != null) {
            List<Checkpoints.Checkpoint> all = checkpoints.list();
            long bytes = 0;
            for (Checkpoints.Checkpoint c : all) bytes += Checkpoints.footprint(c).pssBytes();
            long[] costs = all.stream().mapToLong(Checkpoints.Checkpoint::costNs).sorted().toArray();
            s.append(String.format("deja holds %d process copies to go back from (%s), taking %.1f MiB%s%n", all.size(),
                    all.isEmpty() ? "none" : "events " + all.stream().map(c -> "#" + c.seq()).reduce((a, b) -> a + " " + b).orElse(""),
                    bytes / 1048576.0, costs.length == 0 ? "" : String.format("; %.1f ms to take each (median)",
                            costs[costs.length / 2] / 1e6)));
        }
        return s.toString();
    }

    private String deleteMark(String number) {
        Optional<Mark> m = markNumbered(number);
        if (m.isEmpty()) return "deja: no checkpoint " + number + "\n";
        marks.remove(m.get());
        return "Deleted checkpoint " + number + "\n";
    }

    /** Mark {@code number} (as typed), or empty. */
    Optional<Mark> markNumbered(String number) {
        int n;
        try {
            n = Integer.parseInt(number.trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return marks.stream().filter(m -> m.number() == n).findFirst();
    }

    static String describe(Place p) {
        if (p == null) return "the place the search ended";
        return switch (p) {
            case Entry e -> "event #" + e.seq() + " (at the call's entry)";
            case Visit v -> "event #" + v.seq() + " (after the call" + (v.n() > 0 || v.steps() > 0 ? ", in code" : "") + ")";
            case Here h -> "event #" + h.seq() + " (after the call, in code)";
        };
    }
}
