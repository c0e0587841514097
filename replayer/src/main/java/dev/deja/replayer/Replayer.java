package dev.deja.replayer;

import dev.deja.device.DebugAgent;
import dev.deja.device.DeviceException;
import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.TraceRun;
import dev.deja.device.TraceSession;
import dev.deja.device.ffm.CloseFds;
import dev.deja.device.ffm.NativeCallException;
import dev.deja.device.ffm.SignalActions;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Schemas;
import dev.deja.formats.EventReader;
import dev.deja.formats.LaunchSignals;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.ScratchDirs;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code deja replay}: re-runs a recorded program under the trace device with a {@link ReplayTracer}
 * answering its system calls from the recording. The tracing runs on its own platform thread;
 * Ctrl-C or SIGTERM to deja kill the replaying tree.
 */
public final class Replayer {
    private Replayer() {
    }

    /**
     * How to replay.
     *
     * @param out            where the recorded program's stdout is reproduced
     * @param err            where its stderr is reproduced
     * @param closeFds       which descriptors the program does not inherit (all but 0-2 and those deja was given)
     * @param blockedSignals the signal mask the program starts with, when the recording does not say
     * @param ignoredSignals the signals it starts with ignored, when the recording does not say
     * @param markEvents     prefix each reproduced output line with the event that wrote it ("[deja 1042] ")
     */
    public record Options(OutputStream out, OutputStream err, CloseFds closeFds, long blockedSignals,
                          long ignoredSignals, boolean markEvents) {
    }

    /**
     * What a replay did.
     *
     * @param status     the replayed program's exit status (128+N when killed by signal N)
     * @param divergence the first divergence, or null when the replay was faithful
     * @param replayed   how many recorded syscalls were replayed
     * @param warnings   what deja could not reproduce exactly but did not stop for
     * @param cutShort   the recording was interrupted (deja record got Ctrl-C or SIGTERM and killed the
     *                   program): the replay ran to where it ends, and {@code status} is the recorded
     *                   one (137, deja record's SIGKILL), whatever the replayed program's end
     * @param stops      the traced threads' stops the device took, or -1 when not known (a replay a
     *                   divergence ended, or one with a debugger)
     * @param oneStop    how many calls were answered at a single stop (see {@link #ONE_STOP_ENV}), or -1
     * @param ahead      how many steps a process took ahead of the recorded order (see {@link #IN_ORDER_ENV}),
     *                   or -1
     */
    public record Outcome(int status, Divergence divergence, long replayed, List<String> warnings, boolean cutShort,
                          long stops, long oneStop, long ahead, long withoutStop) {
        public Outcome {
            warnings = List.copyOf(warnings);
        }

        public Outcome(int status, Divergence divergence, long replayed, List<String> warnings, boolean cutShort) {
            this(status, divergence, replayed, warnings, cutShort, -1, -1, -1, -1);
        }

        public Outcome(int status, Divergence divergence, long replayed, List<String> warnings) {
            this(status, divergence, replayed, warnings, false);
        }

        /** This outcome with the stop counts of the run that made it. */
        Outcome counted(TraceResult r, long stepsAhead) {
            return new Outcome(status, divergence, replayed, warnings, cutShort, r.stops(), r.answeredAtEntry(), stepsAhead,
                    r.answeredAhead());
        }

        public boolean faithful() {
            return divergence == null;
        }
    }

    /**
     * {@code DEJA_REPLAY_STOPS=2}: a plain replay stops every call at its entry and at its exit, as a
     * replay with a debugger does, instead of answering the calls it skips at one stop (a seccomp
     * stop). A way back should the faster path ever replay a program differently.
     */
    public static final String ONE_STOP_ENV = "DEJA_REPLAY_STOPS";

    /**
     * Set to 1, a plain replay takes every step in recorded order, as a replay with a debugger does,
     * instead of letting processes that share no memory replay their own calls side by side. A way
     * back should the faster path ever replay a program differently.
     */
    public static final String IN_ORDER_ENV = "DEJA_REPLAY_IN_ORDER";

    /**
     * Set to {@code all}, a replay runs the program on every CPU deja may use, as it was recorded, instead of
     * on one CPU with deja's tracing thread ({@link dev.deja.device.Tracer#onOneCpu}): for a replay of
     * processes that compute side by side for long, on a machine where a stop is cheap.
     */
    public static final String CPUS_ENV = "DEJA_REPLAY_CPUS";

    /** Whether a replay runs on one CPU (the default, {@link #CPUS_ENV}=one) or on all ({@code all}). */
    static boolean oneCpuWanted(String setting) {
        if (setting == null || setting.isEmpty() || setting.equals("one")) return true;
        if (setting.equals("all")) return false;
        throw new IllegalArgumentException(CPUS_ENV + "=" + setting + ": expected one (the default) or all");
    }

    /** Whether a plain replay answers skipped calls at one stop (the default), or stops twice ({@link #ONE_STOP_ENV}=2). */
    static boolean oneStopWanted(String setting) {
        if (setting == null || setting.isEmpty() || setting.equals("1")) return true;
        if (setting.equals("2")) return false;
        throw new IllegalArgumentException(ONE_STOP_ENV + "=" + setting + ": expected 1 or 2 (stops per replayed call)");
    }

    /** Whether a plain replay lets processes take steps ahead of the recorded order (the default), or not ({@link #IN_ORDER_ENV}=1). */
    static boolean inParallelWanted(String setting) {
        if (setting == null || setting.isEmpty() || setting.equals("0")) return true;
        if (setting.equals("1")) return false;
        throw new IllegalArgumentException(IN_ORDER_ENV + "=" + setting + ": expected 1 (every step in the recorded order) or 0");
    }

    /** A replay's directory in the temp directory: {@code deja-replay-<pid>-<start ms>-<random>}. */
    static final String SCRATCH_PREFIX = "deja-replay-";
    private static final java.util.regex.Pattern SCRATCH_NAMES = ScratchDirs.names(SCRATCH_PREFIX);

    public static Outcome replay(Recording rec, Options options) throws ReplayException {
        return replay(rec, options, ReplayControl.NONE);
    }

    /**
     * As {@link #replay(Recording, Options)}, with a debugger's {@code control} called before each
     * recorded call; a {@link ReplayControl.Abandon} it throws ends the replay and is rethrown.
     */
    public static Outcome replay(Recording rec, Options options, ReplayControl control) throws ReplayException {
        Arch arch = Arch.current();
        String recorded = rec.header().arch();
        if (!recorded.equals(arch.unameName())) {
            throw new ReplayException("the recording was made on " + recorded + "; this machine is " + arch.unameName()
                    + ": a recording replays only on the architecture it was made on");
        }
        Path scratch;
        try {
            // Named after this process, so that the next replay deletes it if a SIGKILL leaves it behind.
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
            ScratchDirs.sweep(tmp, SCRATCH_NAMES);
            scratch = Files.createTempDirectory(tmp, SCRATCH_PREFIX + ScratchDirs.owner());
        } catch (IOException e) {
            throw new ReplayException("cannot create a replay directory: " + e.getMessage(), e);
        }
        // Ctrl-C or SIGTERM: the JVM halts once its shutdown hooks are done, usually before the finally
        // below runs. This hook lets the replaying tree end (TraceRun's hook kills it), then removes the
        // directory itself, so that nothing is written into it afterwards. Before the launch there is no
        // tree to wait for.
        CountDownLatch traced = new CountDownLatch(1);
        AtomicBoolean launching = new AtomicBoolean();
        Thread cleanup = Thread.ofPlatform().name("deja-replay-cleanup").unstarted(() -> {
            try {
                if (launching.get()) traced.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Recording.deleteTree(scratch);
        });
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            // The index goes into the replay's directory: files of a long recording's index are mapped from there.
            RecordedRun run;
            try {
                run = RecordedRun.load(rec, IndexMemory.in(scratch));
            } catch (RecordingException e) {
                throw new ReplayException(e.getMessage(), e);
            }
            try (run) {
                return replay(rec, run, options, control, arch, scratch, launching);
            } catch (ReplayTracer.Stop s) {
                // Outside the tracing (the first or the last event read again): a failure, never a divergence.
                if (s.failure == null) throw s;
                throw s.failure;
            }
        } finally {
            traced.countDown();
            Recording.deleteTree(scratch);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs, and removes the directory too
            }
        }
    }

    private static Outcome replay(Recording rec, RecordedRun run, Options options, ReplayControl control, Arch arch,
                                  Path scratch, AtomicBoolean launching) throws ReplayException {
        Schemas schemas = Schemas.of(arch);
        if (!(run.first() instanceof SyscallEvent first) || first.nr() != schemas.table().number("execve").orElse(-2)) {
            throw new ReplayException(rec.path() + " holds no program start to replay (its first event is not the execve)");
        }
        LaunchSpec spec = launchSpec(rec, first, options);
        // The program starts with the signals ignored that it was recorded with. A child can only inherit an
        // ignored signal: deja ignores them itself until the program is launched (its first recorded call).
        SignalActions ignoring;
        try {
            ignoring = SignalActions.ignore(spec.ignoredSignals());
        } catch (NativeCallException e) {
            throw new ReplayException("cannot start the program with the signals it was recorded with ignored: "
                    + e.getMessage(), e);
        }
        ReplayControl launched = new ReplayControl() {
            @Override
            public void beforeEvent(SyscallEvent event, dev.deja.device.Tracee tracee) {
                ignoring.close();
                control.beforeEvent(event, tracee);
            }

            @Override
            public void afterEvent(SyscallEvent event, dev.deja.device.Tracee tracee) {
                control.afterEvent(event, tracee);
            }
        };
        try {
            launching.set(true);
            Outcome o = replay(rec, run, spec, options, scratch, schemas, launched, control);
            // Signals 32 and 33 are glibc's own (thread cancellation, setxid): no program sets or sees them.
            long lost = spec.ignoredSignals() & ~SignalActions.SETTABLE & ~(3L << 31);
            if (lost == 0) return o;
            List<String> warnings = new ArrayList<>(o.warnings());
            warnings.add("the program was recorded with signals " + LaunchSignals.hex(lost) + " (hex set) ignored;"
                    + " the replay starts it with their default action");
            return new Outcome(o.status(), o.divergence(), o.replayed(), warnings, o.cutShort());
        } finally {
            ignoring.close();
        }
    }

    private static Outcome replay(Recording rec, RecordedRun run, LaunchSpec spec, Options options, Path scratch,
                                  Schemas schemas, ReplayControl control, ReplayControl owner) throws ReplayException {
        ReplayTracer tracer = new ReplayTracer(rec, run, schemas, options.out(), options.err(), scratch,
                options.markEvents());
        tracer.control(control);
        tracer.debugAgent(owner.debugAgent());
        // Only without a debugger: its stops after a call (afterEvent, steps, checkpoints) need the exit stop.
        try {
            tracer.answerAtOneStop(owner == ReplayControl.NONE && oneStopWanted(System.getenv(ONE_STOP_ENV)));
            tracer.replayProcessesInParallel(owner == ReplayControl.NONE && inParallelWanted(System.getenv(IN_ORDER_ENV)));
            tracer.onOneCpu(oneCpuWanted(System.getenv(CPUS_ENV)));
        } catch (IllegalArgumentException e) {
            throw new ReplayException(e.getMessage(), e);
        }
        if (owner.checkpointing()) return replayWithCheckpoints(rec, run, spec, tracer, owner);
        TraceResult r;
        try {
            r = TraceRun.run(spec, tracer, () -> { });
        } catch (ReplayTracer.Stop s) {
            return stopped(rec, tracer, s);
        } catch (DeviceException d) {
            throw new ReplayException(d.getMessage(), d);
        }
        return ended(rec, run, tracer, r).counted(r, tracer.stepsAhead());
    }

    /** The outcome of a replay a divergence stopped; a failure is rethrown. */
    private static Outcome stopped(Recording rec, ReplayTracer tracer, ReplayTracer.Stop s) throws ReplayException {
        boolean cutShort = rec.status() == RecordingStatus.INTERRUPTED;
        if (s.divergence != null && cutShort && s.divergence.seq() < 0) {
            // A thread went on past its last recorded event, and the recording does not say how it
            // ended: deja record killed it there. The replay has reached the end of the recording.
            return new Outcome(interruptedStatus(rec), null, tracer.replayed(), tracer.warnings(), true);
        }
        if (s.divergence != null) return new Outcome(124, s.divergence, tracer.replayed(), tracer.warnings());
        throw s.failure;
    }

    /** The outcome of a replay whose program ended. */
    private static Outcome ended(Recording rec, RecordedRun run, ReplayTracer tracer, TraceResult r) {
        int status = r.shellStatus();
        if (rec.status() == RecordingStatus.INTERRUPTED) {
            // The recorded status is deja record's SIGKILL of the program (137), not one the program chose:
            // the replayed program may not get there the same way (a Ctrl-C the recording holds kills it
            // first, 130), and that is no divergence. The replay ends as the recording did.
            return new Outcome(interruptedStatus(rec), null, tracer.replayed(), tracer.warnings(), true);
        }
        Optional<Integer> expected = recordedStatus(rec, run);
        if (!r.interrupted() && expected.isPresent() && expected.get() != status) {
            ExitEvent x = run.thread(run.rootTid()).exit();
            Divergence d = new Divergence(x != null ? x.seq() : -1, run.first().pid(), run.rootTid(),
                    "exit status " + expected.get(), "exit status " + status, List.of());
            return new Outcome(status, d, tracer.replayed(), tracer.warnings());
        }
        return new Outcome(status, null, tracer.replayed(), tracer.warnings());
    }

    /**
     * Runs the replay's sessions on this thread, which traces the checkpoints' copies: the first
     * launches the program; each {@link Checkpoints.Restore} the control throws ends the running one
     * and a new one adopts a copy of the checkpoint. When the program ends (or the replay diverges)
     * with checkpoints left, the control may go on from one ({@link ReplayControl#afterEnd}). Every
     * copy is killed at the end.
     */
    private static Outcome replayWithCheckpoints(Recording rec, RecordedRun run, LaunchSpec spec, ReplayTracer tracer,
                                                 ReplayControl owner) throws ReplayException {
        try (Checkpoints checkpoints = new Checkpoints(tracer)) {
            owner.checkpoints(checkpoints);
            TraceSession session = new TraceSession(spec, tracer);
            while (true) {
                Outcome o;
                try {
                    TraceResult r = TraceRun.runHere(session);
                    o = ended(rec, run, tracer, r);
                    if (r.interrupted()) return o; // Ctrl-C or SIGTERM to deja: no going on
                } catch (Checkpoints.Restore back) {
                    session = adopt(checkpoints.restore(back), spec, tracer);
                    continue;
                } catch (ReplayTracer.Stop s) {
                    o = stopped(rec, tracer, s);
                } catch (DeviceException d) {
                    throw new ReplayException(d.getMessage(), d);
                }
                if (checkpoints.list().isEmpty() || o.cutShort()) return o;
                java.util.OptionalInt back = owner.afterEnd(o);
                if (back.isEmpty()) return o;
                try {
                    session = adopt(checkpoints.restore(new Checkpoints.Restore(back.getAsInt())), spec, tracer);
                } catch (ReplayTracer.Stop s) {
                    throw s.failure != null ? s.failure : new ReplayException(s.getMessage());
                }
            }
        }
    }

    /** A session that goes on from a checkpoint's fresh copy, its re-created threads held where they were. */
    private static TraceSession adopt(Checkpoints.Restored copy, LaunchSpec spec, ReplayTracer tracer) {
        return TraceSession.adopt(copy.processes(), copy.rootPid(), spec, tracer);
    }

    /** The status an interrupted recording ended with (its summary's: 137, the recorder's SIGKILL). */
    private static int interruptedStatus(Recording rec) {
        return rec.summary().map(RecordingSummary::exitStatus).orElse(128 + 9);
    }

    private static Optional<Integer> recordedStatus(Recording rec, RecordedRun run) {
        RecordedRun.ThreadLog root = run.thread(run.rootTid());
        ExitEvent x = root == null ? null : root.exit();
        if (x != null) return Optional.of(x.shellStatus());
        return rec.summary().map(RecordingSummary::exitStatus);
    }

    /** The program as recorded: its first execve's path, the recorded argv and environment. */
    private static LaunchSpec launchSpec(Recording rec, SyscallEvent first, Options options)
            throws ReplayException {
        String path = null;
        for (MemoryBlock b : first.inputs()) {
            if (b.arg() == 0) {
                byte[] d = b.data();
                path = new String(d, 0, d.length > 0 && d[d.length - 1] == 0 ? d.length - 1 : d.length,
                        StandardCharsets.UTF_8);
                break;
            }
        }
        if (path == null) throw new ReplayException("the recording's first execve has no path");
        // The command as typed: the recorded execve's argv (for a #! script, the exec rewrites it).
        List<String> argv = rec.header().command();
        List<String> env = environment(rec);
        requireMetadataMatchesStart(rec, first, argv, env);
        // The signal state the program was recorded with (a background job starts with SIGINT ignored, and
        // dash then never installs its handler); recordings made before deja kept it: this deja's own.
        LaunchSignals signals = rec.header().launchSignals()
                .orElse(new LaunchSignals(options.blockedSignals(), options.ignoredSignals()));
        return new LaunchSpec(path, argv, env, options.closeFds(), signals.blocked(), signals.ignored());
    }

    /**
     * Holds meta.json's command and environment against the program's recorded start (its first execve), as
     * replay does before it launches anything; for {@code deja info --check}.
     */
    public static void checkMetadata(Recording rec) throws ReplayException {
        Arch arch;
        try {
            arch = Arch.parse(rec.header().arch());
        } catch (IllegalArgumentException e) {
            return;   // a recording of an architecture this deja has no tables for: nothing to compare with
        }
        int execve = Schemas.of(arch).table().number("execve").orElse(-2);
        // The journal keeps events in the order they completed: the program's first call, its execve, comes
        // after what the exec itself produced (the exec, context and mapping events numbered after it).
        try (EventReader events = rec.events()) {
            long lowest = Long.MAX_VALUE;
            for (Event e; (e = events.next()) != null; ) {
                if (e instanceof SyscallEvent s && s.nr() == execve) {
                    if (s.seq() < lowest) requireMetadataMatchesStart(rec, s, rec.header().command(), environment(rec));
                    return;
                }
                lowest = Math.min(lowest, e.seq());
            }
        } catch (RecordingException e) {
            throw new ReplayException(e.getMessage(), e);
        }
    }

    private static List<String> environment(Recording rec) {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> kv : rec.header().environment().entrySet()) env.add(kv.getKey() + "=" + kv.getValue());
        return env;
    }

    /**
     * The program is launched from meta.json's command and environment; the journal holds what it really
     * started with (the first execve's argv and envp strings). Metadata that differs (damaged, or edited in a
     * recording without a checksum) would replay into a divergence at event 1 that blames the program:
     * name meta.json instead.
     */
    private static void requireMetadataMatchesStart(Recording rec, SyscallEvent first, List<String> argv, List<String> env)
            throws ReplayException {
        Optional<List<String>> recordedArgv = strings(first, 1);
        Optional<List<String>> recordedEnv = strings(first, 2);
        String meta = rec.path().resolve("meta.json").toString();
        if (recordedArgv.isPresent() && !argv.equals(recordedArgv.get())) {
            throw new ReplayException("corrupt recording: " + meta + ": its command " + argv + " differs from the argv"
                    + " the program started with (event " + first.seq() + ": " + recordedArgv.get() + "); meta.json"
                    + " was damaged or edited");
        }
        if (recordedEnv.isPresent() && !asMap(env).equals(asMap(recordedEnv.get()))) {
            throw new ReplayException("corrupt recording: " + meta + ": its environment differs from the one the program"
                    + " started with (event " + first.seq() + ", " + firstDifference(env, recordedEnv.get())
                    + "); meta.json was damaged or edited");
        }
    }

    /** The recorded string vector of argument {@code arg} (a NULL-ended pointer array), when it was recorded whole. */
    private static Optional<List<String>> strings(SyscallEvent e, int arg) {
        byte[] pointers = null;
        Map<Long, byte[]> reached = new HashMap<>();
        for (MemoryBlock b : e.inputs()) {
            if (b.arg() == arg) pointers = b.data();
            if (b.arg() == -1) reached.putIfAbsent(b.address(), b.data());
        }
        if (pointers == null) return Optional.empty();
        ByteBuffer words = ByteBuffer.wrap(pointers).order(ByteOrder.LITTLE_ENDIAN);
        List<String> out = new ArrayList<>();
        for (int off = 0; off + 8 <= pointers.length; off += 8) {
            long p = words.getLong(off);
            if (p == 0) return Optional.of(out);
            byte[] s = reached.get(p);
            // a string the recorder cut (no NUL: too long, or unreadable) cannot be compared
            if (s == null || s.length == 0 || s[s.length - 1] != 0) return Optional.empty();
            out.add(new String(s, 0, s.length - 1, StandardCharsets.UTF_8));
        }
        return Optional.empty();   // no NULL pointer recorded: the vector was cut
    }

    /** As the recorder built meta.json's environment from the program's: NAME=value pairs, the last of a name kept. */
    private static Map<String, String> asMap(List<String> env) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq > 0) m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }

    private static String firstDifference(List<String> env, List<String> recorded) {
        Map<String, String> a = asMap(env);
        Map<String, String> b = asMap(recorded);
        for (Map.Entry<String, String> e : b.entrySet()) {
            String v = a.get(e.getKey());
            if (v == null) return e.getKey() + " is missing from meta.json";
            if (!v.equals(e.getValue())) return e.getKey() + " differs";
        }
        for (String k : a.keySet()) {
            if (!b.containsKey(k)) return k + " is not in the recorded environment";
        }
        return "the two differ";
    }
}
