package dev.deja.device;

import dev.deja.device.ffm.Affinity;
import dev.deja.device.ffm.NativeCallException;
import dev.deja.device.ffm.Personality;
import dev.deja.device.ffm.ProcessVm;
import dev.deja.device.ffm.ProxyCalls;
import dev.deja.device.ffm.PerfEvents;
import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Signals;
import dev.deja.device.ffm.Spawn;
import dev.deja.device.ffm.Wait;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.MemoryCapture;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.device.x86.AnswerStub;
import dev.deja.device.x86.RelativeJump;
import dev.deja.device.x86.RepString;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The ptrace stop loop: spawns the program stopped, follows every thread, fork, vfork, clone and
 * exec, and turns stops into numbered events for a {@link Tracer}. Everything here runs on one
 * platform thread, because ptrace belongs to the thread that attached.
 *
 * <p>Launch: posix_spawn starts {@code /bin/sh -c 'kill -STOP $$; exec "$0"' PROGRAM}; once it has
 * stopped itself the device seizes it, lets it run to its execve entry, and there replaces argv and
 * envp with the exact vectors asked for (written into memory the device maps in the tracee by an
 * injected mmap). The program's execve is event 1; nothing of the shell is recorded.
 */
public final class TraceSession {
    private static final int OPTIONS = Ptrace.O_TRACESYSGOOD | Ptrace.O_TRACECLONE | Ptrace.O_TRACEFORK
            | Ptrace.O_TRACEVFORK | Ptrace.O_TRACEEXEC | Ptrace.O_EXITKILL;
    private static final int SYSCALL_STOP = Signals.SIGTRAP | 0x80;
    private static final int SIGSEGV = 11;
    private static final int SIGBUS = 7;
    private static final int SIGRTMIN = 32;
    private static final long ALL_SIGNALS = -1L;
    private static final int AT_NULL = 0;
    private static final int AT_IGNORE = 1;
    private static final int AT_RANDOM = 25;
    private static final int AT_SYSINFO_EHDR = 33;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int ESRCH = 3;
    private static final int ENOSYS = 38;
    private static final int EINVAL = 22;
    /** How long a debugger's read of a new thread waits for it to reach its first stop. */
    private static final long FIRST_STOP_WAIT_NS = 500_000_000L;
    private static final int MAP_TYPE = 0x0f;
    private static final int MAP_PRIVATE_TYPE = 0x02;
    private static final int PROT_WRITE = 0x2;
    private static final long CLONE_THREAD = 0x10000;
    private static final long CLONE_VM = 0x100;
    private static final long CLONE_FILES = 0x400;
    private static final long CLONE_VFORK = 0x4000;
    private static final long CLONE_UNTRACED = 0x00800000;
    /** How far /proc's CPU time of a running thread may lag (one scheduler tick at HZ=250). */
    private static final long TICK_LAG_NS = 4_000_000;
    private static final int PR_SET_NAME = 15;
    private static final String LAUNCH_SCRIPT = "kill -STOP $$; exec \"$0\"";
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int CAP_SYS_ADMIN = 21;
    /** sizeof(struct sock_fprog) on 64-bit: u16 len, padding, the filter's address. */
    private static final int SOCK_FPROG_SIZE = 16;

    /** What to launch; null when attaching to {@link #attachPid}. */
    private final LaunchSpec spec;
    /** The running process to attach to (-p); 0 when launching {@link #spec}. */
    private final int attachPid;
    /**
     * While attached: a child of deja's own that only waits; killing it wakes the tracing thread
     * out of waitpid so that it can detach (ptrace requests come from the tracing thread only).
     */
    private volatile int wakeupPid;
    private final Tracer tracer;
    private final Arch arch = Arch.current();
    private final SyscallTable table = SyscallTable.of(arch);
    private final MemoryCapture capture = MemoryCapture.of(arch);
    private final int nrExecve;
    private final int nrExit;
    private final int nrSchedYield;
    private final int nrExecveat;
    private final int nrMmap;
    private final int nrRestartSyscall;
    private final int nrPrctl;
    private final int nrSeccomp;
    /** prctl(2)'s PR_SET_SECCOMP. */
    private static final long PR_SET_SECCOMP = 22;
    private final int nrClone;
    private final int nrClone3;
    /** rseq's number when the tracer {@link Tracer#refusesRseq() refuses it}, else -1. */
    private final int nrRefusedRseq;
    private final int nrKill;
    /** deja's own process and its process group, which a program started from a shell shares. */
    private final int ownPid = (int) ProcessHandle.current().pid();
    private final int ownGroup = ProcFs.processGroup(ownPid);
    /** Indexed by syscall number: a successful call changes the process's context (cwd, credentials). */
    private final boolean[] contextChanging;
    private final boolean decides;
    /** The debugger driving this run (gdb server), or null: then none of the debug paths below is taken. */
    private final DebugAgent debug;
    /** Per process (pid): the debugger's int3s, address to the byte each replaced. */
    private final Map<Integer, Map<Long, Byte>> debugBreakpoints = new HashMap<>();
    /** The debugger's write watchpoints: the pages made read-only, per process. */
    private final WatchedPages watchedPages;
    /** Per process: the address of a {@code syscall} instruction to inject mprotect through (0: none found yet). */
    private final Map<Integer, Long> syscallInsns = new HashMap<>();
    /** The debugger's stop at the program's start has been made (only the first program's exec has one). */
    private boolean debugStarted;
    private final boolean orders;
    /** The tracer sends threads to recorded points in a run it does not order: their way there is bounded too. */
    private final boolean points;
    /** -b execve: a process that execs (after the program's first exec) is let go. */
    private final boolean detachAtExec;
    /** The program's own exec happened: later ones are let go under {@link #detachAtExec}. */
    private boolean firstExecSeen;
    /** The root process was let go at an exec: its status is reaped as a plain child's. */
    private boolean rootDetached;
    private boolean rootReaped;
    /**
     * The seccomp program installed at launch when the tracer wants only some calls (null: every
     * call stops). Tasks then run with PTRACE_CONT and stop at the filtered calls only.
     */
    private final byte[] syscallFilter;
    /**
     * Replay answered at one stop ({@link Tracer#answersAtOneStop}): every call stops at its seccomp
     * stop, where a skipped call gets its number -1 and its result and goes on with PTRACE_CONT.
     */
    private final boolean oneStop;
    /** The tracer takes mapping events ({@link Tracer#wantsMappings}). */
    private final boolean wantsMappings;
    /**
     * Recording under the scheduler: every call stops at its seccomp stop, where the calls deja can perform
     * itself ({@link CallEmulator}) are done and over, and the others go on to their exit stop.
     * {@code DEJA_NO_EMULATION=1} turns it off (every call runs in the kernel, two stops each).
     */
    private final boolean emulates;
    private CallEmulator emulator;
    /** A pending call's flag (never in an event): deja performed it at its seccomp stop. */
    private static final int EMULATED = 1 << 30;
    /** {@link Tracer#readsOutputsOfSkippedCalls}: else a skipped call's event has no outputs. */
    private final boolean skippedOutputsRead;
    /** Stops of the traced threads the loop took, and calls answered at their entry with no exit stop. */
    private long stops;
    private long answeredAtEntry;
    /**
     * Recording: the syscall buffer of each process ({@link CallBuffer}), by pid; null when off (not a recording
     * that performs calls, or DEJA_NO_BUFFER=1).
     */
    private final Map<Integer, CallBuffer> buffers;
    private final int nrClose = number("close");
    private final int nrRtSigreturn = number("rt_sigreturn");
    private final int nrCloseRange = number("close_range");
    private final int nrDup2 = number("dup2");
    private final int nrDup3 = number("dup3");
    private final int nrVfork = number("vfork");
    private final int nrOpen = number("open");
    private final int nrOpenat = number("openat");
    private final int nrOpenat2 = number("openat2");
    private final int nrCreat = number("creat");
    private final Map<Integer, dev.deja.device.x86.BufferStub.Plan> bufferPlans;
    /** The sixth argument the buffer stubs' calls carry, which the recording filter lets through. */
    private final long bufferMarker;
    /** The sixth argument a replay's answer stubs' performed calls carry ({@link AheadAnswers#PERFORMABLE}); 0: none. */
    private final long aheadMarker;
    /** Processes that run in their parent's memory (a vfork child until it execs): no call buffer. */
    private final java.util.Set<Integer> sharingParentMemory = new java.util.HashSet<>();
    /** Calls made in a buffer stub, with no stop. */
    private long bufferedCalls;
    /** The sites processes of this recording patched, by file: a new process of the same program patches them at once. */
    private final CallBuffer.KnownSites knownSites = new CallBuffer.KnownSites();
    /** Calls answered with no stop from answers given ahead, and the stubs put in for them. */
    private long answeredAhead;
    private long aheadRuns;
    /** Replay at one stop: per process, the syscall instructions each call was made at (answers ahead go there). */
    private final Map<Integer, Map<Integer, List<Long>>> callSites = new HashMap<>();
    /** The answer stubs built so far, for the next process of the same program. */
    private final StubMemo<AnswerStub> aheadStubs = new StubMemo<>();
    /** Per process, the functions around those syscall instructions, read once (see {@link AheadAnswers.Function}). */
    private final Map<Integer, Map<Long, AheadAnswers.Function>> siteFunctions = new HashMap<>();
    /** How many syscall instructions of one call are kept (a call's wrapper, its no-cancel twin, syscall()). */
    private static final int SITES_PER_CALL = 4;

    /**
     * Replay at one stop: per program (its executable, as /proc/PID/exe names it), the syscall instructions each
     * call was made at in any of its processes. Address randomisation is off, so the next process of the same
     * program has the same code at the same places: its answers ahead go there before it made the call itself
     * (a site is taken only where this process has a syscall instruction; its stub is built from its own code).
     */
    private final Map<String, Map<Integer, List<Long>>> programSites = new HashMap<>();
    /** The program of each live process (see {@link #programSites}); a fork's is its parent's. */
    private final Map<Integer, String> programOf = new HashMap<>();

    private void noteSite(int pid, int nr, long site) {
        addSite(callSites.computeIfAbsent(pid, k -> new HashMap<>()), nr, site);
        String program = programOf.get(pid);
        if (program != null) addSite(programSites.computeIfAbsent(program, k -> new HashMap<>()), nr, site);
    }

    private static void addSite(Map<Integer, List<Long>> byNr, int nr, long site) {
        List<Long> sites = byNr.computeIfAbsent(nr, k -> new ArrayList<>(2));
        if (sites.contains(site)) return;
        if (sites.size() == SITES_PER_CALL) sites.removeFirst();
        sites.add(site);
    }

    /** Where process {@code pid}'s answers ahead may go, per call: its own sites, else its program's. */
    private Map<Integer, List<Long>> aheadSites(int pid) {
        Map<Integer, List<Long>> own = callSites.getOrDefault(pid, Map.of());
        String program = programOf.get(pid);
        Map<Integer, List<Long>> known = program == null ? null : programSites.get(program);
        if (known == null) return own;
        Map<Integer, List<Long>> all = new HashMap<>(known);
        all.putAll(own);
        return all;
    }
    /** The tracer answers syscall entries later: threads wait in {@link #awaiting}, others go on. */
    private final boolean later;
    /** Threads stopped at a syscall entry whose answer has not come yet. */
    private final List<Task> awaiting = new ArrayList<>();
    /** Tasks tracers hand to the device's thread (see {@link Tracer#bindDeviceThread}). */
    private final LinkedBlockingQueue<Runnable> deviceQueue = new LinkedBlockingQueue<>();
    /** While answers are awaited, stops are polled and messages awaited in slices of this length. */
    private static final long AWAIT_POLL_US = 200;
    /** Threads a tracer that orders threads holds in a syscall stop, in the order they stopped. */
    private final List<Task> held = new ArrayList<>();
    /** The recording scheduler's policy (threads of one address space run one at a time), or null. */
    private final SchedulePolicy policy;
    /** Per thread group, under {@link #policy}: who runs user code and who waits to. */
    private final Map<Integer, Unit> units = new HashMap<>();
    /** Files mapped shared and writable ("dev:ino") to the unit of the processes that map them. */
    private final Map<String, Unit> sharedFiles = new HashMap<>();
    /** Wakes the stop loop for time slices, free runs and the progress limit (null when none is needed). */
    private Alarm alarm;
    /** Whether this session times anything with {@link #alarm} (started at once, or at its first deadline). */
    private boolean alarmWanted;
    /** Free runs end by a task-clock trap (perf_event_open) until one cannot be opened here. */
    private boolean perfTraps = true;
    /** Whether any was opened: only then can a SIGTRAP be one of them (a program's own are not looked into). */
    private boolean perfOpened;
    /** The sig_data of deja's task-clock traps: tells them from a program's own SIGTRAPs. */
    private static final long PERF_MARKER = 0xDE7A_0001L;
    private static final long SIGTRAP_BIT = 1L << (Signals.SIGTRAP - 1);
    /** When the loop last got a stop (System.nanoTime), for {@link Tracer#progressLimitNs()}. */
    private long lastStopNanos;
    /** The loop got a stop since it last waited: {@link #lastStopNanos} restarts once it is handled. */
    private boolean stopHandled;

    private final Map<Integer, Task> tasks = new HashMap<>();
    /** Stops a thread reported while deja waited for it outside the loop (an image's interrupt): the loop takes them first. */
    private final java.util.ArrayDeque<int[]> redelivered = new java.util.ArrayDeque<>();
    /** Pids of live processes, readable by the thread that stops the session. */
    private final Set<Integer> livePids = ConcurrentHashMap.newKeySet();
    private final Set<Integer> processesSeen = new HashSet<>();
    private volatile boolean stopRequested;

    private Ptrace ptrace;
    private Wait wait;
    private ProcessVm vm;
    private long seq;
    private int rootPid;
    private boolean launched;
    private int rootExitCode;
    private int rootTermSignal;
    private final long epochBaseNs;
    private final long nanoBase;

    public TraceSession(LaunchSpec spec, Tracer tracer) {
        this(spec, 0, tracer);
    }

    /**
     * A session that attaches to the running process {@code pid} (every thread, and its future
     * children) instead of launching one; stopping it detaches and leaves the process running.
     */
    public static TraceSession attach(int pid, Tracer tracer) {
        if (pid <= 0) throw new IllegalArgumentException("not a process id: " + pid);
        return new TraceSession(null, pid, tracer);
    }

    /**
     * A session whose tree is {@code pid}, a stopped copy of a traced process made on this thread by
     * {@link ProcessCopies#fork} (without {@code atEntry}): it is resumed into the call it was copied at,
     * and the run goes on from there as if launched (a checkpoint restored). Run it on the thread that
     * made the copy: only that thread traces it.
     */
    public static TraceSession adopt(int pid, LaunchSpec spec, Tracer tracer) {
        return adopt(new ProcessCopies.Copy(pid, Map.of()), null, List.of(), spec, tracer);
    }

    /**
     * As {@link #adopt(int, LaunchSpec, Tracer)}, with the other threads {@link ProcessCopies#fork(int, int,
     * ProcessCopies.Image)} re-created in the copy from {@code threads}: each is held where its image
     * stood, until the tracer lets it go on as it would have let the original; so is the copy's first
     * thread when {@code leaderHeld} is its image (else it goes on into its call).
     */
    public static TraceSession adopt(ProcessCopies.Copy copy, ThreadImage leaderHeld, List<ThreadImage> threads,
                                     LaunchSpec spec, Tracer tracer) {
        return adopt(List.of(new Adoption(copy, leaderHeld, threads)), copy.pid(), spec, tracer);
    }

    /**
     * One process of a tree a session adopts: a stopped copy, the image its first thread is held at (null: it
     * goes on into its call) and the images its other threads were re-created from.
     */
    public record Adoption(ProcessCopies.Copy copy, ThreadImage leaderHeld, List<ThreadImage> threads) {
        public Adoption {
            if (copy.pid() <= 0) throw new IllegalArgumentException("not a process id: " + copy.pid());
            threads = List.copyOf(threads);
        }
    }

    /**
     * As {@link #adopt(ProcessCopies.Copy, ThreadImage, List, LaunchSpec, Tracer)} for every process of a
     * tree's copy (a checkpoint of a replay with several processes); {@code rootPid}, one of them, is the
     * program's first process, whose end is the run's status.
     */
    public static TraceSession adopt(List<Adoption> processes, int rootPid, LaunchSpec spec, Tracer tracer) {
        if (processes.isEmpty()) throw new IllegalArgumentException("no process to adopt");
        TraceSession s = new TraceSession(spec, 0, tracer);
        s.adopted = List.copyOf(processes);
        s.adoptRoot = rootPid;
        return s;
    }

    /** The tracing thread outlives the session (see {@link TraceRun#runHere}): an abandoned tree is reaped. */
    boolean keepsThread;

    /** The stopped copies this session adopts instead of launching (empty: none), and which is the root. */
    private List<Adoption> adopted = List.of();
    private int adoptRoot;

    private TraceSession(LaunchSpec spec, int attachPid, Tracer tracer) {
        this.spec = spec;
        this.attachPid = attachPid;
        this.tracer = tracer;
        this.decides = tracer.decides();
        this.debug = attachPid == 0 ? tracer.debugAgent() : null;
        this.orders = decides && tracer.ordersThreads();
        this.points = decides && !orders && tracer.stopsAtPoints();
        this.later = decides && !orders && tracer.answersLater();
        this.policy = orders || attachPid != 0 ? null : tracer.scheduling();
        this.detachAtExec = !orders && policy == null && tracer.detachesAtExec();
        this.nrExecve = number("execve");
        this.nrExit = number("exit");
        this.nrSchedYield = number("sched_yield");
        this.nrExecveat = number("execveat");
        this.nrMmap = number("mmap");
        this.nrRestartSyscall = number("restart_syscall");
        this.nrPrctl = number("prctl");
        this.nrSeccomp = number("seccomp");
        this.watchedPages = new WatchedPages(number("mprotect"));
        this.nrClone = number("clone");
        this.nrClone3 = number("clone3");
        this.nrRefusedRseq = tracer.refusesRseq() ? number("rseq") : -1;
        this.nrKill = number("kill");
        this.contextChanging = new boolean[1024];
        for (String name : List.of("chdir", "fchdir", "setuid", "setgid", "setreuid", "setregid", "setresuid",
                "setresgid", "setfsuid", "setfsgid")) {
            table.number(name).ifPresent(nr -> contextChanging[nr] = true);
        }
        this.skippedOutputsRead = tracer.readsOutputsOfSkippedCalls();
        // Attached processes run with every call stopping: the filter is installed at launch only.
        // A process let go at its exec keeps the filter, whose calls would then fail with ENOSYS: none.
        this.wantsMappings = tracer.wantsMappings();
        this.oneStop = decides && attachPid == 0 && debug == null && policy == null && !later && !detachAtExec
                && tracer.answersAtOneStop();
        this.emulates = policy != null && attachPid == 0 && debug == null && !detachAtExec && !later
                && System.getenv("DEJA_NO_EMULATION") == null;
        boolean buffering = emulates && CallBuffer.ENABLED;
        this.buffers = buffering ? new HashMap<>() : null;
        this.bufferPlans = buffering ? CallBuffer.plans(dev.deja.device.syscall.Schemas.of(arch)) : Map.of();
        this.bufferMarker = buffering ? marker() : 0;
        this.aheadMarker = oneStop && AheadAnswers.ENABLED ? marker() : 0;
        this.syscallFilter = buffering
                ? SeccompFilter.bytes(SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, bufferMarker, null,
                        AheadAnswers.NR_MMAP))
                : aheadMarker != 0 ? SeccompFilter.bytes(SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64,
                        aheadMarker, AheadAnswers.PERFORMABLE, AheadAnswers.NR_MMAP))
                : oneStop || emulates ? SeccompFilter.bytes(SeccompFilter.everyCall(SeccompFilter.AUDIT_ARCH_X86_64))
                : orders || policy != null || attachPid != 0 || detachAtExec ? null
                : syscallFilter(tracer.interest());
        java.time.Instant now = java.time.Instant.now();
        this.epochBaseNs = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        this.nanoBase = System.nanoTime();
    }

    private int number(String name) {
        return table.number(name).orElse(-1);
    }

    /** A random marker for the buffer stubs' calls, neither half zero nor its high half all ones (a -1 descriptor's). */
    private static long marker() {
        java.security.SecureRandom r = new java.security.SecureRandom();
        long m;
        do {
            m = r.nextLong();
        } while ((int) m == 0 || (int) (m >>> 32) == 0 || (int) (m >>> 32) == -1);
        return m;
    }

    /**
     * The seccomp program for {@code interest}, or null when every call must stop. The calls that
     * change a process's context (cwd, credentials, name) always stop: the device reports the new
     * context to every tracer.
     */
    private byte[] syscallFilter(SyscallInterest interest) {
        if (!(interest instanceof SyscallInterest.Only only)) return null;
        java.util.BitSet traced = only.bits();
        for (int nr = 0; nr < contextChanging.length; nr++) if (contextChanging[nr]) traced.set(nr);
        if (nrPrctl >= 0) traced.set(nrPrctl);
        return SeccompFilter.bytes(SeccompFilter.program(SeccompFilter.AUDIT_ARCH_X86_64, traced, SyscallInterest.LIMIT));
    }

    /**
     * Runs the program to the end of its whole process tree, on the calling thread (which becomes
     * the tracing thread: call this from a dedicated platform thread).
     */
    public TraceResult run() {
        if (arch != Arch.X86_64) {
            throw new DeviceException("the live trace device supports x86_64 only; this machine is " + arch.unameName());
        }
        if (tracer.onOneCpu()) onOneCpu();
        try (Ptrace p = new Ptrace(); Wait w = new Wait(); ProcessVm v = new ProcessVm();
             ProxyCalls proxy = emulates ? new ProxyCalls() : null) {
            this.ptrace = p;
            this.wait = w;
            this.vm = v;
            if (proxy != null) emulator = new CallEmulator(table, proxy);
            if (later) tracer.bindDeviceThread(deviceQueue::add);
            // A replay times its progress from the start; a recording starts the alarm once a turn first has a
            // slice to time (a program of one thread never has: 30-40 ms of start-up and a /bin/sh spared).
            alarmWanted = policy != null || orders || points;
            if (orders || points) alarm = Alarm.start();
            try {
                if (attachPid != 0) {
                    attachAll();
                } else if (!adopted.isEmpty()) {
                    adopt();
                } else {
                    launch();
                }
                loop();
                // let go at an exec (-b execve), the program goes on: deja ends with it, with its status
                if (rootDetached && !rootReaped && wait.waitpid(rootPid, 0) == rootPid) reapedRoot(wait.status());
            } catch (NativeCallException e) {
                DeviceException failure = new DeviceException(e.getMessage() + " after event " + seq, e);
                abandon(failure);
                throw failure;
            } catch (RuntimeException | Error e) {
                abandon(e);
                throw e;
            } finally {
                endWakeup();
                endAlarm();
                if (emulator != null) {
                    if (CallEmulator.DEBUG) System.err.print("deja: emulation: " + stops + " stops, " + seq + " events\n" + emulator.summary());
                    emulator.closeAll();
                }
            }
        }
        if (DEBUG_MATCH && aheadRuns > 0) System.err.println("deja: ahead: " + answeredAhead + " calls in " + aheadRuns + " runs");
        return new TraceResult(rootExitCode, rootTermSignal, stopRequested, seq, processesSeen.size(), stops,
                answeredAtEntry, answeredAhead + bufferedCalls);
    }

    /**
     * From any thread: kill the traced tree (detach from it, when attached); {@link #run()} then
     * returns, marked interrupted.
     */
    public void requestStop() {
        stopRequested = true;
        if (attachPid != 0) {
            int w = wakeupPid;
            if (w > 0) Signals.kill(w, Signals.SIGKILL);
            return;
        }
        for (int pid : livePids) Signals.kill(pid, Signals.SIGKILL);
    }

    /** After a failure: never leave a launched tree traced (EXITKILL covers the thread's end, this covers now). */
    private void abandon(Throwable failure) {
        if (attachPid == 0) {
            for (int pid : livePids) Signals.kill(pid, Signals.SIGKILL);
            // A tracing thread that goes on (sessions run one after another on it) waits for them itself.
            if (keepsThread) ProcessCopies.reap(new ArrayList<>(tasks.keySet()));
            return;
        }
        // An attached process is not ours to kill: the kernel detaches it when the tracing thread ends.
        try {
            detachAll();
        } catch (NativeCallException | DeviceException e) {
            failure.addSuppressed(e);
            tasks.clear();
        }
    }

    private long now() {
        return epochBaseNs + (System.nanoTime() - nanoBase);
    }

    // ---- launch ------------------------------------------------------------------------------

    private void launch() {
        int persona = Personality.get();
        Personality.set(persona | Personality.ADDR_NO_RANDOMIZE);
        int pid;
        try {
            pid = Spawn.spawn("/bin/sh", List.of("sh", "-c", LAUNCH_SCRIPT, spec.executable()), spec.environment(),
                    spec.closeFds(), spec.blockedSignals(), spec.ignoredSignals());
        } finally {
            Personality.set(persona);
        }
        rootPid = pid;
        livePids.add(pid);
        int got = wait.waitpid(pid, Wait.WUNTRACED);
        if (got != pid || !Wait.stopped(wait.status())) {
            livePids.remove(pid);
            throw new DeviceException("the launcher shell did not stop itself (status 0x"
                    + Integer.toHexString(wait.status()) + "); is /bin/sh a POSIX shell?");
        }
        try {
            ptrace.seize(pid, OPTIONS | (syscallFilter != null ? Ptrace.O_TRACESECCOMP : 0));
        } catch (NativeCallException e) {
            Signals.kill(pid, Signals.SIGKILL);
            livePids.remove(pid);
            wait.waitpid(pid, 0);
            throw new DeviceException("cannot trace the program: " + e.getMessage()
                    + (e.errno() == 1 ? "; is deja itself under a debugger or strace, or is ptrace forbidden here"
                    + " (kernel.yama.ptrace_scope, a container's seccomp profile)?" : ""), e);
        }
        tasks.put(pid, new Task(pid, pid));
        Signals.kill(pid, Signals.SIGCONT);
        if (stopRequested) Signals.kill(pid, Signals.SIGKILL);
    }

    /** Takes over the stopped copies (see {@link #adopt}): launched already, each goes on into its call. */
    private void adopt() {
        rootPid = adoptRoot;
        launched = true;
        firstExecSeen = true;
        List<Integer> resumed = new ArrayList<>();
        for (Adoption a : adopted) {
            int pid = a.copy().pid();
            livePids.add(pid);
            processesSeen.add(pid);
            Task task = new Task(pid, pid);
            task.started = true;
            tasks.put(pid, task);
            List<Map.Entry<Task, ThreadImage>> copies = new ArrayList<>();
            if (a.leaderHeld() != null) copies.add(Map.entry(task, a.leaderHeld()));
            for (ThreadImage image : a.threads()) copies.add(Map.entry(new Task(a.copy().tids().get(image.tid()), pid), image));
            for (Map.Entry<Task, ThreadImage> c : copies) {
                Task t = c.getKey();
                ThreadImage image = c.getValue();
                tasks.put(t.tid, t);
                t.started = image.stop() != ThreadImage.Stop.START;
                if (image.stop() == ThreadImage.Stop.RUNNING) {
                    if (t.tid != pid) resumed.add(t.tid); // on in user code, as it was
                    continue;
                }
                t.heldStop = switch (image.stop()) {
                    case ENTRY, IN_CALL -> RunStop.ENTRY; // at the call's entry stop; an IN_CALL one the tracer lets go at once
                    case EXIT -> RunStop.EXIT;
                    case START -> RunStop.START;
                    case USER -> RunStop.PREEMPTED;
                    case RUNNING -> throw new AssertionError();
                };
                if (image.callInFlight instanceof Pending p) {
                    t.pending = new Pending(p.seq, p.time, p.nr, p.args, p.inputs, p.flags, p.skipResult, t.tid, p.programNr,
                            p.programArgs);
                }
                held.add(t);
            }
            // The first thread goes on into its call or its own code; else it is held where its image stood.
            if (a.leaderHeld() == null || a.leaderHeld().stop() == ThreadImage.Stop.RUNNING) resumed.add(pid);
        }
        for (int tid : resumed) {
            if (!ptrace.resumeToSyscall(tid, 0)) throw new DeviceException("the checkpoint copy's thread " + tid + " is gone");
        }
        if (stopRequested) for (Adoption a : adopted) Signals.kill(a.copy().pid(), Signals.SIGKILL);
    }

    // ---- attach (-p) ---------------------------------------------------------------------------

    /**
     * PTRACE_SEIZE every thread of {@link #attachPid} (listing /proc/PID/task until a pass finds no
     * new thread: threads may be created meanwhile), then PTRACE_INTERRUPT each so that it reports
     * a stop and is resumed with syscall stops. Never with EXITKILL: the process outlives deja.
     */
    private void attachAll() {
        int pid = attachPid;
        startWakeup();
        int options = (OPTIONS & ~Ptrace.O_EXITKILL);
        try {
            ptrace.seize(pid, options);
        } catch (NativeCallException e) {
            throw new DeviceException(attachFailure(pid, e), e);
        }
        rootPid = pid;
        launched = true;
        firstExecSeen = true; // -b execve: an attached process is let go at its very next exec, as strace -p does
        livePids.add(pid);
        processesSeen.add(pid);
        Task leader = new Task(pid, pid);
        leader.started = true;
        tasks.put(pid, leader);
        boolean found = true;
        while (found) {
            found = false;
            for (int tid : ProcFs.threads(pid)) {
                if (tasks.containsKey(tid)) continue;
                try {
                    ptrace.seize(tid, options);
                } catch (NativeCallException e) {
                    // gone meanwhile, or already ours (a thread its seized creator started reports itself)
                    continue;
                }
                Task t = new Task(tid, pid);
                t.started = true;
                tasks.put(tid, t);
                found = true;
            }
        }
        for (Task t : tasks.values()) ptrace.interrupt(t.tid);
        context(leader);
    }

    private static String attachFailure(int pid, NativeCallException e) {
        String why = switch (e.errno()) {
            case 3 -> "no process " + pid;
            case 1 -> {
                int tracer = ProcFs.tracerPid(pid);
                String scope = ProcFs.ptraceScope();
                yield "not permitted to trace process " + pid + (tracer > 0 ? " (already traced by pid " + tracer + ")"
                        : " (another user's process, a protected one, or kernel.yama.ptrace_scope"
                        + (scope.isEmpty() ? "" : " is " + scope + ": 1 allows only descendants, 2 only root, 3 nobody")
                        + ")");
            }
            default -> e.getMessage();
        };
        return "cannot attach: " + why;
    }

    /** Starts the child whose death wakes the tracing thread (before any tracee: no tracing is running yet). */
    private void startWakeup() {
        wakeupPid = Alarm.spawnIdleChild("wake-up helper");
        if (stopRequested) Signals.kill(wakeupPid, Signals.SIGKILL);
    }

    private void endAlarm() {
        Alarm a = alarm;
        if (a == null) return;
        alarm = null;
        a.close();
        wait.waitpid(a.helperPid(), Wait.WALL);
    }

    private void endWakeup() {
        int w = wakeupPid;
        if (w <= 0) return;
        wakeupPid = 0;
        Signals.kill(w, Signals.SIGKILL);
        wait.waitpid(w, 0);
    }

    /**
     * Lets every attached thread go: each is interrupted into a stop (the one in a skipped call
     * first gets its result) and PTRACE_DETACHed there, a pending signal delivered on the way out;
     * threads and children that appear meanwhile are detached as well.
     */
    private void detachAll() {
        // Threads waiting for an answer are already stopped: their call goes on as it is.
        for (Task t : awaiting) {
            ptrace.detach(t.tid, 0);
            tasks.remove(t.tid);
        }
        awaiting.clear();
        for (Task t : tasks.values()) ptrace.interrupt(t.tid);
        Set<Integer> expected = new HashSet<>(tasks.keySet());
        while (!expected.isEmpty()) {
            int tid = wait.waitpid(-1, Wait.WALL);
            if (tid < 0) break;
            int status = wait.status();
            if (tid == wakeupPid) continue;
            if (!Wait.stopped(status)) {
                expected.remove(tid);
                tasks.remove(tid);
                continue;
            }
            int sig = Wait.stopSignal(status);
            int event = Wait.ptraceEvent(status);
            Task task = tasks.get(tid);
            if (sig == SYSCALL_STOP && task != null && task.pending != null
                    && ptrace.syscallInfo(tid).get(ValueLayout.JAVA_BYTE, 0) == Ptrace.SYSCALL_INFO_EXIT) {
                syscallStop(task);
            }
            if (sig == Signals.SIGTRAP && (event == Ptrace.EVENT_FORK || event == Ptrace.EVENT_VFORK
                    || event == Ptrace.EVENT_CLONE)) {
                expected.add((int) ptrace.eventMessage(tid));
            }
            boolean signalStop = event == 0 && sig != SYSCALL_STOP && sig != Signals.SIGTRAP;
            ptrace.detach(tid, signalStop ? sig : 0);
            expected.remove(tid);
            tasks.remove(tid);
        }
        tasks.clear();
        livePids.clear();
    }

    /**
     * At the shell's execve entry: map a scratch page run in the tracee, write argv and envp there,
     * and point the call's argument registers at them. The path argument is already the program.
     */
    private void rewriteLaunchExec(Task task) {
        byte[] block = launchVectors(0);
        long filterAt = (block.length + 7L) & ~7L;
        long end = syscallFilter == null ? block.length : filterAt + SOCK_FPROG_SIZE + syscallFilter.length;
        LaunchSpec.Credentials credentials = spec.credentials();
        long groupsAt = (end + 7L) & ~7L;
        if (credentials != null) end = groupsAt + 4L * credentials.groups().size();
        long size = (end + 4095L) & ~4095L;
        long addr = RemoteSyscall.atEntry(ptrace, wait, task.tid, number("mmap"),
                0, size, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
        if (addr < 0 && addr > -4096) {
            throw new DeviceException("cannot map launch memory in pid " + task.tid + ": errno " + -addr);
        }
        block = launchVectors(addr);
        if (vm.write(task.tid, addr, block) != block.length) {
            throw new DeviceException("cannot write argv and envp into pid " + task.tid);
        }
        if (syscallFilter != null) installSyscallFilter(task, addr + filterAt);
        // after the filter: installing it without no_new_privs needs the root shell's CAP_SYS_ADMIN
        if (credentials != null) becomeUser(task, credentials, addr + groupsAt);
        long[] regs = ptrace.getRegsArray(task.tid);
        regs[X86Regs.RSI] = addr + LaunchLayout.argvOffset(spec);
        regs[X86Regs.RDX] = addr + LaunchLayout.envpOffset(spec);
        ptrace.setRegs(task.tid, regs);
    }

    /**
     * strace -u: at the shell's execve entry, injects setgroups, setregid and setreuid (in that
     * order: the groups need the privilege the uid change gives up), the groups written at {@code groups}.
     */
    private void becomeUser(Task task, LaunchSpec.Credentials c, long groups) {
        ByteBuffer b = ByteBuffer.allocate(4 * c.groups().size()).order(ByteOrder.LITTLE_ENDIAN);
        for (int g : c.groups()) b.putInt(g);
        if (b.capacity() > 0 && vm.write(task.tid, groups, b.array()) != b.capacity()) {
            throw new DeviceException("cannot write the supplementary groups into pid " + task.tid);
        }
        long r = RemoteSyscall.atEntry(ptrace, wait, task.tid, number("setgroups"), c.groups().size(), groups);
        if (r != 0) throw new DeviceException("cannot set the program's groups (setgroups): errno " + -r);
        r = RemoteSyscall.atEntry(ptrace, wait, task.tid, number("setregid"), c.gid(), c.egid());
        if (r != 0) throw new DeviceException("cannot set the program's group id " + c.gid() + " (setregid): errno " + -r);
        r = RemoteSyscall.atEntry(ptrace, wait, task.tid, number("setreuid"), c.uid(), c.euid());
        if (r != 0) throw new DeviceException("cannot set the program's user id " + c.uid() + " (setreuid): errno " + -r);
    }

    private byte[] launchVectors(long base) {
        return LaunchLayout.build(spec, base);
    }

    /**
     * At the shell's execve entry: writes the seccomp program and its sock_fprog at {@code fprog}
     * and injects prctl(PR_SET_NO_NEW_PRIVS) (unless the shell has CAP_SYS_ADMIN, which lets it
     * install a filter without giving up setuid) and seccomp(SECCOMP_SET_MODE_FILTER). The filter
     * outlives the exec and is inherited by every process and thread the program starts.
     */
    private void installSyscallFilter(Task task, long fprog) {
        ByteBuffer b = ByteBuffer.allocate(SOCK_FPROG_SIZE + syscallFilter.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) (syscallFilter.length / SeccompFilter.INSTRUCTION_SIZE)).putShort((short) 0).putInt(0);
        b.putLong(fprog + SOCK_FPROG_SIZE).put(syscallFilter);
        if (vm.write(task.tid, fprog, b.array()) != b.capacity()) {
            throw new DeviceException("cannot write the seccomp filter into pid " + task.tid);
        }
        if (!ProcFs.hasCapability(task.pid, CAP_SYS_ADMIN)) {
            long r = RemoteSyscall.atEntry(ptrace, wait, task.tid, nrPrctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            if (r != 0) throw new DeviceException("cannot set no_new_privs in pid " + task.tid + ": errno " + -r);
        }
        long r = RemoteSyscall.atEntry(ptrace, wait, task.tid, number("seccomp"), SECCOMP_SET_MODE_FILTER, 0, fprog);
        if (r != 0) {
            throw new DeviceException("cannot install the seccomp filter in pid " + task.tid + ": errno " + -r
                    + " (a kernel without CONFIG_SECCOMP_FILTER, or a container that forbids seccomp)");
        }
    }

    /**
     * Resumes a stopped task: to its next syscall stop while the device must see every call, or
     * while it is inside a call whose exit the device waits for; otherwise, under the seccomp
     * filter, to its next filtered call, signal or process event.
     */
    private void resume(Task task, int signal) {
        if (signal != 0) task.signalDelivered = true;
        if (syscallFilter != null && launched && task.pending == null && !task.everyEntry) {
            ptrace.resume(task.tid, signal);
        } else {
            ptrace.resumeToSyscall(task.tid, signal);
        }
    }

    /**
     * Pins the tracing thread to one of its CPUs, at random (concurrent deja runs spread): the program it
     * starts, and every process and thread of it, inherit the mask ({@link Tracer#onOneCpu}). Adopted
     * copies of a checkpoint were made on it already.
     */
    private static void onOneCpu() {
        List<Integer> cpus = Affinity.allowed(0);
        if (cpus.size() > 1) Affinity.pin(0, List.of(cpus.get(ThreadLocalRandom.current().nextInt(cpus.size()))));
    }

    // ---- the stop loop ----------------------------------------------------------------------

    private void loop() {
        int options = Wait.WALL | (alarmWanted ? Wait.WUNTRACED : 0);
        lastStopNanos = System.nanoTime();
        while (!tasks.isEmpty()) {
            if (orders && !held.isEmpty()) {
                releaseHeld();
                if (held.size() == tasks.size()) tracer.stalled();
            }
            if (later) {
                runQueued();
                settleDecisions();
            }
            if (stopRequested && attachPid != 0) {
                detachAll();
                break;
            }
            // The progress limit counts the program's time, not deja's: a stop whose handling took long (a
            // gigabyte copy of a mapped file) does not eat into the time the threads have to reach the next one.
            if (stopHandled) {
                lastStopNanos = System.nanoTime();
                stopHandled = false;
            }
            int tid;
            int status;
            int[] again = redelivered.poll();
            if (again != null) {
                tid = again[0];
                status = again[1];
            } else {
                if (awaiting.isEmpty()) {
                    if (alarmWanted) armAlarm();
                    tid = wait.waitpid(-1, options);
                } else {
                    tid = wait.waitpid(-1, options | Wait.WNOHANG);
                    if (tid == 0) {
                        awaitQueued();
                        continue;
                    }
                }
                if (tid < 0) break;
                status = wait.status();
            }
            if (alarm != null && tid == alarm.helperPid()) {
                if (Wait.stopped(status) && alarm.rang(tid)) onAlarm();
                continue;
            }
            stopHandled = true; // lastStopNanos restarts at the loop's top, once this stop is handled
            if (tid == wakeupPid) {
                wakeupPid = 0; // reaped: its death was the wake-up call (or it ended when deja is going)
                continue;
            }
            if (Wait.stopped(status)) stops++;
            Task task = tasks.get(tid);
            if (task == null && tid == rootPid && rootDetached && !Wait.stopped(status)) {
                reapedRoot(status);
                continue;
            }
            if (task == null) {
                // A new task can report its first stop before its parent's clone event.
                if (Wait.stopped(status)) {
                    task = new Task(tid, ProcFs.threadGroup(tid));
                    tasks.put(tid, task);
                    livePids.add(task.pid);
                    if (Wait.ptraceEvent(status) == Ptrace.EVENT_STOP) {
                        // Held in its first stop until its parent's event names it: the tracer always
                        // hears of a new task (onSpawn) before any of its syscalls.
                        task.awaitingSpawn = true;
                        continue;
                    }
                } else {
                    continue;
                }
            }
            if (!Wait.stopped(status)) {
                died(task, status);
                continue;
            }
            try {
                onStop(task, tid, status);
            } catch (NativeCallException e) {
                // ptrace answers ESRCH for a thread that left its stop: killed there (deja's own kill at Ctrl-C, a
                // sibling's exit_group, anyone's SIGKILL), its death is waitpid's next news. Else deja failed.
                if (e.errno() != ESRCH || !(stopRequested || killedInItsStop(task))) throw e;
            }
        }
    }

    /** One stop of a known thread, {@code status} as waitpid gave it, the thread still stopped. */
    private void onStop(Task task, int tid, int status) {
        int sig = Wait.stopSignal(status);
        int event = Wait.ptraceEvent(status);
        boolean afterSignal = task.signalDelivered;
        task.signalDelivered = false;
        if (task.ahead != null && aheadStop(task, sig, event)) return;
        if (buffers != null && launched && bufferStop(task, sig, event)) return;
        if (task.debugReinsert != 0) debugReinsert(task);
        if (task.maskBeforeHeldSignal != null) {
            if (sig == Signals.SIGTRAP && event == 0) {
                steppedWithHeldSignal(task);
                return;
            }
            releaseHeldSignal(task); // another stop came: it is taken as usual, the held signal comes after it
        }
        if (task.stepsToPoint > 0) {
            if (sig == Signals.SIGTRAP && event == 0) {
                preempted(task);
                return;
            }
            task.stepsToPoint = 0; // a signal or an event came instead: no preemption this time
            task.stepMaps = null;
        }
        if (task.matcher != null && matchStop(task, sig, event)) return;
        if (debug != null && event == 0 && watchStop(task, sig)) return;
        if (debug != null && sig == Signals.SIGTRAP && event == 0 && debugTrap(task)) return;
        if (oneStop && launched && sig == Signals.SIGTRAP && event == Ptrace.EVENT_SECCOMP) {
            seccompEntry(task);
            return;
        }
        if (emulates && launched && sig == Signals.SIGTRAP && event == Ptrace.EVENT_SECCOMP) {
            scheduledSeccompEntry(task);
            return;
        }
        int deliver = 0;
        if (sig == SYSCALL_STOP) {
            boolean serial = policy != null && launched;
            long exitValue = 0;
            boolean exitRead = false;
            if ((orders && launched) || serial) {
                MemorySegment info = syscallInfoUnlessDying(tid);
                if (info == null) return; // killed in its stop (a sibling's exit_group): its death comes next
                byte op = info.get(ValueLayout.JAVA_BYTE, 0);
                task.atEntry = op == Ptrace.SYSCALL_INFO_ENTRY;
                exitRead = op == Ptrace.SYSCALL_INFO_EXIT;
                if (exitRead) exitValue = info.get(ValueLayout.JAVA_LONG, 24);
            }
            if (serial && task.interruptSent && task.atEntry && !consumeInterrupt(task)) return;
            if (orders && launched) {
                if (!tracer.mayContinue(task, task.atEntry ? RunStop.ENTRY : RunStop.EXIT)) {
                    task.heldStop = task.atEntry ? RunStop.ENTRY : RunStop.EXIT;
                    held.add(task);
                    return;
                }
                if (!syscallStop(task)) return;
                task.started = true;
                killIfStopping(task);
                if (task.atEntry) {
                    goOnFromEntry(task);
                } else {
                    aheadAtExit(task);
                    resumeUser(task);
                }
                return;
            }
            if (serial && !task.atEntry && task.pending != null) {
                Pending call = task.pending;
                if (call.nr == nrMmap && (call.args[3] & MAP_TYPE) != MAP_PRIVATE_TYPE && (call.args[2] & PROT_WRITE) != 0
                        && (call.args[3] & MAP_ANONYMOUS) == 0) {
                    mappedShared(task, call);
                }
                task.exitKnown = exitRead;
                task.exitResult = exitValue;
                try {
                    serialExit(task);
                } finally {
                    task.exitKnown = false; // a thread that waits for its turn reads its stop again when it goes on
                }
                return;
            }
            if (!syscallStop(task)) return;
            if (serial && task.atEntry) {
                serialEntry(task);
                return;
            }
        } else if (sig == Signals.SIGTRAP && event == Ptrace.EVENT_STOP && (task.interruptSent || !task.started)
                && launched && (policy != null || orders)) {
            if (task.interruptSent) {
                task.interruptSent = false;
                if (policy != null && afterSignal) {
                    // The slice ended as a signal was delivered: the thread is on its handler's first instruction,
                    // whose stack holds the signal frame, and the frame's trapno, err and cr2 are the thread's last
                    // exception's, which a replay's breakpoints change; a point there was never found (python
                    // under an itimer and --chaos, 3 seeds of 4). No preemption here: the slice starts again.
                    running(unit(task), task);
                    resume(task, 0);
                } else if (policy != null) {
                    preempted(task);
                } else {
                    resume(task, 0); // a stale interrupt of a free run that ended otherwise
                }
                return;
            }
            firstStop(task);
            return;
        } else if (sig == Signals.SIGTRAP && event != 0) {
            if (!ptraceEvent(task, event)) return;
        } else if (event == Ptrace.EVENT_STOP) {
            if (Signals.isStopSignal(sig) && task.started) {
                ptrace.listen(tid); // group-stop: stay stopped as job control asked
                if (policy != null) {
                    Unit u = unit(task);
                    if (u.runner == task) {
                        u.runner = null;
                        schedule(u);
                    }
                }
                return;
            }
        } else if (sig == Signals.SIGSTOP && task.strayStops > 0) {
            task.strayStops--; // a free run's alarm that came late: not the program's
        } else if (sig == Signals.SIGTRAP && event == 0 && perfOpened && PerfEvents.isTrap(ptrace.siginfo(tid), PERF_MARKER)) {
            // a free run's task-clock trap sent as the run ended another way: not the program's
        } else {
            deliver = signalStop(task, sig);
            if (deliver == HELD_SIGNAL) return; // held back while the thread is stepped (holdsSignalToStep)
            if (deliver > 0 && buffers != null && buffers.containsKey(task.pid) && ProcFs.catches(task.pid, deliver)) {
                task.handlers++; // its handler's frame holds where the thread was: no patch there until it returns
            }
            if (policy != null && launched) {
                Unit u = unit(task);
                if (u.runner == null) running(u, task); // its handler runs user code
            }
        }
        task.started = true;
        killIfStopping(task);
        if (debug != null && sig == SYSCALL_STOP && task.pending == null && (task.debugStart || task.debugStopAfterCall)) {
            resumeUser(task); // back from a call (the program's execve, a stepped syscall): the debugger's stop first
            return;
        }
        if (deliver == 0 && sig == SYSCALL_STOP && task.pending == null && task.aheadRequest != null) aheadAtExit(task);
        if (deliver == 0 && answerableAtEntry(task)) goOnFromEntry(task);
        else if (deliver == 0 && sig == SYSCALL_STOP && task.pending == null && task.target != null) {
            resumeUser(task); // back from a real call (an rt_sigreturn) with a recorded point ahead: towards it
        } else resume(task, deliver);
    }

    /** After ESRCH from ptrace at one of its stops: whether the thread is gone or going (killed while it was stopped). */
    private static boolean killedInItsStop(Task task) {
        char state = ProcFs.taskState(task.pid, task.tid);
        if (state == 'X' || state == 'Z') return true;
        ProcFs.SignalState signals = ProcFs.signals(task.pid, task.tid);
        return signals == null || (signals.pending() & 1L << (Signals.SIGKILL - 1)) != 0;
    }

    /**
     * A seccomp stop under the every-call filter of {@link #oneStop}: a call's entry. Unless the thread
     * was at that call's entry already (a plain entry stop, after a syscall injected there, left with
     * PTRACE_SYSCALL): then this stop adds nothing and it goes on to the call's exit.
     */
    private void seccompEntry(Task task) {
        if (task.pending != null) {
            resume(task, 0);
            return;
        }
        task.aheadRequest = null; // one given at a stop before that never went in (the thread ran towards a point)
        task.atEntry = true;
        if (orders && !tracer.mayContinue(task, RunStop.ENTRY)) {
            task.heldStop = RunStop.ENTRY;
            held.add(task);
            return;
        }
        if (!syscallStop(task, true)) return;
        task.started = true;
        killIfStopping(task);
        goOnFromEntry(task);
    }

    /**
     * Whether the call {@code task} is entering is answered there, under {@link #oneStop}: the tracer
     * skips it, and its result is no restart code (the kernel restarts a call only when its number is
     * still in orig_rax at the exit, which a skipped call's -1 is not: those get their exit stop).
     */
    private boolean answerableAtEntry(Task task) {
        Pending p = task.pending;
        return oneStop && p != null && (p.flags & SyscallEvent.SKIPPED) != 0 && !Errno.restartResult(p.skipResult);
    }

    /**
     * From a syscall's entry stop, the call decided: one answered there is over at once (its exit
     * handled now, no exit stop), once the tracer's order lets its exit go (else the thread is held
     * where it is, its registers set); any other call goes on to its exit stop.
     */
    private void goOnFromEntry(Task task) {
        if (!answerableAtEntry(task)) {
            task.aheadRequest = null;
            resume(task, 0);
            return;
        }
        if (orders && !tracer.mayContinue(task, RunStop.EXIT)) {
            task.heldStop = RunStop.EXIT;
            task.answeredAtEntry = true;
            held.add(task);
            return;
        }
        returnAtEntry(task);
        if (!afterAnswerAtEntry(task)) return;
        resumeUser(task);
    }

    /**
     * After a call answered at its entry: the answers the tracer gave ahead go in, or the thread goes on
     * to the call's exit stop first when it runs towards a recorded point (see {@link #toExitStop}).
     * False when it died on the way.
     */
    private boolean afterAnswerAtEntry(Task task) {
        java.util.List<AnswerStub.Entry> answers = task.aheadRequest;
        task.aheadRequest = null;
        if (task.target != null) return toExitStop(task);
        if (answers == null) return true;
        if (!toExitStop(task)) return false;
        installAhead(task, answers);
        return true;
    }

    /**
     * At a real call's exit stop (a call made for real, {@code rt_sigaction} in posix_spawn's child): the answers
     * the tracer gave ahead there go in before the thread goes on.
     */
    private void aheadAtExit(Task task) {
        java.util.List<AnswerStub.Entry> answers = task.aheadRequest;
        task.aheadRequest = null;
        if (answers != null && task.target == null && task.ahead == null) installAhead(task, answers);
    }

    /** The answers ahead put in for a thread at a call's exit stop (see {@link AheadAnswers#install}). */
    private void installAhead(Task task, java.util.List<AnswerStub.Entry> answers) {
        long[] regs = ptrace.getRegsArray(task.tid);
        long site = regs[X86Regs.RIP] - 2;
        byte[] insn = new byte[2];
        if (task.memory.read(site, insn, 0, 2) != 2 || insn[0] != 0x0f || insn[1] != 0x05) return;
        task.ahead = AheadAnswers.install(ptrace, wait, task.tid, task.pid, task.memory, (a, b) -> writeCode(task, a, b),
                syscallInstruction(task), site, aheadSites(task.pid),
                siteFunctions.computeIfAbsent(task.pid, k -> new HashMap<>()), aheadStubs, regs, answers, aheadMarker,
                DEBUG_MATCH);
        if (task.ahead != null) aheadRuns++;
    }

    /**
     * A stop of a thread with answers ahead in place: the tracer first hears how many it took; at a call's
     * entry the stub goes (see {@link AheadAnswers}) and the thread issues its call again, which is then
     * handled as any (true: this stop is over). Other stops keep the stub: a signal's handler runs, and
     * its own calls take it out.
     */
    private boolean aheadStop(Task task, int sig, int event) {
        AheadAnswers a = task.ahead;
        int taken = a.taken(task.memory);
        if (taken < 0) {
            throw new DeviceException("tid " + task.tid + ": cannot read where its answer stubs at 0x"
                    + Long.toHexString(a.region()) + " stand");
        }
        if (taken > a.reported) {
            int n = taken - a.reported;
            a.reported = taken;
            answeredAhead += n;
            tracer.answeredAhead(task, n);
        }
        if (event == 0 && (sig == SIGSEGV || sig == SIGBUS)) {
            // A fault in a stub's copy of outputs (where the kernel would have failed the call): the call is made
            // again at the stub's syscall instruction, and met at its stop as any other; the signal is not the program's.
            long[] remade = a.remakeFaultedCall(ptrace.getRegsArray(task.tid), task.memory);
            if (remade != null) {
                ptrace.setRegs(task.tid, remade);
                resume(task, 0);
                return true;
            }
        }
        if (event == Ptrace.EVENT_EXIT) {
            task.ahead = null; // the process ends (one thread): its memory goes with it
            return false;
        }
        if (!(sig == Signals.SIGTRAP && event == Ptrace.EVENT_SECCOMP)) return false;
        task.ahead = null;
        long[] regs = ptrace.getRegsArray(task.tid);
        a.putCodeBack(task.memory, (x, b) -> writeCode(task, x, b));
        ptrace.setRegs(task.tid, a.unmapping(regs));
        if (!ptrace.resumeToSyscall(task.tid, 0)) return true;
        int got = wait.waitpid(task.tid, Wait.WALL);
        int status = wait.status();
        if (got == task.tid && !Wait.stopped(status)) {
            died(task, status);
            return true;
        }
        if (got != task.tid || Wait.stopSignal(status) != SYSCALL_STOP) {
            throw new DeviceException("tid " + task.tid + " did not reach the exit of its answer stub's munmap"
                    + " (wait status 0x" + Integer.toHexString(status) + ")");
        }
        stops++;
        ptrace.setRegs(task.tid, a.reissuing(regs));
        resume(task, 0);
        return true;
    }

    /**
     * Recording, any stop of a thread whose process has a call buffer ({@link CallBuffer}): the calls it made
     * in the stubs since its last stop are recorded first, in order, as if each had stopped. Then a signal
     * (or a slice's interrupt) that found the thread inside a stub is held until the thread is out: blocked
     * and queued again, the thread let go to the stub's int3 (the trap word set) or stepped out; there the
     * mask goes back and the signal comes at the program's own code. True when this stop is over.
     */
    private boolean bufferStop(Task task, int sig, int event) {
        CallBuffer b = buffers.get(task.pid);
        // A threaded process's buffer was emptied for good when its code went back: its stops cost nothing more.
        if (b == null || !b.mapped() || b.drained() && event != Ptrace.EVENT_EXEC) return false;
        if (event == Ptrace.EVENT_EXEC) {
            buffers.remove(task.pid); // the stubs went with the old memory, emptied at the execve's entry
            return false;
        }
        // At a call's exit stop the thread has been in the kernel since the call's entry stop, where the buffer
        // was read: nothing can have come in since (one process_vm_readv less a stopped call).
        boolean exitOfCall = sig == SYSCALL_STOP && event == 0 && task.pending != null && !task.everyEntry;
        if (!exitOfCall) flushBuffer(task, b);
        if (event == Ptrace.EVENT_EXIT) return false;
        if (task.bufferHeld) {
            if (sig == Signals.SIGTRAP && event == 0) {
                long[] regs = regsUnlessDying(task.tid);
                if (regs == null) return false;
                if (b.stubAt(regs[X86Regs.RIP]) != null) {
                    b.trap(false, (a, x) -> writeCode(task, a, x));
                    ptrace.singleStep(task.tid, 0);
                    return true;
                }
                releaseBufferHold(task, b);
                resume(task, 0);
                return true;
            }
            releaseBufferHold(task, b); // the traced call's stop, or another: handled as usual, the signal after it
            return false;
        }
        boolean signal = event == 0 && sig != SYSCALL_STOP && sig != Signals.SIGKILL && sig != Signals.SIGSTOP;
        boolean interrupt = event == Ptrace.EVENT_STOP && task.interruptSent;
        if (!signal && !interrupt || task.stepsToPoint > 0 || task.maskBeforeHeldSignal != null) return false;
        long[] regs = regsUnlessDying(task.tid);
        if (regs == null) return false;
        long rip = regs[X86Regs.RIP];
        dev.deja.device.x86.BufferStub stub = b.stubAt(rip);
        if (stub == null) return false;
        if (sig == Signals.SIGTRAP && stub.afterMappingTrap(rip)) {
            // The stub's trap after it mapped a file: the buffer was read above, the file copied through the
            // descriptor the program has not closed yet; on to the program's code.
            resume(task, 0);
            return true;
        }
        dev.deja.device.x86.BufferStub.Exit exit = stub.exitFrom(rip);
        if (exit == dev.deja.device.x86.BufferStub.Exit.AT_CALL) {
            // At the stub's traced call, as at the program's: back on the program's code when nothing follows it there.
            if (signal && rip == stub.tracedSyscall() + 2 && stub.tailless() && !Errno.restartResult(regs[X86Regs.RAX])) {
                regs[X86Regs.RIP] = stub.syscallAddress() + 2;
                regs[X86Regs.RCX] = stub.syscallAddress() + 2;
                ptrace.setRegs(task.tid, regs);
            }
            return false;
        }
        if (signal) {
            byte[] info = ptrace.siginfo(task.tid);
            int code = ByteBuffer.wrap(info).order(ByteOrder.LITTLE_ENDIAN).getInt(8);
            if (Signals.raisedByFault(sig, code)) {
                throw new DeviceException("pid " + task.pid + " tid " + task.tid + ": signal " + sig + " (code " + code
                        + ") in the call buffer's stub at 0x" + Long.toHexString(rip));
            }
            long mask = ptrace.sigMask(task.tid);
            ptrace.setSigMask(task.tid, mask | 1L << (sig - 1));
            task.bufferHeldMask = mask;
        }
        task.bufferHeld = true;
        task.bufferInterruptHeld = interrupt;
        int queued = signal ? sig : 0; // blocked: queued again, delivered once the mask is back
        if (exit == dev.deja.device.x86.BufferStub.Exit.TRAP) {
            b.trap(true, (a, x) -> writeCode(task, a, x));
            clearTrapFlag(task);
            ptrace.resume(task.tid, queued);
        } else {
            ptrace.singleStep(task.tid, queued);
        }
        return true;
    }

    /** The signal held while a thread left a buffer stub comes now: its mask back (an interrupt sent again). */
    private void releaseBufferHold(Task task, CallBuffer b) {
        task.bufferHeld = false;
        b.trap(false, (a, x) -> writeCode(task, a, x));
        clearTrapFlag(task);
        if (task.bufferHeldMask != null) {
            long mask = task.bufferHeldMask;
            task.bufferHeldMask = null;
            try {
                ptrace.setSigMask(task.tid, mask);
            } catch (NativeCallException e) {
                if (e.errno() != ESRCH) throw e; // killed in its stop: its death comes next
            }
        }
        if (task.bufferInterruptHeld) {
            task.bufferInterruptHeld = false;
            task.interruptSent = ptrace.interrupt(task.tid);
        }
    }

    /**
     * The trap flag off in a thread that was single-stepped: a step over a popf leaves it to the program
     * (the kernel no longer knows it set it), and a signal frame then keeps it, to trap after the handler.
     */
    private void clearTrapFlag(Task task) {
        long[] regs = regsUnlessDying(task.tid);
        if (regs == null || (regs[X86Regs.EFLAGS] & TRAP_FLAG) == 0) return;
        regs[X86Regs.EFLAGS] &= ~TRAP_FLAG;
        ptrace.setRegs(task.tid, regs);
    }

    private static final long TRAP_FLAG = 0x100;

    /** Records the calls {@code task} made in its process's buffer stubs since its last stop. */
    private void flushBuffer(Task task, CallBuffer b) {
        List<dev.deja.device.x86.BufferStub.Entry> entries = b.take(task.memory, (a, x) -> writeCode(task, a, x),
                () -> {
                    long[] regs = regsUnlessDying(task.tid);
                    return regs == null ? 0 : regs[X86Regs.RIP];
                });
        for (dev.deja.device.x86.BufferStub.Entry e : entries) {
            dev.deja.device.x86.BufferStub.Plan plan = bufferPlans.get(e.nr());
            if (plan == null) {
                throw new DeviceException("pid " + task.pid + ": the call buffer holds call " + e.nr() + ", which no stub makes");
            }
            TraceeMemory given = kept(e, plan.outIsInput() ? plan.outArg() : plan.pathArg(), plan.inArg());
            TraceeMemory written = plan.outIsInput() ? kept(e, -1, -1) : kept(e, plan.outArg(), -1);
            List<MemoryBlock> inputs = capture.inputs(e.nr(), e.args(), given);
            List<MemoryBlock> outputs = capture.outputs(e.nr(), e.args(), e.result(), inputs, written);
            long time = now();
            tracer.onSyscall(new SyscallEvent(++seq, task.pid, task.tid, time, time, e.nr(), e.args(), inputs, e.result(),
                    outputs, capture.flags(e.nr(), e.args())), task);
            if (mapsFile(e.nr(), e.args(), e.result())) {
                // The stub trapped right after it (nothing of the program ran since): the descriptor is the file mapped
                mapped(task, e.result(), e.args());
                continue; // one stop: not among the calls recorded without one
            }
            bufferedCalls++;
            if (e.nr() == nrClose) {
                b.closedInStub(e.args()[0]);
                if (emulator != null) emulator.entering(task.pid, e.nr()); // its copies of descriptors go back
            } else if ((e.nr() == nrOpen || e.nr() == nrOpenat) && e.result() >= 0 && e.result() < CallBuffer.MAX_MARKED) {
                // As deja finds it now: a later call of the buffer may have closed it (its mark then goes too).
                b.opened((int) e.result(), emulator != null && emulator.nonBlocking(task.pid, (int) e.result()),
                        (a, x) -> writeCode(task, a, x));
            }
        }
    }

    /**
     * The memory a buffered call's blocks at arguments {@code arg} and {@code other} show, as the stub copied
     * them (nothing else is readable; -1: none).
     */
    private static TraceeMemory kept(dev.deja.device.x86.BufferStub.Entry e, int arg, int other) {
        List<dev.deja.device.x86.BufferStub.Block> blocks = new ArrayList<>(2);
        for (dev.deja.device.x86.BufferStub.Block k : e.blocks()) if (k.arg() == arg || k.arg() == other) blocks.add(k);
        if (blocks.isEmpty()) return (address, dst, off, len) -> 0;
        return (address, dst, off, len) -> {
            for (dev.deja.device.x86.BufferStub.Block k : blocks) {
                byte[] data = k.data();
                long skip = address - e.args()[k.arg()];
                if (skip < 0 || skip >= data.length) continue;
                int n = (int) Math.min(len, data.length - skip);
                System.arraycopy(data, (int) skip, dst, off, n);
                return n;
            }
            return 0;
        };
    }

    /** Whether {@link #patchBuffer} would patch at this thread's next exit stop. */
    private boolean patchesAtExit(Task task) {
        CallBuffer b = buffers.get(task.pid);
        return b != null && b.wantsPatching() && !b.offForGood && !b.sharedWithChild && task.handlers == 0
                && !task.everyEntry && !unit(task).threaded;
    }

    /**
     * Recording, at a call's exit stop: the calls seen at syscall instructions not patched yet get their stubs
     * (the region mapped first), while the process may buffer: one thread, no memory or descriptor table
     * shared. Then the data page says on or off as the process may now.
     */
    private void patchBuffer(Task task) {
        CallBuffer b = buffers.get(task.pid);
        if (b == null) return;
        InThreadGuard.CodeWriter code = (a, x) -> writeCode(task, a, x);
        // Shares memory with another process now, or runs under a filter of its own (see syscallEntered).
        if (b.lent && (unit(task).threaded || task.everyEntry)) {
            b.offForGood = true; // the code is its parent's, which gets it back as it left it
        } else if (unit(task).threaded || task.everyEntry) {
            b.unpatch(task.memory, code);
        }
        boolean may = !b.offForGood && !b.sharedWithChild;
        if (may && task.handlers == 0 && b.wantsPatching()) {
            long[] regs = ptrace.getRegsArray(task.tid);
            // A call the kernel will issue again at its syscall instruction, which a patch may cover: later.
            if (Errno.restartResult(regs[X86Regs.RAX])) return;
            if (!b.mapped()) {
                CallBuffer m = b.map(ptrace, wait, task.tid, task.pid, syscallInstruction(task), regs[X86Regs.RIP], code);
                if (m == null) {
                    b.offForGood = true;
                    return;
                }
                buffers.put(task.pid, m);
                b = m;
            }
            b.patch(task.memory, InThreadGuard.maps(task.pid), siteFunctions.computeIfAbsent(task.pid, k -> new HashMap<>()),
                    code, bufferPlans, bufferMarker, ptrace, task.tid, regs, knownSites, DEBUG_MATCH);
        }
        b.turn(may, code);
        b.noneServed(emulator != null && !emulator.anyServed(), code);
    }

    /**
     * Recording, a call's entry in a process with a call buffer: a descriptor closed or replaced is unmarked
     * before the call (a later descriptor of that number may be a pipe); a clone that shares the process's
     * memory or descriptor table turns the buffer off first (a thread, a vfork child: one buffer per process).
     */
    private void bufferEntering(Task task, int nr, long[] args) {
        CallBuffer b = buffers.get(task.pid);
        long flags = 0;
        if (nr == nrClone || nr == nrClone3 || nr == nrVfork) {
            flags = nr == nrClone ? args[0] : nr == nrVfork ? CLONE_VM | CLONE_VFORK : 0;
            byte[] word = new byte[8];
            if (nr == nrClone3 && args[0] != 0 && task.memory.read(args[0], word, 0, 8) == 8) {
                flags = ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getLong();
            }
            // Its child runs in this memory: no buffer of its own there (see bufferSpawned).
            task.cloningMemory = (flags & CLONE_VM) != 0 && (flags & CLONE_THREAD) == 0;
        }
        if (b == null || !b.mapped()) return;
        InThreadGuard.CodeWriter code = (a, x) -> writeCode(task, a, x);
        if (nr == nrClose) {
            b.unmark(args[0], args[0], code);
        } else if (nr == nrCloseRange) {
            b.unmark(args[0] & 0xffffffffL, args[1] & 0xffffffffL, code);
        } else if (nr == nrDup2 || nr == nrDup3) {
            b.unmark(args[1], args[1], code);
        } else if (nr == nrClone || nr == nrClone3 || nr == nrVfork) {
            if ((flags & (CLONE_VM | CLONE_FILES | CLONE_THREAD)) == 0) return;
            if ((flags & (CLONE_VM | CLONE_VFORK | CLONE_THREAD | CLONE_FILES)) == (CLONE_VM | CLONE_VFORK)) {
                // A vfork child runs in this memory until it execs or ends, while the process waits: off till then.
                b.turn(false, code);
                b.sharedWithChild = true;
            } else {
                // A thread, or a child sharing the memory or the descriptors: the program's code back, for good.
                b.unpatch(task.memory, code);
            }
        }
    }

    /** Recording, a call returned at its exit stop: a file opened is marked for the stubs' reads; a vfork child let go. */
    private void bufferCallReturned(Task task, Pending p, long result) {
        CallBuffer b = buffers.get(task.pid);
        if (b == null || !b.mapped()) return;
        if (p.nr == nrClone || p.nr == nrClone3 || p.nr == nrVfork) {
            if (b.sharedWithChild) b.takeBack((a, x) -> writeCode(task, a, x));
            b.sharedWithChild = false;
        } else if ((p.nr == nrOpen || p.nr == nrOpenat || p.nr == nrOpenat2 || p.nr == nrCreat) && result >= 0
                && result < CallBuffer.MAX_MARKED && emulator != null && emulator.nonBlocking(task.pid, (int) result)) {
            b.mark((int) result, (a, x) -> writeCode(task, a, x));
        }
    }

    /**
     * A forked child has a copy of its parent's memory, stubs and buffer (emptied at the fork's entry) included.
     * A vfork child, which runs in its parent's memory while the parent waits, borrows the parent's buffer
     * ({@link CallBuffer#lentToChild}: posix_spawn's child resets every signal's action before its exec) and
     * patches nothing: a region it mapped or code it patched would be its parent's once it execs. A child that
     * shares the memory otherwise gets none (the code went back at the clone's entry).
     */
    private void bufferSpawned(Task parent, Task child, SpawnEvent.Kind kind) {
        if (kind == SpawnEvent.Kind.VFORK || parent.cloningMemory) sharingParentMemory.add(child.pid);
        child.handlers = parent.handlers; // forked in a handler: its frames are the child's too
        CallBuffer b = buffers.get(parent.pid);
        if (b == null || !b.mapped()) return;
        if (kind == SpawnEvent.Kind.VFORK && b.sharedWithChild && !b.offForGood && !b.lent) {
            CallBuffer lent = b.lentToChild();
            buffers.put(child.pid, lent);
            lent.turn(true, (a, x) -> writeCode(child, a, x));
            return;
        }
        // CLONE_VFORK without CLONE_VM: a copy of the memory, stubs and an enabled buffer included, as a fork's.
        if (b.sharedWithChild || parent.cloningMemory) return;
        CallBuffer copy = b.forChild();
        buffers.put(child.pid, copy);
        if (unit(child).threaded) copy.unpatch(child.memory, (a, x) -> writeCode(child, a, x));
    }

    /** The exit of the skipped call {@code task} is at the entry of, without a stop: number and result are set. */
    private void returnAtEntry(Task task) {
        answeredAtEntry++;
        callReturned(task, task.pending.skipResult, true);
    }

    /**
     * Takes a thread whose skipped call was answered at its entry on to that call's exit stop, before it
     * runs towards a recorded preemption point: the search for the point (a guard page mapped through an
     * injected syscall, a single step) starts from a stop after the call, as it always has (from the entry
     * stop, the kernel would first finish the skipped call: an injection's first stop, or a step's trap,
     * would be that call's end). False when the thread died instead (a sibling's exit_group): its death is handled.
     */
    private boolean toExitStop(Task task) {
        if (!ptrace.resumeToSyscall(task.tid, 0)) return false;
        int got = wait.waitpid(task.tid, Wait.WALL);
        int status = wait.status();
        if (got == task.tid && Wait.stopped(status) && Wait.stopSignal(status) == SYSCALL_STOP) {
            stops++;
            return true;
        }
        if (got == task.tid && !Wait.stopped(status)) {
            died(task, status);
            return false;
        }
        throw new DeviceException("tid " + task.tid + " did not reach the exit of the call answered at its entry"
                + " (wait status 0x" + Integer.toHexString(status) + ")");
    }

    /** A new thread's first stop: it would run its first user code now, if the order allows. */
    private void firstStop(Task task) {
        if (policy != null) {
            wantsToRun(task, RunStop.START);
            return;
        }
        if (orders && !tracer.mayContinue(task, RunStop.START)) {
            task.heldStop = RunStop.START;
            held.add(task);
            return;
        }
        task.started = true;
        killIfStopping(task);
        resumeUser(task);
    }

    /** Lets held threads go, in the order they stopped, as long as the tracer allows one. */
    private void releaseHeld() {
        boolean moved = true;
        while (moved) {
            moved = false;
            for (int i = 0; i < held.size(); i++) {
                Task t = held.get(i);
                if (!tracer.mayContinue(t, t.heldStop)) continue;
                held.remove(i);
                RunStop stop = t.heldStop;
                t.heldStop = null;
                if (t.answeredAtEntry) {
                    t.answeredAtEntry = false;
                    returnAtEntry(t);
                    if (!afterAnswerAtEntry(t)) {
                        moved = true;
                        break;
                    }
                } else if (stop == RunStop.ENTRY || stop == RunStop.EXIT) {
                    syscallStop(t);
                }
                t.started = true;
                killIfStopping(t);
                if (stop == RunStop.ENTRY) {
                    goOnFromEntry(t);
                } else {
                    if (stop == RunStop.EXIT) aheadAtExit(t);
                    resumeUser(t);
                }
                moved = true;
                break;
            }
        }
    }

    // ---- the recording scheduler: one thread of a process runs user code at a time -------------

    /** The threads of one thread group, under {@link #policy}. */
    private static final class Unit {
        /** The thread running user code (let go from a stop, not yet stopped again), or null. */
        Task runner;
        /** Threads held at a stop until they may run user code, in the order they came. */
        final List<Task> waiting = new ArrayList<>();
        /** Whether the group ever had a second thread: only then is CPU time read at each release. */
        boolean threaded;
    }

    private Unit unit(Task t) {
        return units.computeIfAbsent(t.pid, k -> new Unit());
    }

    /**
     * A process mapped a file shared and writable: the processes that map the same file (a /dev/shm
     * segment, a semaphore) share memory and take turns as one unit from now on. Not merged when both
     * units have a thread running user code at this moment (then their accesses stay unordered).
     */
    private void mappedShared(Task task, Pending p) {
        String id = ProcFs.fileIdentity(task.pid, (int) p.args[4]);
        if (id == null) return;
        Unit mine = unit(task);
        Unit other = sharedFiles.putIfAbsent(id, mine);
        if (other == null || other == mine) return;
        if (other.runner != null && mine.runner != null) return;
        other.threaded = true;
        other.waiting.addAll(mine.waiting);
        if (other.runner == null) other.runner = mine.runner;
        units.replaceAll((pid, u) -> u == mine ? other : u);
        sharedFiles.replaceAll((file, u) -> u == mine ? other : u);
    }

    /** An exec replaced the process's memory: it no longer shares any, and takes turns on its own. */
    private void leaveSharedUnit(Task task) {
        Unit u = units.get(task.pid);
        if (u == null || units.values().stream().filter(x -> x == u).count() < 2) return;
        Unit own = new Unit();
        units.put(task.pid, own);
        if (u.waiting.remove(task)) own.waiting.add(task);
        if (u.runner == task) {
            own.runner = task;
            u.runner = null;
            schedule(u);
        }
    }

    private void running(Unit u, Task t) {
        u.runner = t;
        t.keptTurn = false;
        t.sliceCheckAt = 0;
        t.releasedAt = System.nanoTime();
        // Read only while another thread waits (a slice can run out); else when one begins to.
        t.cpuAtRelease = u.threaded && !u.waiting.isEmpty() ? ProcFs.cpuNs(t.pid, t.tid) : -1;
        t.cpuAtCallExit = -1;
    }

    /** {@code t} is at a stop from which it would run user code: it runs now if nobody else does, else waits. */
    private void wantsToRun(Task t, RunStop stop) {
        Unit u = unit(t);
        if (u.runner == t) u.runner = null;
        t.heldStop = stop;
        u.waiting.add(t);
        Task r = u.runner;
        // Its slice counts from here on (a later start makes the recorded run time shorter: safe on replay).
        if (r != null && r.cpuAtRelease < 0 && u.threaded) {
            // /proc's figure for a running thread lags by up to a tick: count that tick as not run.
            r.cpuAtRelease = ProcFs.cpuNs(r.pid, r.tid) + TICK_LAG_NS;
        }
        schedule(u);
    }

    /** Recording: the thread entered {@code exit}; it keeps its unit's turn until it is gone (see syscall entry). */
    private boolean inExit(Task t) {
        return t.pending != null && t.pending.nr == nrExit;
    }

    /** While nobody runs user code in {@code u}: lets the thread the policy picks go. */
    private void schedule(Unit u) {
        while (u.runner == null && !u.waiting.isEmpty()) {
            int pick = policy.pick(tids(u.waiting));
            Task t = u.waiting.getFirst();
            for (Task w : u.waiting) if (w.tid == pick) t = w;
            u.waiting.remove(t);
            release(u, t);
        }
    }

    private static List<Integer> tids(List<Task> ts) {
        List<Integer> tids = new ArrayList<>(ts.size());
        for (Task w : ts) tids.add(w.tid);
        return tids;
    }

    private void release(Unit u, Task t) {
        running(u, t);
        goOn(t);
    }

    /** A thread let run user code ({@link #running} done) goes on from the stop it waited at. */
    private void goOn(Task t) {
        RunStop stop = t.heldStop;
        t.heldStop = null;
        switch (stop) {
            case EXIT -> {
                if (t.answeredAtEntry) {
                    t.answeredAtEntry = false;
                    returnAtEntry(t);
                } else {
                    if (t.exitKnown) {
                        t.exitKnown = false;
                        if (t.pending != null) callReturned(t, t.exitResult, false);
                    } else {
                        syscallStop(t);
                    }
                    if (buffers != null && tasks.containsKey(t.tid) && t.pending == null) patchBuffer(t);
                }
            }
            case START -> tracer.onSchedule(dev.deja.formats.event.ScheduleEvent.start(++seq, t.pid, t.tid, now()));
            case PREEMPTED -> {
                var p = t.preemption;
                t.preemption = null;
                tracer.onSchedule(new dev.deja.formats.event.ScheduleEvent(p.seq(), p.pid(), p.tid(), p.timeNs(),
                        p.scheduleKind(), now(), p.registers(), p.stackHash(), p.deeperStackHash(), p.runNs(),
                        p.memoryMask(), p.memoryPointers(), p.memoryHash(), p.memoryDeepHash()));
            }
            case ENTRY -> throw new IllegalStateException("a thread at a syscall entry does not wait to run");
        }
        t.started = true;
        killIfStopping(t);
        resume(t, 0);
    }

    /**
     * Recording, a call entered (its entry handled): into the kernel, where it no longer runs user code and
     * another thread of its process may; or, when deja performed it at its seccomp stop ({@link #EMULATED}),
     * over at once, as a call that returned the moment it entered.
     */
    private void serialEntry(Task task) {
        Unit u = unit(task);
        task.started = true;
        killIfStopping(task);
        if (u.runner == task && inExit(task)) {
            // The kernel clears the thread's tid word (CLONE_CHILD_CLEARTID) on its way out, and code
            // reads that word with no call (glibc's pthread_create reuses a dead thread's cached stack
            // only once it is cleared): the others run user code once it is gone, so the recorded
            // order of steps (its end before their next) says when the word was cleared.
            resume(task, 0);
            return;
        }
        boolean emulated = task.pending != null && (task.pending.flags & EMULATED) != 0;
        // sched_yield asks for the others to run first: it never keeps the turn (a JVM thread spinning
        // on yield for another's progress otherwise ran 400 000 yields while chaos held the other).
        boolean yields = u.runner == task && !u.waiting.isEmpty() && task.pending != null
                && task.pending.nr == nrSchedYield;
        if (yields) policy.yielded(task.tid, tids(u.waiting));
        boolean keep = u.runner == task && !u.waiting.isEmpty() && !yields
                && policy.keepsTurn(task.tid, tids(u.waiting));
        if (!emulated) resume(task, 0);
        if (keep) {
            task.keptTurn = true;
            task.enteredAt = System.nanoTime();
        } else if (u.runner == task) {
            u.runner = null;
            schedule(u);
        }
        if (emulated) {
            task.answeredAtEntry = true; // its exit is handled when it goes on (release)
            serialExit(task);
        }
    }

    /** Recording: a thread back from a call would run user code again: it goes on, or waits for its turn. */
    private void serialExit(Task task) {
        Unit u = unit(task);
        if (u.runner == task && task.keptTurn) {
            // Back from a call it kept its turn through: it goes on, the others still wait, and its slice goes on
            // too, not restarted as at a release (a thread calling faster than its slice kept the others waiting
            // for ever).
            task.keptTurn = false;
            task.heldStop = RunStop.EXIT;
            // A preemption's run counts from here: replay seeks the point from the thread's last call.
            if (task.cpuAtRelease >= 0) task.cpuAtCallExit = ProcFs.cpuNs(task.pid, task.tid);
            goOn(task);
        } else {
            wantsToRun(task, RunStop.EXIT);
        }
    }

    /**
     * Recording ({@link #emulates}): a seccomp stop, a call's entry. A slice's interrupt sent as the thread
     * entered it is consumed first (the thread is then at the call's plain entry stop, and goes on to this
     * seccomp stop again); then the call is recorded as entered, performed here when it can be, and the
     * scheduler takes it as any call's entry.
     */
    private void scheduledSeccompEntry(Task task) {
        if (task.pending != null) {
            resume(task, 0);
            return;
        }
        task.atEntry = true;
        if (task.interruptSent) {
            if (consumeInterrupt(task)) ptrace.resume(task.tid, 0);
            return;
        }
        if (!syscallStop(task, true)) return;
        serialEntry(task);
    }

    /** The running thread stopped at the interrupt its time slice asked for: a recorded preemption. */
    private void preempted(Task t) {
        Unit u = unit(t);
        if (u.runner != t) {
            resume(t, 0);
            return;
        }
        long[] regs = ptrace.getRegsArray(t.tid);
        // The CPU time the thread ran is read at the interrupt, before any step towards a guardable instruction: a
        // step costs the thread tens of microseconds of kernel time (the trap and its signal) for one instruction of
        // progress, and 64 of them made a point's recorded run milliseconds too long, so that replay's first free
        // run, sized by it, went past the point (node, a loop in V8's JIT code). An underestimate is safe.
        if (t.stepsToPoint == 0) t.cpuAtInterrupt = t.cpuAtRelease < 0 ? -1 : ProcFs.cpuNs(t.pid, t.tid);
        if (stepTowardsGuardable(t, regs[X86Regs.RIP])) return;
        // From the slice's start or, if later, the thread's last call: replay seeks the point from its last event,
        // and its first free run is a share of this (one counted from a slice's start before a few calls went past
        // a point in JIT code in the flaky-cache fork, 1 replay in 2).
        long since = Math.max(t.cpuAtRelease, t.cpuAtCallExit);
        long cpu = t.cpuAtRelease < 0 || t.cpuAtInterrupt < 0 ? 0 : Math.max(0, t.cpuAtInterrupt - since);
        t.preemption = pointEvent(t, regs, cpu, false);
        u.runner = null;
        t.heldStop = RunStop.PREEMPTED;
        // The end of a slice lets a waiting thread run: the policy picks among the others (a chaos policy that
        // picked the preempted thread again by its priority kept a spinning thread running while the one it
        // waited for never ran); with nobody else waiting it goes on.
        schedule(u);
        u.waiting.add(t);
        schedule(u);
    }

    /** How many instructions a preempted thread is stepped, at most, to reach one a guard can patch. */
    private static final int MAX_STEPS_TO_POINT = 64;

    /**
     * Recording: a thread preempted at an instruction replay's guard cannot patch is single-stepped
     * to the next one it can ({@link InThreadGuard#guardable}: in a module, one the function's
     * branches let a jump cover, in a function that jumps through no register table or at an
     * instruction of 5 bytes or more; in code outside any module, a JIT's, one of 5 bytes or more
     * with no branch and no immediate), so that replay reaches the point with the stub, a few
     * nanoseconds a pass, instead of a free run and a trap a pass, whose speed estimate a loaded
     * machine can fool into running past the point. The point is recorded at that instruction; the
     * steps are as if the interrupt had come later. Returns whether a step is under way (its trap
     * comes back here through {@link #preempted}); any other stop ends the stepping (the thread goes
     * on as it was, and is preempted at a later slice).
     */
    private boolean stepTowardsGuardable(Task t, long rip) {
        if (!stepsOn(t, rip)) return false;
        ptrace.singleStep(t.tid, 0);
        return true;
    }

    /**
     * Whether thread {@code t}, at {@code rip}, is to be single-stepped on towards an instruction a guard can
     * patch: the one at rip is not guardable, is steppable, and the stepping (its first step, or one of at most
     * {@link #MAX_STEPS_TO_POINT}) has steps left. Counts the step; when not, the stepping is over (none in
     * reach: replay runs free and traps at this one).
     */
    private boolean stepsOn(Task t, long rip) {
        if (!InThreadGuard.ENABLED) return false;
        byte[] read = new byte[dev.deja.device.x86.X86Decoder.MAX_LENGTH];
        int n = t.memory.read(rip, read, 0, read.length);
        // The maps are read once a stepping: a step runs no syscall, so no code is mapped meanwhile.
        if (t.stepsToPoint == 0) t.stepMaps = InThreadGuard.maps(t.pid);
        boolean on = n > 0 && !InThreadGuard.guardable(t.stepMaps, t.memory, rip)
                && steppable(Arrays.copyOf(read, n))
                && (t.stepsToPoint == 0 || --t.stepsToPoint > 0);
        if (!on) {
            t.stepsToPoint = 0;
            t.stepMaps = null;
        } else if (t.stepsToPoint == 0) {
            t.stepsToPoint = MAX_STEPS_TO_POINT;
        }
        return on;
    }

    /**
     * Whether a single step over the instruction at the start of {@code code} is harmless: not a
     * syscall (the kernel would run it with no syscall stop) or another trap, not a rep string
     * instruction (it steps an iteration at a time; replay finds such a point by its iterations).
     */
    private static boolean steppable(byte[] code) {
        try {
            return dev.deja.device.x86.X86Decoder.decode(code, 0).branch() != dev.deja.device.x86.Branch.SYSTEM
                    && dev.deja.device.x86.RepString.decode(code) == null;
        } catch (dev.deja.device.x86.X86DecodeException e) {
            return false;
        }
    }

    /**
     * The thread reached a syscall entry just as its slice's interrupt was sent: the interrupt may
     * still be pending and would cut a blocking call short. Its call becomes a getpid, and at that
     * call's exit the thread is set to issue its own call again; the pending interrupt, if any,
     * stops it on the way (before any instruction of its own runs). Then it is back in the same
     * entry stop, with nothing recorded. False when it was killed meanwhile (a sibling's exit_group):
     * its end is the stop loop's.
     */
    private boolean consumeInterrupt(Task t) {
        t.interruptSent = false;
        try {
            long[] saved = ptrace.getRegsArray(t.tid);
            long[] harmless = saved.clone();
            harmless[X86Regs.ORIG_RAX] = number("getpid");
            ptrace.setRegs(t.tid, harmless);
            if (expectStop(t, SYSCALL_STOP, -1, "the exit of an injected getpid") < 0) return false;
            long[] again = saved.clone();
            again[X86Regs.RAX] = saved[X86Regs.ORIG_RAX];
            again[X86Regs.RIP] = saved[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH;
            ptrace.setRegs(t.tid, again);
            int got = expectStop(t, SYSCALL_STOP, Signals.SIGTRAP | (Ptrace.EVENT_STOP << 8), "the call's entry again", true);
            if (got == SIGNAL_INSTEAD) {
                // A signal came on the way back to the instruction (a timer's, 2026-12-05: python under an itimer and
                // --chaos): the kernel reports a pending interrupt before any signal, so none was pending. The thread is
                // in its own code at the syscall instruction, its call not made: the loop takes the signal as any that
                // lands in user code, and the call comes after it.
                t.atEntry = false;
                return false;
            }
            if (got < 0 || got != SYSCALL_STOP && expectStop(t, SYSCALL_STOP, -1, "the call's entry after the interrupt") < 0) {
                return false;
            }
            ptrace.setRegs(t.tid, saved);
            return true;
        } catch (NativeCallException e) {
            if (e.errno() != ESRCH) throw e;
            return false; // killed in its stop (a sibling's exit_group): its death comes next
        }
    }

    /**
     * Resumes {@code t} to its next syscall stop and returns the stop's bits, one of the two expected; -1 when
     * it was killed meanwhile (a sibling's exit_group: its exit event or end goes back to the stop loop).
     */
    private int expectStop(Task t, int stopBits, int orBits, String what) {
        return expectStop(t, stopBits, orBits, what, false);
    }

    /**
     * As {@link #expectStop(Task, int, int, String)}; with {@code signals}, a signal-delivery stop or a group-stop
     * that comes instead goes back to the stop loop too, and {@link #SIGNAL_INSTEAD} is returned.
     */
    private int expectStop(Task t, int stopBits, int orBits, String what, boolean signals) {
        ptrace.resumeToSyscall(t.tid, 0);
        int got = wait.waitpid(t.tid, Wait.WALL);
        int status = wait.status();
        if (got == t.tid && Wait.stopped(status) && ((status >> 8) == stopBits || (status >> 8) == orBits)) {
            return status >> 8;
        }
        if (got == t.tid && (!Wait.stopped(status) || Wait.ptraceEvent(status) == Ptrace.EVENT_EXIT)) {
            redelivered.add(new int[] {got, status});
            return -1;
        }
        int sig = (status >> 8) & 0xff;
        if (signals && got == t.tid && Wait.stopped(status) && sig != (SYSCALL_STOP & 0xff)
                && (Wait.ptraceEvent(status) == 0 || Wait.ptraceEvent(status) == Ptrace.EVENT_STOP && Signals.isStopSignal(sig))) {
            redelivered.add(new int[] {got, status});
            return SIGNAL_INSTEAD;
        }
        throw new DeviceException("tid " + t.tid + " did not reach " + what + " (wait status 0x"
                + Integer.toHexString(status) + ")");
    }

    /** What {@link #expectStop} returns when a signal stop came instead, handed to the stop loop. */
    private static final int SIGNAL_INSTEAD = -2;

    /** Before a wait: the next moment something must happen without a stop (a slice, a free run, the progress limit). */
    private void armAlarm() {
        long next = Long.MAX_VALUE;
        if (policy != null) {
            long slice = policy.sliceNs();
            for (Unit u : units.values()) {
                Task r = u.runner;
                if (r == null || u.waiting.isEmpty() || inExit(r)) continue;
                if (r.keptTurn) next = Math.min(next, r.enteredAt + SchedulePolicy.KEEP_TURN_NS);
                else if (!r.interruptSent && r.stepsToPoint == 0) next = Math.min(next, Math.max(r.releasedAt + slice, r.sliceCheckAt));
            }
        }
        if (orders || points && seekingPoint() != null) {
            long limit = tracer.progressLimitNs();
            if (limit > 0) next = Math.min(next, lastStopNanos + limit);
        }
        if (next == Long.MAX_VALUE) {
            if (alarm != null) alarm.cancel();
        } else {
            if (alarm == null) alarm = Alarm.start();
            alarm.at(next);
        }
    }

    private void onAlarm() {
        long nowNs = System.nanoTime();
        if (policy != null) {
            long slice = policy.sliceNs();
            for (Unit u : units.values()) {
                Task r = u.runner;
                if (r == null || u.waiting.isEmpty() || inExit(r)) continue;
                if (r.keptTurn) {
                    if (nowNs - r.enteredAt >= SchedulePolicy.KEEP_TURN_NS) {
                        // It blocks in the kernel: the others may run meanwhile.
                        r.keptTurn = false;
                        u.runner = null;
                        schedule(u);
                    }
                    continue;
                }
                if (r.interruptSent || r.stepsToPoint > 0 || nowNs - r.releasedAt < slice || nowNs < r.sliceCheckAt) continue;
                // A slice is CPU time: a thread that waited for a CPU (a loaded machine) is not preempted for it.
                long ran = r.cpuAtRelease < 0 ? slice : ProcFs.cpuNs(r.pid, r.tid) - r.cpuAtRelease;
                if (ran >= slice / 2) r.interruptSent = ptrace.interrupt(r.tid);
                else r.sliceCheckAt = nowNs + slice / 4;
            }
        }
        if (orders) {
            long limit = tracer.progressLimitNs();
            if (limit > 0 && nowNs - lastStopNanos >= limit) tracer.noProgress(nowNs - lastStopNanos);
        } else if (points) {
            // A thread on its way to a point that never stops (its state never matched, a guard in place)
            // would otherwise run on for ever: its point is missed.
            long limit = tracer.progressLimitNs();
            Task t = seekingPoint();
            if (t != null && limit > 0 && nowNs - lastStopNanos >= limit) {
                tracer.stopMissed(t, t.matcher.target().label() + String.format(java.util.Locale.ROOT,
                        ": no stop within %.1f s on the way to it (the thread ran past it, or took another path)",
                        (nowNs - lastStopNanos) / 1e9));
            }
        }
    }

    /** A thread on its way to a recorded point, or null. */
    private Task seekingPoint() {
        for (Task t : tasks.values()) {
            if (t.matcher != null) return t;
        }
        return null;
    }

    // ---- a debugger's stops: breakpoints and single steps ---------------------------------------

    /** The thread stops for the debugger, and goes on as it says. */
    private void debugStop(Task t, DebugAgent.Stop why) {
        debugResume(t, debug.stopped(why, t));
    }

    /**
     * Resumes a thread the debugger let go. On one of its breakpoints, the original instruction runs
     * first (the int3 comes back at the thread's next stop). A step never single-steps a {@code syscall}
     * instruction: PTRACE_SINGLESTEP would let the kernel run the call with no syscall stop, for real;
     * the thread goes to the call's entry instead, the tracer answers it, and it stops after the call.
     */
    private void debugResume(Task t, DebugAgent.Resume how) {
        killIfStopping(t);
        long rip = ptrace.getRegsArray(t.tid)[X86Regs.RIP];
        Map<Long, Byte> bps = debugBreakpoints.get(t.pid);
        Byte original = bps == null ? null : bps.get(rip);
        if (how == DebugAgent.Resume.CONTINUE && original == null) {
            resumeUserCode(t);
            return;
        }
        if (original != null) {
            writeCode(t, rip, original);
            t.debugReinsert = rip;
        }
        byte[] insn = new byte[2];
        if (t.memory.read(rip, insn, 0, 2) == 2 && insn[0] == 0x0f && insn[1] == 0x05) {
            if (how == DebugAgent.Resume.STEP) t.debugStopAfterCall = true;
            resume(t, 0);
            return;
        }
        t.debugStepping = true;
        t.debugContinueAfterStep = how == DebugAgent.Resume.CONTINUE;
        ptrace.singleStep(t.tid, 0);
    }

    /** The breakpoint stepped over is planted again, at the thread's first stop after the step. */
    private void debugReinsert(Task t) {
        long addr = t.debugReinsert;
        t.debugReinsert = 0;
        Map<Long, Byte> bps = debugBreakpoints.get(t.pid);
        if (bps != null && bps.containsKey(addr) && tasks.containsKey(t.tid)) writeCode(t, addr, (byte) 0xCC);
    }

    /** A SIGTRAP: the end of the debugger's single step, or one of its breakpoints; false when neither. */
    private boolean debugTrap(Task t) {
        long[] regs = ptrace.getRegsArray(t.tid);
        Map<Long, Byte> bps = debugBreakpoints.get(t.pid);
        if (t.debugStepping) {
            t.debugStepping = false;
            boolean goOn = t.debugContinueAfterStep;
            t.debugContinueAfterStep = false;
            long rip = regs[X86Regs.RIP];
            if (!goOn) {
                debugStop(t, new DebugAgent.Stepped());
            } else if (bps != null && bps.containsKey(rip)) {
                debugStop(t, new DebugAgent.Breakpoint(rip)); // stepped over one breakpoint onto another
            } else {
                resumeUserCode(t);
            }
            return true;
        }
        long addr = regs[X86Regs.RIP] - 1;
        if (bps == null || !bps.containsKey(addr)) return false; // the program's own SIGTRAP
        regs[X86Regs.RIP] = addr;
        ptrace.setRegs(t.tid, regs);
        debugStop(t, new DebugAgent.Breakpoint(addr));
        return true;
    }

    // ---- a debugger's write watchpoints: a store into a read-only watched page, stepped ----------

    /**
     * An access being stepped: the first faulting address, the instruction's, the watched pages relaxed
     * for it (those without access relaxed for reads only, at first), and whether it stored into one.
     */
    private static final class WatchStep {
        final long address;
        final long storePc;
        final List<Long> pages = new ArrayList<>();
        final List<Long> readablePages = new ArrayList<>();
        boolean wrote;

        WatchStep(long address, long storePc) {
            this.address = address;
            this.storePc = storePc;
        }
    }

    /**
     * A SIGSEGV that is an access into a watched page (the page relaxed, the instruction single-stepped,
     * the signal never delivered), or the SIGTRAP ending that step (the pages protected again, the
     * debugger asked); false for any other stop.
     */
    private boolean watchStop(Task t, int sig) {
        if (sig == Signals.SIGTRAP && t.watchStep != null) {
            watchStepped(t);
            return true;
        }
        if (sig != SIGSEGV || !watchedPages.any(t.pid)) return false;
        long address = watchedPages.watchFault(t.pid, ptrace.siginfo(t.tid));
        if (address < 0) return false; // the program's own fault
        long page = address & -WatchedPages.PAGE;
        long rip = ptrace.getRegsArray(t.tid)[X86Regs.RIP];
        Map<Long, Byte> bps = debugBreakpoints.get(t.pid);
        if (bps != null && bps.containsKey(rip)) {
            // the storing instruction carries one of the debugger's int3s (planted again at the loop's top): its own byte for the step
            writeCode(t, rip, bps.get(rip));
            t.debugReinsert = rip;
        }
        WatchStep step = t.watchStep;
        if (step != null && step.readablePages.contains(page) && !watchedPages.programWrites(t.pid, page)) {
            // A store into a page the program may only read, watched for reads: the program's own fault, as recorded.
            endWatchStep(t);
            return false;
        }
        if (step == null) {
            step = t.watchStep = new WatchStep(address, rip);
            // A signal arriving during the step would be delivered instead of the step's trap: it waits until after.
            t.maskDuringWatchStep = ptrace.sigMask(t.tid);
            ptrace.setSigMask(t.tid, ALL_SIGNALS);
        }
        if (watchedPages.unreadable(t.pid, page) && !step.readablePages.contains(page)) {
            // A load or a store: readable for the step, so that a store faults again and tells itself apart.
            watchedPages.relaxForReads(t.pid, page, t::injectByStep);
            step.readablePages.add(page);
        } else {
            step.wrote = true; // a read-only page's fault, or the second fault of a page made readable
            watchedPages.relax(t.pid, page, t::injectByStep);
        }
        if (!step.pages.contains(page)) step.pages.add(page); // an instruction touching two watched pages faults once per page
        ptrace.singleStep(t.tid, 0);
        return true;
    }

    /** The pages a watch step relaxed are protected again and the thread's signal mask is its own; the step record goes. */
    private WatchStep endWatchStep(Task t) {
        WatchStep step = t.watchStep;
        t.watchStep = null;
        for (long page : step.pages) watchedPages.restrict(t.pid, page, t::injectByStep);
        ptrace.setSigMask(t.tid, t.maskDuringWatchStep);
        return step;
    }

    private void watchStepped(Task t) {
        WatchStep step = endWatchStep(t);
        boolean stepEnded = t.debugStepping && !t.debugContinueAfterStep;
        t.debugStepping = false;
        t.debugContinueAfterStep = false;
        killIfStopping(t);
        DebugAgent.Resume how = debug.stopped(new DebugAgent.Stored(step.address, step.storePc, stepEnded, step.wrote), t);
        long rip = ptrace.getRegsArray(t.tid)[X86Regs.RIP];
        Map<Long, Byte> bps = debugBreakpoints.get(t.pid);
        if (how == DebugAgent.Resume.CONTINUE && bps != null && bps.containsKey(rip)) {
            debugStop(t, new DebugAgent.Breakpoint(rip)); // the step ended on a breakpoint: its int3 never ran, the hit is now
            return;
        }
        debugResume(t, how);
    }

    /** A {@code syscall} instruction of the thread's process (its vDSO's, else the one it just left). */
    private long syscallInstruction(Task t) {
        Long known = syscallInsns.get(t.pid);
        if (known != null && known != 0) return known;
        long found = InThreadGuard.syscallInstruction(ProcFs.maps(t.pid), t.memory);
        if (found == 0) {
            long rip = ptrace.getRegsArray(t.tid)[X86Regs.RIP];
            byte[] insn = new byte[2];
            if (t.memory.read(rip - 2, insn, 0, 2) == 2 && insn[0] == 0x0f && insn[1] == 0x05) return rip - 2;
            throw new DeviceException("no syscall instruction in pid " + t.pid + " to change a watched page's protection with");
        }
        syscallInsns.put(t.pid, found);
        return found;
    }

    // ---- replay: stopping a thread at a recorded point between syscalls ------------------------

    /**
     * Lets a thread run user code; when the tracer asked for a stop on the way ({@link Tracee#stopAt}), towards it.
     * With a debugger, the thread first stops for it when it is due to (the program's start, a step over a call).
     */
    private void resumeUser(Task t) {
        if (debug != null && t.debugStepWhenReleased) {
            // A step the debugger asked for while another thread was stopped: its turn has come.
            t.debugStepWhenReleased = false;
            debugResume(t, DebugAgent.Resume.STEP);
            return;
        }
        if (debug != null && (t.debugStart || t.debugStopAfterCall)) {
            DebugAgent.Stop why = t.debugStart ? new DebugAgent.Start() : new DebugAgent.Stepped();
            t.debugStart = false;
            t.debugStopAfterCall = false;
            debugStop(t, why);
            return;
        }
        resumeUserCode(t);
    }

    private void resumeUserCode(Task t) {
        RunTarget target = t.target;
        if (target == null) {
            resume(t, 0);
            return;
        }
        t.target = null;
        t.matcher = new PreemptionMatcher(target);
        t.guardRefused = false;
        t.rep = repStringAt(t, target.rip());
        if (DEBUG_MATCH) t.cpuAtTarget = ProcFs.cpuNs(t.pid, t.tid);
        // Already on the point's rep instruction (the point before was in the same one): on to the count.
        long[] regs = toRepPoint(t, ptrace.getRegsArray(t.tid), -1);
        PreemptionMatcher.Move first = t.matcher.begin(observe(t, regs, false, false));
        // A guard stub from the start: the thread runs at native speed and stops at the first pass whose
        // registers are the point's. The matcher's free runs and traps are for where no guard can go.
        if (!(first instanceof PreemptionMatcher.Matched) && guardInstead(t, regs)) {
            resume(t, 0);
            return;
        }
        apply(t, first, regs);
    }

    /**
     * A conditional breakpoint in the thread, which stops it once, at the first hit whose registers are
     * the point's, at native speed: from the thread's start towards the point, or where the matcher
     * would trap every hit. False when none can be installed.
     */
    private boolean guardInstead(Task t, long[] regs) {
        if (!InThreadGuard.ENABLED || t.guardRefused) return false;
        RunTarget target = t.matcher.target();
        t.guard = InThreadGuard.install(ptrace, wait, t.pid, t.tid, t.memory, (a, b) -> writeCode(t, a, b), target,
                t.rep, regs[X86Regs.RIP], DEBUG_MATCH);
        if (t.guard == InThreadGuard.NOT_NOW) {
            t.guard = null;
            return false;
        }
        if (t.guard == null) {
            t.guardRefused = true;
            return false;
        }
        if (DEBUG_MATCH) System.err.println("deja: match tid " + t.tid + " guard at 0x" + Long.toHexString(target.rip()));
        long from = t.guard.resumeFrom(regs[X86Regs.RIP]);
        if (from != regs[X86Regs.RIP]) {
            regs[X86Regs.RIP] = from;
            ptrace.setRegs(t.tid, regs);
        }
        return true;
    }

    /** A trap in the thread's guard stub: at the point (its registers match there), or on again. */
    private void guardHit(Task t, long[] regs) {
        InThreadGuard g = t.guard;
        RunTarget target = t.matcher.target();
        regs[X86Regs.RIP] = target.rip();
        // At a rep instruction the stub compares neither rcx, rsi nor rdi: run its copy in the stub to the point's count.
        regs = toRepPoint(t, regs, g.resumeAddress());
        boolean at = RunState.matches(target, regs, RunState.stackHash(t.memory, regs[X86Regs.RSP], target.apicIdsLeftOut()))
                && RunState.deeperStackAndMemoryMatch(target, t.memory, regs, ProcFs.startStack(t.pid));
        if (at || ++g.misses > PreemptionMatcher.MAX_HITS) {
            removeGuard(t, true);
            ptrace.setRegs(t.tid, regs);
            apply(t, at ? new PreemptionMatcher.Matched() : new PreemptionMatcher.GiveUp(g.misses
                    + " stops at 0x" + Long.toHexString(target.rip()) + " with the recorded registers but not the recorded stack or memory"), regs);
            return;
        }
        if (DEBUG_MATCH) {
            System.err.println("deja: match tid " + t.tid + " guard stop " + g.misses + " without the recorded "
                    + (!RunState.matches(target, regs, RunState.stackHash(t.memory, regs[X86Regs.RSP], target.apicIdsLeftOut())) ? "flags, TLS base or stack"
                    : target.memory().matches(regs, t.memory) ? "deeper stack" : "memory"));
        }
        regs[X86Regs.RIP] = g.resumeAddress();
        ptrace.setRegs(t.tid, regs);
        resume(t, 0);
    }

    /** The rep movs/stos at {@code rip} in the thread's code, or null when the instruction there is none. */
    private static RepString repStringAt(Task t, long rip) {
        byte[] code = new byte[RepString.MAX_LENGTH];
        int n = t.memory.read(rip, code, 0, code.length);
        return n <= 0 ? null : RepString.decode(java.util.Arrays.copyOf(code, n));
    }

    /**
     * A recorded point can lie between two iterations of a rep movs/stos (an interrupt stops it there,
     * the instruction pointer still on it). A thread on that instruction, every other register the
     * point's and rcx, rdi, rsi short of it by a whole number of iterations, is run for just those:
     * the instruction, placed at {@code at} (the program's code, or its copy in a guard stub; -1: where
     * the thread is), runs with rcx lowered to them. Returns the registers then, their instruction
     * pointer the point's (the caller resumes from there); {@code regs} when the thread is not so.
     */
    private long[] toRepPoint(Task t, long[] regs, long at) {
        RunTarget target = t.matcher.target();
        if (t.rep == null || !RunState.matchesBeforeIterations(target, regs)) return regs;
        long[] want = target.registers();
        long n = t.rep.iterationsTo(regs[X86Regs.RCX], regs[X86Regs.RDI], regs[X86Regs.RSI],
                (regs[X86Regs.EFLAGS] & DIRECTION_FLAG) != 0, want[X86Regs.RCX], want[X86Regs.RDI], want[X86Regs.RSI]);
        if (n <= 0) return regs;
        if (DEBUG_MATCH) System.err.println("deja: match tid " + t.tid + " rep instruction: " + n + " iterations to the point's");
        long[] after = runRepString(t, regs, at < 0 ? regs[X86Regs.RIP] : at, n, true);
        after[X86Regs.RIP] = target.rip();
        return after;
    }

    /** EFLAGS.DF: string instructions walk memory downwards. */
    private static final long DIRECTION_FLAG = 0x400;

    /**
     * Runs the thread's rep movs/stos at {@code at} for {@code iterations} of the {@code regs[RCX]} it has
     * left: rcx lowered to them for the run and an int3 right after the instruction (rr's fast_forward
     * does the same), every signal blocked meanwhile. Leaves the thread on the instruction with the rest
     * in rcx (with none left, there only if {@code stayOn}: a rep with rcx 0 does nothing), and returns
     * its registers.
     */
    private long[] runRepString(Task t, long[] regs, long at, long iterations, boolean stayOn) {
        long rest = regs[X86Regs.RCX] - iterations;
        long after = at + t.rep.length();
        if (t.breakpoint == at) removeBreakpoint(t);
        byte[] original = new byte[1];
        if (t.memory.read(after, original, 0, 1) != 1) {
            throw new DeviceException("cannot read the code after the rep instruction at 0x" + Long.toHexString(at) + " in tid " + t.tid);
        }
        long[] run = regs.clone();
        run[X86Regs.RIP] = at;
        run[X86Regs.RCX] = iterations;
        long mask = ptrace.sigMask(t.tid);
        ptrace.setSigMask(t.tid, ALL_SIGNALS);
        ptrace.setRegs(t.tid, run);
        writeCode(t, after, (byte) 0xCC);
        int status;
        try {
            if (!ptrace.resume(t.tid, 0)) throw new DeviceException("tid " + t.tid + " vanished in the rep instruction at 0x" + Long.toHexString(at));
            wait.waitpid(t.tid, Wait.WALL);
            status = wait.status();
        } finally {
            writeCode(t, after, original[0]);
        }
        if (!Wait.stopped(status)) {
            throw new DeviceException("tid " + t.tid + " ended in the rep instruction at 0x" + Long.toHexString(at)
                    + " (wait status 0x" + Integer.toHexString(status) + ")");
        }
        long[] now = ptrace.getRegsArray(t.tid);
        ptrace.setSigMask(t.tid, mask);
        if ((status >> 8) != Signals.SIGTRAP || now[X86Regs.RIP] != after + 1 || now[X86Regs.RCX] != 0) {
            throw new DeviceException("tid " + t.tid + " stopped at 0x" + Long.toHexString(now[X86Regs.RIP]) + " (wait status 0x"
                    + Integer.toHexString(status) + ") running " + iterations + " iterations of the rep instruction at 0x"
                    + Long.toHexString(at));
        }
        now[X86Regs.RCX] = rest;
        now[X86Regs.RIP] = rest != 0 || stayOn ? at : after;
        ptrace.setRegs(t.tid, now);
        return now;
    }

    private void removeGuard(Task t, boolean alive) {
        InThreadGuard g = t.guard;
        if (g == null) return;
        t.guard = null;
        if (alive) {
            g.remove(ptrace, wait, t.tid, t.memory, (a, b) -> writeCode(t, a, b), true);
            return;
        }
        // A dead thread's /proc entry is gone with it: the code goes back through a thread of its process that lives.
        Task via = tasks.values().stream().filter(o -> o.pid == t.pid).findFirst().orElse(null);
        if (via == null) return;
        try {
            g.remove(ptrace, wait, via.tid, via.memory, (a, b) -> writeCode(via, a, b), false);
        } catch (DeviceException processGone) {
            // the whole process is ending (its other threads' deaths come next): no code to put back
        }
    }

    /**
     * The matcher's view of a stop. The stack is hashed only when the registers already match, and
     * the CPU time read only when asked for: a hit in a hot loop is two stops and little else.
     */
    private PreemptionMatcher.Observation observe(Task t, long[] regs, boolean hit, boolean timed) {
        RunTarget target = t.matcher.target();
        long stackHash = RunState.matches(target, regs, target.stackHash())
                && RunState.deeperStackAndMemoryMatch(target, t.memory, regs, ProcFs.startStack(t.pid))
                ? RunState.stackHash(t.memory, regs[X86Regs.RSP], target.apicIdsLeftOut()) : ~target.stackHash();
        long cpu = timed ? ProcFs.cpuNs(t.pid, t.tid) : PreemptionMatcher.NOT_READ;
        return new PreemptionMatcher.Observation(regs, stackHash, cpu, hit);
    }

    /** DEJA_DEBUG_MATCH=1: one line on stderr per move of the preemption matcher (docs/replay.md). */
    private static final boolean DEBUG_MATCH = System.getenv("DEJA_DEBUG_MATCH") != null;

    /** Carries out the matcher's move for a thread stopped with {@code regs}. */
    private void apply(Task t, PreemptionMatcher.Move move, long[] regs) {
        if (DEBUG_MATCH) {
            // The move, and each register that differs from the target's (index: now/recorded).
            StringBuilder line = new StringBuilder("deja: match tid " + t.tid + " " + move + " hits " + t.matcher.hits());
            long[] want = t.matcher.target().registers();
            for (int i = 0; i < X86Regs.COUNT; i++) {
                if (regs[i] != want[i]) line.append(' ').append(i).append(':').append(Long.toHexString(regs[i])).append('/').append(Long.toHexString(want[i]));
            }
            System.err.println(line);
        }
        switch (move) {
            case PreemptionMatcher.Matched m -> {
                if (DEBUG_MATCH) System.err.println("deja: match tid " + t.tid + " at 0x" + Long.toHexString(t.matcher.target().rip()) + " ran " + (ProcFs.cpuNs(t.pid, t.tid) - t.cpuAtTarget) + " recorded run " + t.matcher.target().runNs());
                removeBreakpoint(t);
                t.matcher = null;
                t.freeRunning = false;
                if (tracer.mayContinue(t, RunStop.PREEMPTED)) {
                    resumeUser(t);
                } else {
                    t.heldStop = RunStop.PREEMPTED;
                    held.add(t);
                }
            }
            case PreemptionMatcher.RunFree f -> {
                removeBreakpoint(t);
                t.freeRunning = true;
                t.matcher.freeRunBegins(ProcFs.cpuNs(t.pid, t.tid));
                int fd = perfTraps ? PerfEvents.trapAfterCpu(t.tid, f.cpuNs(), PERF_MARKER) : -1;
                if (fd >= 0) {
                    t.perfFd = fd;
                    perfOpened = true;
                    // A blocked SIGTRAP would stay pending (xz's workers block every signal): unblock it for the run.
                    long mask = ptrace.sigMask(t.tid);
                    if ((mask & SIGTRAP_BIT) != 0) {
                        t.maskDuringFreeRun = mask;
                        ptrace.setSigMask(t.tid, mask & ~SIGTRAP_BIT);
                    }
                } else {
                    perfTraps = false; // not permitted here: the timer thread stops free runs instead
                    alarm.stopAfter(t.pid, t.tid, f.cpuNs());
                }
                resume(t, 0);
            }
            case PreemptionMatcher.Trap tr -> {
                if (!tr.timed() && !tr.measuring()) {
                    removeBreakpoint(t);
                    if (guardInstead(t, regs)) {
                        resume(t, 0);
                        return;
                    }
                }
                t.timedHit = tr.timed();
                long addr = t.matcher.target().rip();
                if (regs[X86Regs.RIP] == addr) {
                    RelativeJump jump = t.rep == null ? jumpAt(t, addr) : null;
                    if (jump != null) {
                        // A jump (a loop's branch in a JIT's code, where no guard fits): carried out here, the
                        // breakpoint left in; one stop a pass instead of a step over it and two writes of code.
                        regs[X86Regs.RIP] = jump.next(addr, regs[X86Regs.EFLAGS]);
                        ptrace.setRegs(t.tid, regs);
                        plantBreakpoint(t, addr);
                        resume(t, 0);
                        return;
                    }
                    // On the instruction already: execute it once, then plant the breakpoint.
                    removeBreakpoint(t);
                    if (t.rep != null && regs[X86Regs.RCX] != 0) {
                        // A rep instruction steps one iteration a stop: the rest of them run at once.
                        runRepString(t, regs, addr, regs[X86Regs.RCX], false);
                        plantBreakpoint(t, addr);
                        resume(t, 0);
                        return;
                    }
                    t.stepping = true;
                    ptrace.singleStep(t.tid, 0);
                } else {
                    plantBreakpoint(t, addr);
                    resume(t, 0);
                }
            }
            case PreemptionMatcher.GiveUp g -> {
                removeBreakpoint(t);
                endFreeRun(t);
                String where = t.matcher.target().label();
                t.matcher = null;
                t.freeRunning = false;
                tracer.stopMissed(t, where + ": " + g.reason());
                resume(t, 0);
            }
        }
    }

    /**
     * A stop of a thread on its way to a recorded point; true when it was the matcher's (a
     * breakpoint hit, a step over the breakpoint, the end of a free run).
     */
    private boolean matchStop(Task t, int sig, int event) {
        if (t.guard != null && sig == Signals.SIGTRAP && event == 0) {
            long[] regs = ptrace.getRegsArray(t.tid);
            if (regs[X86Regs.RIP] != t.guard.hitRip()) return false;
            guardHit(t, regs);
            return true;
        }
        if (t.guard != null && event == 0 && sig != Signals.SIGTRAP
                && Signals.raisedByFault(sig, ByteBuffer.wrap(ptrace.siginfo(t.tid)).order(ByteOrder.LITTLE_ENDIAN).getInt(8))) {
            long[] regs = ptrace.getRegsArray(t.tid);
            long[] past = t.guard.pastFault(regs, t.memory);
            if (past != null) {
                // A read of the stub's hashes faulted (a window unmapped or protected since the guard went in):
                // not the point; the thread goes on from the displaced code as if the hash had differed.
                if (DEBUG_MATCH) System.err.println("deja: match tid " + t.tid + " guard's hash faulted at 0x" + Long.toHexString(regs[X86Regs.RIP]));
                t.guard.misses++;
                ptrace.setRegs(t.tid, past);
                resume(t, 0);
                return true;
            }
            // The instruction the stub runs for the point faulted: the program's handler sees the program's address.
            long at = t.guard.programAddress(regs[X86Regs.RIP]);
            if (at != regs[X86Regs.RIP]) {
                regs[X86Regs.RIP] = at;
                ptrace.setRegs(t.tid, regs);
            }
            return false;
        }
        boolean perfTrap = sig == Signals.SIGTRAP && event == 0 && t.perfFd >= 0
                && PerfEvents.isTrap(ptrace.siginfo(t.tid), PERF_MARKER);
        if ((sig == Signals.SIGSTOP && event == 0 && t.perfFd < 0 || perfTrap) && t.freeRunning) {
            // The end of a free run (the task clock's SIGTRAP or the alarm's SIGSTOP, suppressed here).
            closePerf(t);
            t.freeRunning = false;
            long[] regs = toRepPoint(t, ptrace.getRegsArray(t.tid), -1);
            apply(t, t.matcher.observe(observe(t, regs, false, true)), regs);
            return true;
        }
        if (sig == Signals.SIGTRAP && event == 0) {
            if (t.stepping) {
                t.stepping = false;
                plantBreakpoint(t, t.matcher.target().rip());
                resume(t, 0);
                return true;
            }
            long[] regs = ptrace.getRegsArray(t.tid);
            if (t.breakpoint != 0 && regs[X86Regs.RIP] == t.breakpoint + 1) {
                regs[X86Regs.RIP] = t.breakpoint;
                ptrace.setRegs(t.tid, regs);
                regs = toRepPoint(t, regs, -1);
                apply(t, t.matcher.observe(observe(t, regs, true, t.timedHit)), regs);
                return true;
            }
            return false;
        }
        if (sig == SYSCALL_STOP || sig == Signals.SIGTRAP && event == Ptrace.EVENT_SECCOMP) {
            if (t.guard == null && enteredAtPoint(t)) return true;
            removeBreakpoint(t);
            removeGuard(t, true);
            endFreeRun(t);
            RunTarget target = t.matcher.target();
            t.matcher = null;
            t.freeRunning = false;
            tracer.stopMissed(t, target.label() + ": the thread reached a syscall before its recorded preemption point at 0x"
                    + Long.toHexString(target.rip()) + " (it ran past it, or took another path)");
            return false;
        }
        return false;
    }

    /**
     * The thread entered a syscall whose instruction is its recorded point: the interrupt came just as it was
     * about to run it (a JVM's thread in libc's lseek, 2026-12-05), and a free run went on into it. When its
     * state on the instruction ({@link RunState#onSyscallInstruction}) is the point's, the call is skipped and
     * the thread comes back from it onto the instruction with those registers: it is at the point, and runs
     * the call for real when it goes on. False when it is not the point (a divergence, as before).
     */
    private boolean enteredAtPoint(Task t) {
        RunTarget target = t.matcher.target();
        long[] entry = ptrace.getRegsArray(t.tid);
        long[] at = RunState.onSyscallInstruction(target, entry);
        if (at == null || !atCallReturn(t, entry)) return false;
        if (!RunState.matches(target, at, observe(t, at, false, false).stackHash())) return false;
        removeBreakpoint(t);
        endFreeRun(t);
        long[] skipped = at.clone();
        skipped[X86Regs.ORIG_RAX] = -1;
        ptrace.setRegs(t.tid, skipped);
        if (expectStop(t, SYSCALL_STOP, -1, "the exit of a call skipped at its preemption point") < 0) {
            t.matcher = null; // killed meanwhile (a sibling's exit_group): its end comes next
            return true;
        }
        ptrace.setRegs(t.tid, at);
        if (DEBUG_MATCH) System.err.println("deja: match tid " + t.tid + " entered the call at its point 0x" + Long.toHexString(target.rip()));
        apply(t, new PreemptionMatcher.Matched(), at);
        return true;
    }

    private void endFreeRun(Task t) {
        if (!t.freeRunning) return;
        t.freeRunning = false;
        if (t.perfFd >= 0) closePerf(t);
        else if (!alarm.cancelWatch()) t.strayStops++;
    }

    /** Closes a free run's task-clock event; a trap it already sent is recognised by its marker and dropped. */
    private void closePerf(Task t) {
        if (t.perfFd < 0) return;
        PerfEvents.close(t.perfFd);
        t.perfFd = -1;
        if (t.maskDuringFreeRun != 0) {
            // Before the thread's next syscall can see it: its own mask again.
            if (tasks.containsKey(t.tid)) ptrace.setSigMask(t.tid, t.maskDuringFreeRun);
            t.maskDuringFreeRun = 0;
        }
    }

    /** The relative jump at {@code addr} in thread {@code t}'s code (its own byte under a breakpoint there), or null. */
    private static RelativeJump jumpAt(Task t, long addr) {
        byte[] code = new byte[dev.deja.device.x86.X86Decoder.MAX_LENGTH];
        int n = t.memory.read(addr, code, 0, code.length);
        if (n <= 0) return null;
        if (t.breakpoint == addr) code[0] = t.breakpointByte;
        return RelativeJump.decode(Arrays.copyOf(code, n));
    }

    private void plantBreakpoint(Task t, long addr) {
        if (t.breakpoint == addr) return;
        removeBreakpoint(t);
        byte[] orig = new byte[1];
        if (t.memory.read(addr, orig, 0, 1) != 1) {
            throw new DeviceException("cannot read the instruction at 0x" + Long.toHexString(addr) + " in tid " + t.tid);
        }
        writeCode(t, addr, (byte) 0xCC);
        t.breakpoint = addr;
        t.breakpointByte = orig[0];
    }

    private void removeBreakpoint(Task t) {
        if (t.breakpoint == 0) return;
        long addr = t.breakpoint;
        t.breakpoint = 0;
        writeCode(t, addr, t.breakpointByte);
    }

    /** Writes one byte of code (read-only text) as a debugger does, through /proc/PID/mem. */
    private void writeCode(Task t, long addr, byte b) {
        writeCode(t, addr, new byte[] {b});
    }

    private void writeCode(Task t, long addr, byte[] bytes) {
        try {
            java.nio.channels.FileChannel mem = t.codeChannel();
            int n = mem.write(ByteBuffer.wrap(bytes), addr);
            if (n != bytes.length) throw new java.io.IOException("short write");
        } catch (java.io.IOException e) {
            // Killed in its stop (deja's SIGKILL at Ctrl-C, a sibling's exit_group): its memory is going, and its
            // death is the next thing the loop hears of it.
            if (regsUnlessDying(t.tid) == null) return;
            throw new DeviceException("cannot write a breakpoint at 0x" + Long.toHexString(addr) + " in pid " + t.pid
                    + " tid " + t.tid + ": " + e.getMessage(), e);
        }
    }

    /** A launched tree is killed when deja stops; an attached process is detached instead, never killed. */
    private void killIfStopping(Task t) {
        if (stopRequested && attachPid == 0) Signals.kill(t.pid, Signals.SIGKILL);
    }

    /**
     * A kill the program makes for real to a process group deja itself is in (kill(0, sig) from a program that
     * shares deja's group, as one started from a shell does; kill(-pgid, sig) of that group): the kernel would
     * signal deja too, whose SIGTERM or SIGINT ends the run as Ctrl-C does (the tree killed) and whose SIGKILL
     * kills it. So the device answers the call: the signal goes to every other process of the group (the
     * program's, and whatever else is in it, as natively), deja and its helper left out, and the call returns 0
     * as it would have (deja got it), or EINVAL for a bad signal number. The receivers' siginfo names deja as
     * the sender. The call is recorded as answered ({@link SyscallEvent#SKIPPED}).
     */
    private boolean killOfOwnGroup(Task task) {
        Pending p = task.pending;
        if (p.nr != nrKill || ownGroup <= 0) return false;
        int target = (int) p.args[0];
        int group = target == 0 ? ProcFs.processGroup(task.pid) : target < -1 ? -target : 0;
        if (group != ownGroup) return false;
        int signo = (int) p.args[1];
        if (signo < 0 || signo > MAX_SIGNAL) {
            decided(task, Decision.fail(EINVAL));
            return true;
        }
        // Answered before any signal goes: a SIGKILL ends the caller in its stop, its registers with it.
        decided(task, Decision.succeed(0));
        for (int member : ProcFs.processGroupMembers(group)) {
            if (member == ownPid || (alarm != null && member == alarm.helperPid())) continue;
            Signals.killAsCalled(member, signo); // EPERM or ESRCH for one member: the group's kill still succeeds
        }
        return true;
    }

    private static final int MAX_SIGNAL = 64;

    /** Applies the tracer's decision to the call {@code task} is entering (its {@code pending}). */
    private void decided(Task task, Decision d) {
        Pending p = task.pending;
        switch (d) {
            case Decision.Proceed ignored -> {
                if (killOfOwnGroup(task)) return;
            }
            case Decision.Rewrite r -> {
                setSyscall(task, r.nr(), r.args());
                task.pending = new Pending(p.seq, p.time, r.nr(), r.args(), capture.inputs(r.nr(), r.args(), task.memory),
                        SyscallEvent.REWRITTEN, 0, p.tid, p.nr, p.args);
            }
            case Decision.Skip k -> {
                // orig_rax = -1: the kernel skips the call; the result is set at its exit stop, or now when
                // the call is answered at its entry (the kernel then returns what the return register holds).
                if (oneStop && !Errno.restartResult(k.result())) setSkipped(task, p.args, k.result());
                else setSyscall(task, -1, p.args);
                task.pending = new Pending(p.seq, p.time, p.nr, p.args, p.inputs, SyscallEvent.SKIPPED, k.result(), p.tid);
            }
        }
        if (!(d instanceof Decision.Skip) && debug != null && watchedPages.any(task.pid)) {
            // The kernel would fail it with EFAULT where it writes a watched page: the program's protections for its time.
            watchedPages.relaxAll(task.pid, task::injectNow);
            task.watchRelaxed = true;
        }
    }

    private static Decision answered(CompletableFuture<Decision> answer, Task task) {
        try {
            return answer.join();
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new DeviceException("the tracer failed to decide event " + task.pending.seq + " of tid " + task.tid
                    + ": " + e.getMessage(), e);
        }
    }

    /** On the device's thread: threads whose answer has come go on. */
    private void settleDecisions() {
        for (java.util.Iterator<Task> it = awaiting.iterator(); it.hasNext(); ) {
            Task t = it.next();
            if (!t.decision.isDone()) continue;
            it.remove();
            CompletableFuture<Decision> answer = t.decision;
            t.decision = null;
            decided(t, answered(answer, t));
            killIfStopping(t);
            resume(t, 0);
        }
    }

    /** Runs what tracers handed to the device's thread (answers, queries), without waiting. */
    private void runQueued() {
        Runnable r;
        while ((r = deviceQueue.poll()) != null) r.run();
    }

    /** Nothing stopped: waits a moment for a tracer's message (stops are polled in between). */
    private void awaitQueued() {
        try {
            Runnable r = deviceQueue.poll(AWAIT_POLL_US, TimeUnit.MICROSECONDS);
            if (r != null) r.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * PTRACE_GET_SYSCALL_INFO, or null when the thread was killed while in its stop (SIGKILL from a
     * sibling's exit_group wakes it to die: ESRCH); its death is reported by waitpid after.
     */
    private MemorySegment syscallInfoUnlessDying(int tid) {
        try {
            return ptrace.syscallInfo(tid);
        } catch (NativeCallException e) {
            if (e.errno() == ESRCH) return null;
            throw e;
        }
    }

    /** PTRACE_GETREGS, or null when the thread was killed while in its stop (as {@link #syscallInfoUnlessDying}). */
    private long[] regsUnlessDying(int tid) {
        try {
            return ptrace.getRegsArray(tid);
        } catch (NativeCallException e) {
            if (e.errno() == ESRCH) return null;
            throw e;
        }
    }

    /** Handles a syscall stop; false when the task must stay stopped (its entry awaits a tracer's answer). */
    private boolean syscallStop(Task task) {
        return syscallStop(task, false);
    }

    /**
     * As {@link #syscallStop(Task)}; at a {@code seccompStop} of the launched program, a call's entry, the call
     * is read from the registers (one PTRACE_GETREGS, kept for the skip's PTRACE_SETREGS) rather than with
     * PTRACE_GET_SYSCALL_INFO and a second GETREGS: one ptrace request fewer per answered call. Elsewhere
     * GET_SYSCALL_INFO stays: at a PTRACE_SYSCALL stop only it tells an entry from an exit, and it gives the
     * arch of a call the registers cannot tell (a 32-bit process's, see {@link X86Regs#syscallCall}).
     */
    private boolean syscallStop(Task task, boolean seccompStop) {
        if (seccompStop && launched) {
            long[] regs = regsUnlessDying(task.tid);
            if (regs == null) return false; // killed in its stop: its death comes next
            X86Regs.SyscallCall call = X86Regs.syscallCall(regs);
            if (call != null) {
                if (oneStop) noteSite(task.pid, call.nr(), regs[X86Regs.RIP] - 2);
                if (buffers != null && bufferPlans.containsKey(call.nr()) && !sharingParentMemory.contains(task.pid)) {
                    buffers.computeIfAbsent(task.pid, k -> CallBuffer.unmapped()).saw(call.nr(), regs[X86Regs.RIP] - 2,
                            bufferPlans, knownSites, () -> InThreadGuard.maps(task.pid));
                }
                task.entryRegs = regs;
                try {
                    return syscallEntered(task, call.nr(), call.args());
                } finally {
                    task.entryRegs = null;
                }
            }
        }
        MemorySegment info = syscallInfoUnlessDying(task.tid);
        if (info == null) return false; // killed in its stop: its death comes next, its call never returned
        int op = info.get(ValueLayout.JAVA_BYTE, 0);
        // A seccomp stop is the entry of a filtered call (same layout: nr @24, args @32).
        if (op == Ptrace.SYSCALL_INFO_ENTRY || op == Ptrace.SYSCALL_INFO_SECCOMP) {
            int nr = (int) info.get(ValueLayout.JAVA_LONG, 24);
            if (!launched) {
                if (task.tid != rootPid || nr != nrExecve) return true;
                rewriteLaunchExec(task);
                launched = true;
                processesSeen.add(rootPid);
                info = ptrace.syscallInfo(task.tid);
            }
            long[] args = new long[6];
            for (int i = 0; i < 6; i++) args[i] = info.get(ValueLayout.JAVA_LONG, 32 + 8L * i);
            return syscallEntered(task, nr, args);
        } else if (op == Ptrace.SYSCALL_INFO_EXIT) {
            if (task.pending == null || !launched) return true;
            callReturned(task, info.get(ValueLayout.JAVA_LONG, 24), false);
        }
        return true;
    }

    /** The entry of call {@code nr(args)} of the launched program: the tracer decides it; false as {@link #syscallStop}. */
    private boolean syscallEntered(Task task, int nr, long[] args) {
        if (nr == nrClone || nr == nrClone3) keepTraced(task, nr, args);
        long time = now();
        List<MemoryBlock> inputs = capture.inputs(nr, args, task.memory);
        long entrySeq = ++seq;
        task.pending = new Pending(entrySeq, time, nr, args, inputs, 0, 0, task.tid);
        if (nr == nrRefusedRseq) {
            // The device's answer, before any tracer's: the CPU number must come through getcpu (Tracer.refusesRseq).
            decided(task, Decision.fail(ENOSYS));
            return true;
        }
        if (buffers != null) bufferEntering(task, nr, args);
        if (nr == nrRtSigreturn && task.handlers > 0) task.handlers--;
        if (emulator != null) {
            emulator.entering(task.pid, nr);
            if (nr == nrSeccomp || nr == nrPrctl && args[0] == PR_SET_SECCOMP) {
                for (Task t : tasks.values()) if (t.pid == task.pid) t.everyEntry = true;
                // Under the program's filter every call stops at its entry, the stubs' too: the program's code back.
                CallBuffer b = buffers == null ? null : buffers.get(task.pid);
                if (b != null) b.unpatch(task.memory, (a, x) -> writeCode(task, a, x));
            }
        }
        if (!decides) {
            killOfOwnGroup(task);
            emulate(task);
            return true;
        }
        SyscallEntry entry = new SyscallEntry(entrySeq, task.pid, task.tid, time, nr, args, inputs);
        if (!later) {
            decided(task, tracer.onSyscallEntry(entry, task));
            emulate(task);
            return true;
        }
        CompletableFuture<Decision> answer = tracer.onSyscallEntryLater(entry, task);
        if (!answer.isDone()) {
            // The thread stays in its entry stop until the answer; the other threads go on.
            task.decision = answer;
            awaiting.add(task);
            return false;
        }
        decided(task, answered(answer, task));
        return true;
    }

    /**
     * Recording, at a call's seccomp stop, the call going ahead as the program made it: performed here when
     * {@link CallEmulator} can, its result and outputs set in the thread and the kernel told to skip it.
     */
    private void emulate(Task task) {
        Pending p = task.pending;
        if (emulator == null || task.entryRegs == null || p == null || p.flags != 0 || !emulator.candidate(p.nr)) return;
        // Sites wait for their stubs, which go in at an exit stop: this call runs in the kernel to give one (a loop
        // of calls all performed here would never be patched).
        if (buffers != null && patchesAtExit(task)) return;
        long r = emulator.perform(task.pid, task.tid, p.nr, p.args, p.inputs);
        if (r == CallEmulator.NOT_EMULATED) return;
        try {
            setSkipped(task, p.args, r);
        } catch (NativeCallException e) {
            if (e.errno() != ESRCH) throw e;
            return; // killed in its stop (a sibling's exit_group): the call never returns, its death comes next
        }
        task.pending = new Pending(p.seq, p.time, p.nr, p.args, p.inputs, EMULATED, r, p.tid);
    }

    /**
     * A call is over: its exit stop (the kernel's {@code result}), or its entry for a call answered
     * there ({@code resultSet}: a skipped call's result is in the return register already).
     */
    private void callReturned(Task task, long kernelResult, boolean resultSet) {
        Pending p = task.pending;
        task.pending = null;
        long result = kernelResult;
        if ((p.flags & (SyscallEvent.SKIPPED | EMULATED)) != 0) {
            if (!resultSet) task.setResult(p.skipResult);
            result = p.skipResult;
        }
        TraceeMemory memory = (p.flags & EMULATED) != 0 ? emulator.afterPerformed(task.tid, task.memory) : task.memory;
        List<MemoryBlock> outputs = (p.flags & SyscallEvent.SKIPPED) != 0 && !skippedOutputsRead ? List.of()
                : capture.outputs(p.nr, p.args, result, p.inputs, memory);
        int flags = capture.flags(p.nr, p.args) | (p.flags & ~EMULATED);
        task.resultSet = (p.flags & SyscallEvent.SKIPPED) != 0 ? result : null;
        if (task.watchRelaxed) {
            task.watchRelaxed = false;
            watchedPages.restrictAll(task.pid, ProcFs.maps(task.pid), task::injectNow);
        }
        tracer.onSyscall(new SyscallEvent(p.seq, task.pid, p.tid, p.time, now(), p.nr, p.args, p.inputs,
                result, outputs, flags), task);
        if (buffers != null && !resultSet) bufferCallReturned(task, p, result);
        Long seen = task.resultSet;
        task.resultSet = null;
        if (resultSet && seen != null && Errno.restartResult(seen)) {
            throw new DeviceException("event " + p.seq + ": a call answered at its entry cannot leave with a restart code");
        }
        boolean rewritten = (p.flags & SyscallEvent.REWRITTEN) != 0;
        if (seen != null ? Errno.restartResult(seen) : rewritten && Errno.restartResult(result)) {
            restartAsMade(task, p, seen != null ? seen : result); // the program's call back, arguments included
        } else if (rewritten) {
            programArgsBack(task, p);
        }
        afterSyscall(task, p, result);
    }

    /**
     * A call deja rewrote has returned: its argument registers get the program's values again. The kernel
     * leaves them as the call found them, so the program may rely on them after the call (a preemption
     * point's registers do: a replayed mmap, given MAP_FIXED_NOREPLACE, left r10 with that flag, and a
     * memmove preempted after it was never found again). Not after an exec, whose registers are the new
     * program's.
     */
    private void programArgsBack(Task task, Pending p) {
        if (java.util.Arrays.equals(p.args, p.programArgs) || p.nr == nrExecve || p.nr == nrExecveat) return;
        if (!tasks.containsKey(task.tid)) return;
        long[] regs = ptrace.getRegsArray(task.tid);
        for (int i = 0; i < 6; i++) regs[X86Regs.ARGS[i]] = p.programArgs[i];
        ptrace.setRegs(task.tid, regs);
    }

    /**
     * A call leaves with a restart code deja set (a skipped call's, a recorded result) or one the kernel gave
     * a call deja rewrote: the kernel restarts what the registers hold, so they get the call as the program
     * made it. With a signal pending the kernel's own rules apply (SA_RESTART: issued again; a handler
     * without it: EINTR); with none (deja sent none), the call is issued again as the kernel does once an
     * ignored signal is gone, instead of the code leaking to the program.
     */
    private void restartAsMade(Task task, Pending p, long code) {
        if (!tasks.containsKey(task.tid)) return;
        long[] regs = ptrace.getRegsArray(task.tid);
        regs[X86Regs.ORIG_RAX] = p.programNr;
        for (int i = 0; i < 6; i++) regs[X86Regs.ARGS[i]] = p.programArgs[i];
        ProcFs.SignalState signals = ProcFs.signals(task.pid, task.tid);
        if (signals == null || !signals.deliverable()) {
            regs[X86Regs.RIP] -= X86Regs.SYSCALL_INSN_LENGTH;
            regs[X86Regs.RAX] = code == -Errno.ERESTART_RESTARTBLOCK ? nrRestartSyscall : p.programNr;
        }
        ptrace.setRegs(task.tid, regs);
    }

    private void afterSyscall(Task task, Pending p, long result) {
        boolean ok = result >= 0 || result < -4095;
        if (!ok) return;
        if (mapsFile(p.nr, p.args, result)) {
            mapped(task, result, p.args);
        } else if ((p.nr >= 0 && p.nr < contextChanging.length && contextChanging[p.nr])
                || (p.nr == nrPrctl && p.args[0] == PR_SET_NAME)) {
            context(task);
        }
    }

    /** Whether call {@code nr(args)} that returned {@code result} mapped a file (an mmap that succeeded, not anonymous). */
    private boolean mapsFile(int nr, long[] args, long result) {
        return nr == nrMmap && (result >= 0 || result < -4095) && (args[3] & MAP_ANONYMOUS) == 0 && (int) args[4] >= 0;
    }

    /** A file mapped at {@code address} by mmap({@code args}), its descriptor still the one mapped. */
    private void mapped(Task task, long address, long[] args) {
        if (!wantsMappings) {
            ++seq;
            return;
        }
        Path source = ProcFs.proc(task.pid).resolve("fd").resolve(Long.toString((int) args[4]));
        String path = ProcFs.link(source);
        long size = fileSize(source);
        tracer.onMapping(new MappingEvent(++seq, task.pid, task.tid, now(), address, args[1], (int) args[2],
                (int) args[3], args[5], path, size, ""), source);
    }

    private static long fileSize(Path source) {
        try {
            return Files.size(source);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private void context(Task task) {
        tracer.onContext(new ContextEvent(++seq, task.pid, task.tid, now(), ProcFs.context(task.pid)));
    }

    /** Handles a PTRACE_EVENT stop; false when the task must not be resumed now. */
    private boolean ptraceEvent(Task task, int event) {
        switch (event) {
            case Ptrace.EVENT_FORK, Ptrace.EVENT_VFORK, Ptrace.EVENT_CLONE -> spawned(task, event);
            case Ptrace.EVENT_EXEC -> {
                syscallInsns.remove(task.pid); // a new program, a new vDSO
                callSites.remove(task.pid);
                if (oneStop) {
                    String exe = ProcFs.link(ProcFs.proc(task.pid).resolve("exe"));
                    if (exe.isEmpty()) programOf.remove(task.pid);
                    else programOf.put(task.pid, exe);
                }
                if (buffers != null) buffers.remove(task.pid);
                sharingParentMemory.remove(task.pid); // its own memory now
                task.handlers = 0;
                siteFunctions.remove(task.pid);
                return execed(task);
            }
            case Ptrace.EVENT_SECCOMP -> {
                // A filtered call's entry; when its entry was already handled (the task stepped
                // into the call with PTRACE_SYSCALL after an injection), this stop adds nothing.
                if (task.pending == null) return syscallStop(task);
            }
            default -> {
                // EVENT_EXIT, EVENT_VFORK_DONE: nothing to record here; the death is reported by waitpid.
            }
        }
        return true;
    }

    private void spawned(Task parent, int event) {
        int child = (int) ptrace.eventMessage(parent.tid);
        long flags = 0;
        Pending p = parent.pending;
        if (p != null && p.nr == nrClone) flags = p.args[0];
        // clone's flags are in a register; clone3's in memory: /proc tells for both.
        boolean thread = event == Ptrace.EVENT_CLONE
                && (p != null && p.nr == nrClone ? (flags & CLONE_THREAD) != 0
                        : ProcFs.threadGroup(child) == parent.pid);
        int childPid = thread ? parent.pid : child;
        Task task = tasks.get(child);
        if (task == null) {
            task = new Task(child, childPid);
            tasks.put(child, task);
        } else {
            task.pid = childPid;
            task.memory = new Memory(childPid);
        }
        task.everyEntry = parent.everyEntry; // a filter of the program's is inherited
        livePids.add(childPid);
        if (!thread && oneStop) {
            String program = programOf.get(parent.pid);
            if (program != null) programOf.put(childPid, program);
        }
        SpawnEvent.Kind kind = switch (event) {
            case Ptrace.EVENT_FORK -> SpawnEvent.Kind.FORK;
            case Ptrace.EVENT_VFORK -> SpawnEvent.Kind.VFORK;
            default -> thread ? SpawnEvent.Kind.THREAD : SpawnEvent.Kind.CLONE;
        };
        Map<Long, Byte> inherited = debug == null || thread || kind == SpawnEvent.Kind.VFORK ? null
                : debugBreakpoints.get(parent.pid);
        if (inherited != null) {
            // A forked child's copy of the debugger's int3s goes: the debugger follows the parent only.
            for (Map.Entry<Long, Byte> bp : inherited.entrySet()) writeCode(task, bp.getKey(), bp.getValue());
        }
        tracer.onSpawn(new SpawnEvent(++seq, parent.pid, parent.tid, now(), kind, childPid, child, flags));
        if (buffers != null && !thread) bufferSpawned(parent, task, kind);
        if (!thread && processesSeen.add(childPid)) context(task);
        if (thread && policy != null) unit(task).threaded = true;
        if (!thread && policy != null && kind != SpawnEvent.Kind.VFORK && ProcFs.hasWritableSharedMapping(childPid)) {
            // It shares writable memory with its parent (MAP_SHARED inherited): they take turns as one unit.
            Unit u = unit(parent);
            u.threaded = true;
            units.put(childPid, u);
        }
        if (task.awaitingSpawn) {
            task.awaitingSpawn = false;
            if (launched && (policy != null || orders)) {
                firstStop(task);
            } else {
                task.started = true;
                resume(task, 0);
            }
        }
    }

    /** Handles an exec event; false when the process was let go (-b execve) and must not be resumed. */
    private boolean execed(Task task) {
        try {
            return execedUnlessKilled(task);
        } catch (NativeCallException e) {
            // SIGKILLed in its exec stop (deja's own kill at Ctrl-C, a sibling's exit_group): its registers and
            // new memory are gone with it. Its death comes next from waitpid; its execve never returned.
            if (e.errno() == ESRCH) return false;
            throw e;
        }
    }

    private boolean execedUnlessKilled(Task task) {
        int former = (int) ptrace.eventMessage(task.tid);
        if (emulator != null) emulator.execed(task.pid);
        boolean first = !firstExecSeen;
        firstExecSeen = true;
        if (detachAtExec && !first) {
            detachExeced(task, former);
            return false;
        }
        if (former != task.tid) {
            // A non-leader thread exec'd: it now has the leader's tid; its pending execve moves with it
            // (reported under the tid that entered it). The old leader is gone: the call it was in
            // never returns, and it is reported so (as a thread that dies in a call).
            Task old = tasks.remove(former);
            Pending leaderCall = task.pending;
            if (leaderCall != null && launched) {
                tracer.onSyscall(new SyscallEvent(leaderCall.seq, task.pid, leaderCall.tid, leaderCall.time, leaderCall.time,
                        leaderCall.nr, leaderCall.args, leaderCall.inputs, 0, List.of(),
                        SyscallEvent.NO_EXIT | capture.flags(leaderCall.nr, leaderCall.args) | leaderCall.flags), task);
            }
            held.remove(task);
            task.heldStop = null;
            if (old != null) {
                task.pending = old.pending;
                old.closeCode();
                held.remove(old);
                Unit u = policy == null ? null : units.get(task.pid);
                if (u != null) {
                    u.waiting.remove(task);
                    u.waiting.remove(old);
                    if (u.runner == old) u.runner = task;
                    task.keptTurn = old.keptTurn;
                    task.enteredAt = old.enteredAt;
                }
            }
        }
        task.pid = task.tid;
        task.memory = new Memory(task.pid);
        task.closeCode(); // the old program's memory
        if (debug != null) {
            debugBreakpoints.remove(task.pid); // gone with the old program's memory
            watchedPages.forget(task.pid);
            syscallInsns.remove(task.pid);
            if (!debugStarted) {
                debugStarted = true;
                task.debugStart = true;
            }
        }
        if (policy != null) leaveSharedUnit(task);
        long[] regs = ptrace.getRegsArray(task.tid);
        StackVectors vectors = StackVectors.read(task.memory, regs[X86Regs.RSP]);
        long[] auxv = vectors.auxv();
        byte[] atRandom = new byte[16];
        for (int i = 0; i < auxv.length; i += 2) {
            if (auxv[i] == AT_SYSINFO_EHDR) {
                // Hide the vDSO: glibc then makes real clock_gettime/gettimeofday/time/getcpu syscalls.
                byte[] ignore = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(AT_IGNORE).array();
                vm.write(task.pid, vectors.auxvAddress() + 8L * i, ignore);
                auxv[i] = AT_IGNORE;
            } else if (auxv[i] == AT_RANDOM) {
                task.memory.read(auxv[i + 1], atRandom, 0, 16);
            }
        }
        Path exe = ProcFs.proc(task.pid).resolve("exe");
        String path = ProcFs.link(exe);
        tracer.onExec(new ExecEvent(++seq, task.pid, task.tid, now(), former, path, vectors.argv(), "", auxv, atRandom),
                exe);
        context(task);
        for (ProcFs.Mapping m : ProcFs.fileMappings(task.pid)) {
            Path source = Path.of(m.path());
            tracer.onMapping(new MappingEvent(++seq, task.pid, task.tid, now(), m.start(), m.end() - m.start(), m.prot(),
                    m.shared() ? 1 : 2, m.offset(), m.path(), fileSize(source), ""), source);
        }
        return true;
    }

    /**
     * -b execve: the process has exec'd (its other threads are gone): the exec call is handed to the
     * tracer as one that never returns, and the thread is PTRACE_DETACHed in its exec stop; the new
     * program runs untraced (and is not killed with the tree: it is no longer deja's to stop).
     */
    private void detachExeced(Task task, int former) {
        Task old = former != task.tid ? tasks.remove(former) : null;
        Pending call = old != null ? old.pending : task.pending;
        if (old != null && task.pending != null) {
            // the former leader's call never returns: its thread is gone
            Pending p = task.pending;
            tracer.onSyscall(new SyscallEvent(p.seq, task.pid, p.tid, p.time, p.time, p.nr, p.args, p.inputs, 0, List.of(),
                    SyscallEvent.NO_EXIT | capture.flags(p.nr, p.args) | p.flags), task);
        }
        if (call != null) {
            tracer.onDetached(new SyscallEvent(call.seq, task.pid, call.tid, call.time, call.time, call.nr, call.args,
                    call.inputs, 0, List.of(), SyscallEvent.NO_EXIT | capture.flags(call.nr, call.args) | call.flags));
        }
        ptrace.detach(task.tid, 0);
        tasks.remove(task.tid);
        task.closeCode();
        if (old != null) old.closeCode();
        awaiting.remove(task);
        livePids.remove(task.pid);
        if (task.pid == rootPid) rootDetached = true;
    }

    private int signalStop(Task task, int sig) {
        if (!launched) return sig; // the launcher's own SIGCONT: not part of the program's run
        byte[] info;
        try {
            info = ptrace.siginfo(task.tid);
        } catch (NativeCallException e) {
            info = new byte[Ptrace.SIGINFO_SIZE];
        }
        ByteBuffer b = ByteBuffer.wrap(info).order(ByteOrder.LITTLE_ENDIAN);
        int code = b.getInt(8);
        if (policy != null && landsAtAPoint(task, sig, code, b.getInt(16))) {
            // (regs null: killed in its stop, deja record's SIGKILL at Ctrl-C; its death comes next)
            long[] regs = regsUnlessDying(task.tid);
            if (regs != null && !atCallReturn(task, regs)) {
                if (holdsSignalToStep(task, sig, regs)) return HELD_SIGNAL;
                recordSignalPoint(task, regs);
            }
        }
        SignalEvent event = new SignalEvent(++seq, task.pid, task.tid, now(), sig, code, b.getInt(16), b.getInt(20), info,
                true);
        tracer.onSignal(event, task);
        return decides ? tracer.signalToDeliver(event, task) : sig;
    }

    /** The itimers' signals (SIGALRM, SIGVTALRM, SIGPROF), sent by the kernel (si_code SI_KERNEL). */
    private static final Set<Integer> ITIMER_SIGNALS = Set.of(14, 26, 27);
    private static final int SI_KERNEL = 0x80;
    private static final int SI_TIMER = -2;

    /**
     * Recording: a signal from outside the thread's own doing (a timer's, a child's SIGCHLD, a kill from
     * a process not recorded, the terminal's SIGINT) that interrupted the thread in its own code, not at
     * a call's return, is recorded with where it landed: a preemption point (its registers and stack
     * hash, as the scheduler records a preemption) just before the signal, so that replay delivers it at
     * that instruction rather than at the thread's previous call (a loop that runs until a handler sets
     * a flag counts as far as recorded), a kill by another recorded process included (replay sends that
     * signal from the recording too, since format version 4). Not for faults (the program makes them
     * again), nor for what replay sends for real ({@link Signals#sentForRealOnReplay}); and, timers
     * apart, only when the process has a
     * handler for it: an ignored or fatal signal has no code of the program's to run at that point, and
     * each point costs replay a search.
     */
    private void recordSignalPoint(Task task, long[] regs) {
        tracer.onSchedule(pointEvent(task, regs, 0, true));
    }

    /**
     * A preemption point of {@code t} at {@code regs} as the recorder writes it (format version 6): the stack
     * hashes and the memory witness without cpuid's APIC IDs; resumed now (a signal's point) or when the thread
     * runs again (0 until then).
     */
    private dev.deja.formats.event.ScheduleEvent pointEvent(Task t, long[] regs, long runNs, boolean resumesNow) {
        long sp = regs[X86Regs.RSP];
        long hash = RunState.stackHash(t.memory, sp, true);
        long deeper = RunState.deeperStackHash(t.memory, sp, ProcFs.startStack(t.pid), true);
        MemoryWitness witness = MemoryWitness.of(regs, MemoryWitness.ranges(ProcFs.maps(t.pid)), t.memory);
        long time = now();
        return new dev.deja.formats.event.ScheduleEvent(++seq, t.pid, t.tid, time, dev.deja.formats.event.ScheduleEvent.Kind.PREEMPT,
                resumesNow ? time : 0, regs, hash, deeper, runNs, witness.mask(), witness.pointers(), witness.hash(),
                witness.deepHash());
    }

    /** Whether signal {@code sig} (its siginfo's code and sender) is recorded with where it landed: see {@link #recordSignalPoint}. */
    private boolean landsAtAPoint(Task task, int sig, int code, int senderPid) {
        boolean timer = code == SI_TIMER || code == SI_KERNEL && ITIMER_SIGNALS.contains(sig);
        if (timer) return true;
        if (Signals.raisedByFault(sig, code)) return false;
        if (code <= 0 && livePids.contains(senderPid) && Signals.sentForRealOnReplay(sig)) return false;
        return ProcFs.catches(task.pid, sig);
    }

    /**
     * Recording: an asynchronous signal whose point would be recorded ({@link #recordSignalPoint}) landed at an
     * instruction replay's guard cannot patch (a hot function of an interpreter, entered by indirect jumps,
     * where replay would trap at every pass: python's {@code _Py_Dealloc} under an itimer ran out of the trap
     * budget in 2 of 3 recordings). The signal is held back: blocked (PTRACE_SETSIGMASK) and injected, which
     * makes the kernel queue it again with its siginfo, and the thread is stepped, as a preempted one is
     * ({@link #stepTowardsGuardable}), to the next instruction a guard can patch; there the mask is put back and
     * the signal arrives, as if it had come a few instructions later. Real-time signals are not held (their
     * queue order with others would change). Returns whether the thread is being stepped.
     */
    private boolean holdsSignalToStep(Task task, int sig, long[] regs) {
        if (task.releasedSignal != 0) {
            // Held once already, it arrives where its stepping ended; and nothing is held before it has come.
            if (task.releasedSignal == sig) task.releasedSignal = 0;
            return false;
        }
        if (sig >= SIGRTMIN || sig == Signals.SIGKILL || sig == Signals.SIGSTOP) return false;
        if (task.stepsToPoint > 0 || unit(task).runner != task || !stepsOn(task, regs[X86Regs.RIP])) return false;
        long mask = ptrace.sigMask(task.tid);
        ptrace.setSigMask(task.tid, mask | 1L << (sig - 1));
        task.maskBeforeHeldSignal = mask;
        task.heldSignal = sig;
        ptrace.singleStep(task.tid, sig); // blocked: queued again, not delivered
        return true;
    }

    /** What {@link #signalStop} returns for a signal {@link #holdsSignalToStep held back}: the thread is being stepped. */
    private static final int HELD_SIGNAL = -1;

    /** A step of a thread holding a signal back ({@link #holdsSignalToStep}) is done: on, or the signal comes here. */
    private void steppedWithHeldSignal(Task task) {
        long[] regs = regsUnlessDying(task.tid);
        if (regs == null) return; // killed in its stop: its death comes next
        if (runOutOfBufferStub(task, regs[X86Regs.RIP])) return;
        if (!atCallReturn(task, regs) && stepsOn(task, regs[X86Regs.RIP])) {
            ptrace.singleStep(task.tid, 0);
            return;
        }
        // A guardable instruction (or none in reach: the signal comes at the last one stepped to).
        releaseHeldSignal(task);
        resume(task, 0); // the signal, pending and unblocked, stops the thread before its next instruction
    }

    /**
     * A thread stepped towards a guardable instruction with a signal held ({@link #holdsSignalToStep}) that went
     * into a buffer stub (through a patched call): it runs the stub out first, through the trap word or by
     * steps, the signal still held; its stepping goes on in the program's code. False when not in a stub.
     */
    private boolean runOutOfBufferStub(Task task, long rip) {
        CallBuffer b = buffers == null ? null : buffers.get(task.pid);
        dev.deja.device.x86.BufferStub stub = b == null ? null : b.stubAt(rip);
        if (stub == null) return false;
        boolean trap = stub.exitFrom(rip) == dev.deja.device.x86.BufferStub.Exit.TRAP;
        b.trap(trap, (a, x) -> writeCode(task, a, x));
        if (trap) clearTrapFlag(task);
        if (trap) ptrace.resume(task.tid, 0);
        else ptrace.singleStep(task.tid, 0); // at its traced call, the call's stop comes: the signal after it
        return true;
    }

    /** The mask a held signal was blocked by is put back: the signal is delivered at the thread's next return to its code. */
    private void releaseHeldSignal(Task task) {
        CallBuffer b = buffers == null ? null : buffers.get(task.pid);
        if (b != null && b.mapped()) {
            b.trap(false, (a, x) -> writeCode(task, a, x));
            clearTrapFlag(task); // its steps may have gone through a stub's popfq
        }
        long mask = task.maskBeforeHeldSignal;
        task.maskBeforeHeldSignal = null;
        task.releasedSignal = task.heldSignal;
        task.stepsToPoint = 0;
        task.stepMaps = null;
        try {
            ptrace.setSigMask(task.tid, mask);
        } catch (NativeCallException e) {
            if (e.errno() != ESRCH) throw e; // killed in its stop: its death comes next
        }
    }

    /**
     * Whether the thread is just back from a system call: the two bytes before rip are a syscall instruction, or
     * were before a buffer stub's patch.
     */
    private boolean atCallReturn(Task task, long[] regs) {
        CallBuffer b = buffers == null ? null : buffers.get(task.pid);
        if (b != null && b.patchedCallAt(regs[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH)) return true;
        byte[] insn = new byte[X86Regs.SYSCALL_INSN_LENGTH];
        int n = task.memory.read(regs[X86Regs.RIP] - insn.length, insn, 0, insn.length);
        return n == insn.length && insn[0] == 0x0f && insn[1] == 0x05;
    }

    private void reapedRoot(int status) {
        rootReaped = true;
        boolean signaled = !Wait.exited(status);
        rootExitCode = signaled ? 0 : Wait.exitCode(status);
        rootTermSignal = signaled ? Wait.termSignal(status) : 0;
    }

    private void died(Task task, int status) {
        tasks.remove(task.tid);
        task.ahead = null;
        task.aheadRequest = null;
        task.closeCode();
        held.remove(task);
        if (task.perfFd >= 0) closePerf(task);
        else if (task.freeRunning) alarm.cancelWatch();
        if (task.matcher != null) {
            RunTarget target = task.matcher.target();
            task.matcher = null;
            if (livePids.contains(task.pid)) removeGuard(task, false);
            task.guard = null;
            tracer.stopMissed(task, target.label() + ": the thread ended before its recorded preemption point");
        }
        awaiting.remove(task);
        task.decision = null;
        if (task.pending != null && launched) {
            Pending p = task.pending;
            tracer.onSyscall(new SyscallEvent(p.seq, task.pid, p.tid, p.time, p.time, p.nr, p.args, p.inputs, 0,
                    List.of(), SyscallEvent.NO_EXIT | capture.flags(p.nr, p.args) | p.flags), task);
        }
        boolean leader = task.tid == task.pid;
        boolean signaled = !Wait.exited(status);
        int code = signaled ? 0 : Wait.exitCode(status);
        int term = signaled ? Wait.termSignal(status) : 0;
        if (launched) {
            tracer.onExit(new ExitEvent(++seq, task.pid, task.tid, now(), leader, code, term, Wait.coreDumped(status)));
        }
        if (policy != null) {
            // Its end is recorded before the thread that runs next is let go (and its steps recorded).
            Unit u = units.get(task.pid);
            if (u != null) {
                u.waiting.remove(task);
                if (u.runner == task) {
                    u.runner = null;
                    task.keptTurn = false;
                    schedule(u);
                }
            }
        }
        if (leader) {
            if (emulator != null) emulator.ended(task.pid);
            livePids.remove(task.pid);
            watchedPages.forget(task.pid); // its pages went with it (a later process may get the pid)
            syscallInsns.remove(task.pid);
            callSites.remove(task.pid);
            programOf.remove(task.pid);
            if (buffers != null) buffers.remove(task.pid);
            siteFunctions.remove(task.pid);
        }
        if (task.tid == rootPid) {
            rootExitCode = code;
            rootTermSignal = term;
        }
        if (!launched && task.tid == rootPid) {
            throw new DeviceException("the program did not start: the launcher exited with status 0x"
                    + Integer.toHexString(status));
        }
    }

    /**
     * A call between its entry and exit stops: as it runs ({@code nr}, {@code args}) and, when the tracer
     * rewrote it, as the program made it ({@code programNr}, {@code programArgs}; else the same).
     * {@code tid}: the thread that entered it (an exec may change it).
     */
    private record Pending(long seq, long time, int nr, long[] args, List<MemoryBlock> inputs, int flags,
                           long skipResult, int tid, int programNr, long[] programArgs) {
        Pending(long seq, long time, int nr, long[] args, List<MemoryBlock> inputs, int flags, long skipResult, int tid) {
            this(seq, time, nr, args, inputs, flags, skipResult, tid, nr, args);
        }
    }

    /** Skips the call of a thread at its entry stop (orig_rax -1) with {@code result} in the return register. */
    private void setSkipped(Task task, long[] args, long result) {
        long[] regs = entryRegs(task);
        regs[X86Regs.ORIG_RAX] = -1;
        regs[X86Regs.RAX] = result;
        for (int i = 0; i < 6; i++) regs[X86Regs.ARGS[i]] = args[i];
        ptrace.setRegs(task.tid, regs);
    }

    /** Sets the syscall number (orig_rax; -1 skips the call) and arguments of a thread at its entry stop. */
    private void setSyscall(Task task, int nr, long[] args) {
        long[] regs = entryRegs(task);
        regs[X86Regs.ORIG_RAX] = nr;
        for (int i = 0; i < 6; i++) regs[X86Regs.ARGS[i]] = args[i];
        ptrace.setRegs(task.tid, regs);
    }

    /** The registers of a thread at a call's entry: those read at this stop when nothing changed them since, else read now. */
    private long[] entryRegs(Task task) {
        long[] regs = task.entryRegs;
        task.entryRegs = null; // about to be changed and written back
        return regs != null ? regs : ptrace.getRegsArray(task.tid);
    }

    /**
     * CLONE_UNTRACED would start a child no tracer sees: its calls would be missing from a recording,
     * and on replay it would act on the machine. The flag is taken away before the call runs (in
     * the register for clone, in the struct for clone3), and what the tracer sees is what runs.
     */
    private void keepTraced(Task task, int nr, long[] args) {
        if (nr == nrClone) {
            if ((args[0] & CLONE_UNTRACED) == 0) return;
            args[0] &= ~CLONE_UNTRACED;
            setSyscall(task, nr, args);
            return;
        }
        byte[] flags = new byte[8];
        if (args[0] == 0 || task.memory.read(args[0], flags, 0, 8) != 8) return;
        long f = ByteBuffer.wrap(flags).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if ((f & CLONE_UNTRACED) == 0) return;
        task.write(args[0], ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(f & ~CLONE_UNTRACED).array());
    }

    /**
     * Reads through /proc/PID/mem, which reads pages whatever their protection (as a debugger does); stops
     * at the first page it cannot read. Returns how many bytes it read.
     */
    private static int readAsDebugger(int pid, long address, byte[] dst, int off, int len) {
        int done = 0;
        try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile(ProcFs.proc(pid).resolve("mem").toFile(), "r")) {
            while (done < len) {
                long at = address + done;
                int chunk = (int) Math.min(len - done, WatchedPages.PAGE - (at & (WatchedPages.PAGE - 1)));
                mem.seek(at);
                int got = mem.read(dst, off + done, chunk);
                if (got <= 0) break;
                done += got;
            }
        } catch (java.io.IOException e) {
            // an unmapped page ends the read (EIO), as process_vm_readv's short count does
        }
        return done;
    }

    /** Reads a process's memory through the session's process_vm_readv binding. */
    private final class Memory implements TraceeMemory {
        private final int pid;

        Memory(int pid) {
            this.pid = pid;
        }

        @Override
        public int read(long address, byte[] dst, int off, int len) {
            int n = vm.read(pid, address, dst, off, len);
            if (n < len && debug != null && watchedPages.overlapsUnreadable(pid, address + n, len - n)) {
                // process_vm_readv honours page protections: a page a read watch made inaccessible is read as a debugger reads it
                n += readAsDebugger(pid, address + n, dst, off + n, len - n);
            }
            Map<Long, Byte> bps = debug == null ? null : debugBreakpoints.get(pid);
            if (bps != null && n > 0) {
                // The debugger's int3s are invisible: the bytes they replaced are read instead.
                for (Map.Entry<Long, Byte> bp : bps.entrySet()) {
                    long at = bp.getKey() - address;
                    if (at >= 0 && at < n) dst[off + (int) at] = bp.getValue();
                }
            }
            return n;
        }
    }

    private final class Task implements Tracee {
        final int tid;
        int pid;
        Memory memory;
        Pending pending;
        /** The tracer's answer to the call this thread is entering, while it is awaited. */
        CompletableFuture<Decision> decision;
        boolean started;
        boolean awaitingSpawn;
        boolean atEntry;
        /** The stop a held thread would go on from (ordering tracer or scheduler). */
        RunStop heldStop;
        /** Held at the entry of a call answered there ({@link #oneStop}): its exit is handled when it goes on. */
        boolean answeredAtEntry;
        /**
         * The registers read at the seccomp stop being handled, while the tracer decides the call (null
         * otherwise): the skip writes them back changed instead of reading them again. Dropped by whatever
         * else changes the registers meanwhile (an injected call, a result set).
         */
        long[] entryRegs;
        /** The result the tracer set at the exit stop being handled (a skipped call's to begin with), or null. */
        Long resultSet;
        /**
         * Recording, while its exit stop is being handled: the kernel's result, read with the
         * PTRACE_GET_SYSCALL_INFO that told the stop an exit (a thread let go on at once does not ask again).
         */
        boolean exitKnown;
        long exitResult;
        /** When it was last let run user code (nanoTime), and its CPU time then (-1: not read). */
        long releasedAt;
        long cpuAtRelease = -1;
        /** Its CPU time when it came back from its last call of the slice (a call it kept its turn through), or -1. */
        long cpuAtCallExit = -1;
        /** Its CPU time at the interrupt that preempted it (before any step to a guardable instruction), or -1. */
        long cpuAtInterrupt = -1;
        /** It was last resumed with a signal to deliver, and has not stopped since. */
        boolean signalDelivered;
        /** Recording: it entered a syscall keeping its turn (at enteredAt); not before sliceCheckAt is it preempted. */
        boolean keptTurn;
        long enteredAt;
        long sliceCheckAt;
        /** A PTRACE_INTERRUPT was sent and its stop has not come yet. */
        boolean interruptSent;
        /**
         * Recording under deja's filter ({@link #emulates}): its process installed a seccomp filter of its own, which
         * could fail or hand elsewhere a call before deja's filter stops it (a filter's ERRNO or USER_NOTIF wins over
         * TRACE): the thread stops at every call's entry (PTRACE_SYSCALL), ahead of any filter, as without deja's.
         */
        boolean everyEntry;
        /** Recording: single steps left to bring a preempted thread in JIT code to an instruction a guard can patch. */
        int stepsToPoint;
        /** The process's maps while it is stepped towards a guardable point. */
        String stepMaps;
        /**
         * Recording: the signal mask to put back when a thread stepped towards a guardable instruction with an
         * asynchronous signal held back (blocked, pending) is there; null when none is held.
         */
        Long maskBeforeHeldSignal;
        /** Recording: the signal held back, while {@link #maskBeforeHeldSignal} is set. */
        int heldSignal;
        /** Recording: a signal released after its stepping, not to be held again at its delivery. */
        int releasedSignal;
        /**
         * Recording: signal handlers the thread is in (deliveries to a handler less rt_sigreturns; a handler left
         * by longjmp keeps it above 0 for good): their frames hold addresses of the program's code to return to,
         * so no syscall instruction is patched meanwhile (a frame's rip inside a patch would land amid a jump).
         */
        int handlers;
        /** Recording: the clone it is in makes a child that runs in its memory (not a thread). */
        boolean cloningMemory;
        /** Recording: a signal or an interrupt held while the thread leaves a buffer stub ({@link #bufferStop}). */
        boolean bufferHeld;
        boolean bufferInterruptHeld;
        /** The thread's mask before the held signal was blocked, or null (an interrupt held). */
        Long bufferHeldMask;
        /** Recording: the preemption to report when the thread runs again. */
        dev.deja.formats.event.ScheduleEvent preemption;
        /** Replay: where to stop it on its next run (set by the tracer), and the search under way. */
        RunTarget target;
        PreemptionMatcher matcher;
        /** The instruction at {@link #matcher}'s target when it is a rep movs/stos, else null. */
        RepString rep;
        /** Replay: answers the tracer gave ahead at this call's entry, to put in at its exit; then those in place. */
        java.util.List<AnswerStub.Entry> aheadRequest;
        AheadAnswers ahead;
        /** The in-thread conditional breakpoint on the way to {@link #matcher}'s target, or null. */
        InThreadGuard guard;
        /** No guard could be installed for {@link #matcher}'s target: plain breakpoints then. */
        boolean guardRefused;
        /** DEJA_DEBUG_MATCH: the thread's CPU time when its run towards the target began. */
        long cpuAtTarget;
        /** The next breakpoint hit is observed with the thread's CPU time (the matcher measures a speed). */
        boolean timedHit;
        /** On a free run, which the alarm's SIGSTOP ends. */
        boolean freeRunning;
        /** The task-clock event ending the current free run, or -1 (none, or the alarm ends it). */
        int perfFd = -1;
        /** The thread's signal mask when a free run unblocked SIGTRAP in it, to restore; 0 when untouched. */
        long maskDuringFreeRun;
        /** SIGSTOPs of free runs that ended otherwise may still come: suppressed, not delivered. */
        int strayStops;
        boolean stepping;
        /** Debugger: stop at the program's start / after the current call; single-stepping (then continuing). */
        boolean debugStart;
        boolean debugStopAfterCall;
        boolean debugStepping;
        boolean debugContinueAfterStep;
        /** Debugger: execute one instruction and stop when the run next lets this thread run user code. */
        boolean debugStepWhenReleased;
        /** Debugger: the breakpoint stepped over, planted again at the next stop (0: none). */
        long debugReinsert;
        /** Debugger watchpoints: the access being stepped with its pages relaxed (null: none); pages relaxed around a real call. */
        WatchStep watchStep;
        boolean watchRelaxed;
        /** The thread's signal mask while a store is stepped with every signal blocked. */
        long maskDuringWatchStep;
        /** The planted int3's address (0: none) and the byte it replaced. */
        long breakpoint;
        byte breakpointByte;
        private java.nio.channels.FileChannel code;

        /** /proc/TID/mem opened for writing code, kept while breakpoints come and go. */
        java.nio.channels.FileChannel codeChannel() throws java.io.IOException {
            if (code == null || !code.isOpen()) {
                code = java.nio.channels.FileChannel.open(ProcFs.proc(tid).resolve("mem"),
                        java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
            }
            return code;
        }

        void closeCode() {
            if (code == null) return;
            try {
                code.close();
            } catch (java.io.IOException e) {
                // the process is gone: nothing to release
            }
            code = null;
        }

        Task(int tid, int pid) {
            this.tid = tid;
            this.pid = pid;
            this.memory = new Memory(pid);
        }

        @Override
        public int pid() {
            return pid;
        }

        @Override
        public int tid() {
            return tid;
        }

        @Override
        public TraceeMemory memory() {
            return memory;
        }

        @Override
        public void write(long address, byte[] data) {
            int done;
            try {
                done = vm.write(pid, address, data);
            } catch (NativeCallException e) {
                if (e.errno() != ProcessVm.EFAULT) throw e;
                done = 0; // not even the first page is writable to process_vm_writev: read-only text
            }
            if (done == data.length) return;
            // process_vm_writev honours page protections; /proc/PID/mem writes as a debugger does.
            try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile(ProcFs.proc(tid).resolve("mem").toFile(), "rw")) {
                mem.seek(address + done);
                mem.write(data, done, data.length - done);
            } catch (java.io.IOException e) {
                throw new DeviceException("cannot write " + data.length + " bytes at 0x" + Long.toHexString(address)
                        + " in pid " + pid + " tid " + tid + ": " + e.getMessage(), e);
            }
        }

        @Override
        public int writeAsKernel(long address, byte[] data) {
            if (debug != null && watchedPages.overlaps(pid, address, data.length)) {
                // A recorded output into a watched page: writable for the program, read-only only for deja's watch.
                write(address, data);
                return data.length;
            }
            try {
                return vm.write(pid, address, data);
            } catch (NativeCallException e) {
                if (e.errno() == ProcessVm.EFAULT) return 0; // not even the first page is writable
                throw new DeviceException("cannot write " + data.length + " bytes at 0x" + Long.toHexString(address)
                        + " in pid " + pid + " tid " + tid + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void setSiginfo(byte[] siginfo) {
            ptrace.setSiginfo(tid, siginfo);
        }

        @Override
        public long inject(int nr, long... args) {
            entryRegs = null;
            return RemoteSyscall.atEntry(ptrace, wait, tid, nr, args);
        }

        @Override
        public long[] registers() {
            try {
                return onceStopped(() -> ptrace.getRegsArray(tid));
            } catch (NativeCallException e) {
                throw new DeviceException("cannot read the registers of pid " + pid + " tid " + tid + ": "
                        + e.getMessage(), e);
            }
        }

        @Override
        public byte[] fpRegisters() {
            try {
                return onceStopped(() -> ptrace.getFpRegs(tid));
            } catch (NativeCallException e) {
                throw new DeviceException("cannot read the floating-point registers of pid " + pid + " tid " + tid
                        + ": " + e.getMessage(), e);
            }
        }

        /**
         * A ptrace request on this thread. A new thread its creator's clone just reported may not have reached
         * its first stop yet (ESRCH until the kernel has scheduled it there): asked from another thread's
         * debugger stop, the request is retried for a moment, leaving the stop for the loop to take.
         */
        private <T> T onceStopped(java.util.function.Supplier<T> request) {
            long giveUp = System.nanoTime() + FIRST_STOP_WAIT_NS;
            while (true) {
                try {
                    return request.get();
                } catch (NativeCallException e) {
                    if (e.errno() != ESRCH || started || System.nanoTime() > giveUp) throw e;
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                }
            }
        }

        @Override
        public String threadName() {
            return ProcFs.threadName(pid, tid);
        }

        @Override
        public void insertBreakpoint(long address) {
            if (debug == null) throw new IllegalStateException("this run has no debugger");
            Map<Long, Byte> bps = debugBreakpoints.computeIfAbsent(pid, p -> new HashMap<>());
            if (bps.containsKey(address)) return;
            byte[] orig = new byte[1];
            if (memory.read(address, orig, 0, 1) != 1) {
                throw new DeviceException("cannot read the instruction at 0x" + Long.toHexString(address) + " in pid " + pid);
            }
            writeCode(this, address, (byte) 0xCC);
            bps.put(address, orig[0]);
        }

        @Override
        public boolean removeBreakpoint(long address) {
            Map<Long, Byte> bps = debug == null ? null : debugBreakpoints.get(pid);
            Byte orig = bps == null ? null : bps.remove(address);
            if (orig == null) return false;
            if (debugReinsert == address) debugReinsert = 0;
            writeCode(this, address, orig);
            return true;
        }

        @Override
        public void watchMemory(long address, long length, boolean reads) {
            if (debug == null) throw new IllegalStateException("this run has no debugger");
            watchedPages.watch(pid, address, length, reads, ProcFs.maps(pid), this::injectNow);
        }

        @Override
        public void unwatchMemory(long address, long length, boolean reads) {
            if (debug == null) throw new IllegalStateException("this run has no debugger");
            watchedPages.unwatch(pid, address, length, reads, this::injectNow);
        }

        /**
         * Makes the thread execute a syscall in whatever stop it is in: at a syscall entry its own call
         * waits (RemoteSyscall.atEntry); elsewhere through a {@code syscall} instruction of its process.
         */
        long injectNow(int nr, long... args) {
            entryRegs = null;
            if (pending != null) return RemoteSyscall.atEntry(ptrace, wait, tid, nr, args);
            return RemoteSyscall.through(ptrace, wait, tid, syscallInstruction(this), nr, args);
        }

        /** {@link #injectNow} from the signal stops of a store's step, its signals already blocked: one stop per call. */
        long injectByStep(int nr, long... args) {
            entryRegs = null;
            return RemoteSyscall.stepping(ptrace, wait, tid, syscallInstruction(this), nr, args);
        }

        @Override
        public void stopAfterCall() {
            if (debug == null) throw new IllegalStateException("this run has no debugger");
            debugStopAfterCall = true;
        }

        @Override
        public java.util.List<Tracee> processThreads() {
            List<Tracee> same = new ArrayList<>();
            for (Task x : tasks.values()) if (x.pid == pid) same.add(x);
            same.sort(java.util.Comparator.comparingInt(Tracee::tid));
            return same;
        }

        @Override
        public ProcessCopies.Image copyProcess(int nrClone, ThreadFacts facts) {
            return copyTree(List.of(pid), nrClone, facts).get(pid);
        }

        @Override
        public Map<Integer, ProcessCopies.Image> copyTree(List<Integer> pids, int nrClone, ThreadFacts facts) {
            if (!pids.contains(pid)) throw new IllegalArgumentException("the tree's copy leaves out pid " + pid + ", at the call");
            List<Integer> order = new ArrayList<>(List.of(pid));
            for (int p : pids) if (p != pid) order.add(p);
            if (order.size() > 1 && !orders) {
                throw new DeviceException("this run does not hold its processes in turn: a copy of " + order.size()
                        + " processes cannot be taken");
            }
            // Every thread of every process is checked before any is interrupted out of its call or forked.
            for (int p : order) copyable(p, facts);
            Map<Integer, ProcessCopies.Image> made = new java.util.LinkedHashMap<>();
            try {
                for (int p : order) made.put(p, copyOf(p, nrClone, facts));
            } catch (DeviceException e) {
                ProcessCopies.kill(made.values().stream().map(ProcessCopies.Image::pid).toList());
                throw e;
            }
            return made;
        }

        /** The first thread of process {@code p} and its others (this one left out), by tid. */
        private List<Task> threadsOf(int p) {
            List<Task> others = new ArrayList<>();
            for (Task x : tasks.values()) if (x.pid == p && x != this && x.tid != p) others.add(x);
            others.sort(java.util.Comparator.comparingInt(x -> x.tid));
            return others;
        }

        /** Throws {@link DeviceException} when process {@code p} cannot be copied where its threads stand. */
        private void copyable(int p, ThreadFacts facts) {
            Task leader = tasks.get(p);
            if (leader == null) {
                throw new DeviceException("the first thread of pid " + p + " has ended: a copy is forked from it");
            }
            List<Task> others = threadsOf(p);
            if (!orders && (leader != this || !others.isEmpty())) {
                // Only a run that orders threads holds each where it can be copied.
                throw new DeviceException("pid " + p + " has threads this run does not hold in turn");
            }
            if (leader != this) {
                String why = leader.whyNoImage(facts);
                // Other restart codes are only registers: the kernel acts on them when the recorded signal is sent
                // at the exit, in the copy as here. restart_syscall would use a restart block a fork does not copy.
                if (why == null && leader.heldStop == RunStop.EXIT
                        && ptrace.getRegsArray(leader.tid)[X86Regs.RAX] == -Errno.ERESTART_RESTARTBLOCK) {
                    why = "is at the exit of a call a signal interrupted, which the kernel restarts with its restart block";
                }
                if (why != null) {
                    throw new DeviceException("the first thread of pid " + p + " (tid " + leader.tid + "), which a copy is"
                            + " forked from, " + why + " (a checkpoint can be taken at another call)");
                }
            }
            for (Task x : others) {
                String why = x.whyNoImage(facts);
                if (why != null) throw new DeviceException("thread " + x.tid + " of pid " + p + " " + why);
            }
        }

        /**
         * A copy of process {@code p} (this thread's or another of the tree), checked by {@link #copyable}. Threads
         * that run user code are stopped for their images and go on once the copy is made.
         */
        private ProcessCopies.Image copyOf(int p, int nrClone, ThreadFacts facts) {
            List<Task> stopped = new ArrayList<>();
            try {
                return copyOf(p, nrClone, facts, stopped);
            } finally {
                for (Task x : stopped) resume(x, 0); // as the loop lets a thread run between calls (PTRACE_CONT under a filter)
            }
        }

        private ProcessCopies.Image copyOf(int p, int nrClone, ThreadFacts facts, List<Task> stopped) {
            Task leader = tasks.get(p);
            List<ThreadImage> images = new ArrayList<>();
            boolean here = p == pid;
            if (here && leader != this) {
                // The thread at the checkpoint's call, at that call's entry: its copy enters it again.
                images.add(new ThreadImage(tid, ThreadImage.Stop.ENTRY, ptrace.getRegsArray(tid), ptrace.xstate(tid),
                        ptrace.sigMask(tid), ProcFs.threadName(pid, tid), facts.clearTidWord(tid), facts.altStack(tid),
                        robustList(), null));
            }
            for (Task x : threadsOf(p)) images.add(x.caughtWhereItStands() ? x.imageRunning(facts, stopped) : x.image(facts));
            long leaderWord = facts.clearTidWord(leader.tid);
            long[] leaderRobust = leader.robustList();
            if (leader == this || leader.heldStop == RunStop.ENTRY) {
                return new ProcessCopies.Image(ProcessCopies.fork(leader.tid, nrClone, true), false, leaderWord, leaderRobust,
                        null, images);
            }
            boolean caught = leader != this && leader.caughtWhereItStands();
            if (leader.heldStop == null && !caught) {
                return new ProcessCopies.Image(leader.forkFromCall(nrClone), true, leaderWord, leaderRobust, null, images);
            }
            ThreadImage held;
            long insn;
            if (caught) {
                // Let go on between calls: caught where it stands. Just before a call, it is forked as at that call's
                // entry (the copy issues it); else through a syscall instruction of its process, and kept as an image.
                held = leader.imageRunning(facts, stopped);
                if (held.stop() == ThreadImage.Stop.RUNNING && !stopped.contains(leader)) {
                    return new ProcessCopies.Image(ProcessCopies.fork(leader.tid, nrClone, true), false, leaderWord,
                            leaderRobust, null, images);
                }
                insn = syscallInstruction(leader); // not before rip at an execve's exit: that is the new program's start
            } else {
                // Held at a call's exit or in user code: forked through a syscall instruction of its process (this
                // thread's call's, else its vDSO's), and kept as an image.
                held = leader.image(facts);
                insn = here ? ptrace.getRegsArray(tid)[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH : syscallInstruction(leader);
            }
            int copy = ProcessCopies.forkFromStop(leader.tid, nrClone, insn, held);
            return new ProcessCopies.Image(copy, false, leaderWord, leaderRobust, held, images);
        }

        /** This thread's robust futex list (head, length): fork and clone do not carry it into a copy. */
        private long[] robustList() {
            try {
                return dev.deja.device.ffm.RobustList.of(tid);
            } catch (NativeCallException e) {
                throw new DeviceException("cannot read the robust futex list of tid " + tid + ": " + e.getMessage(), e);
            }
        }

        /**
         * The process forked from this thread, blocked in a call that runs for real: interrupted out of it, taken
         * on to the call's entry again (the kernel's restart), forked there with its copy at the entry of the call
         * it was in, and sent on into the call. See {@link #imageFromCall}.
         */
        private int forkFromCall(int nrClone) {
            long[] regs = interruptedCall();
            // The copy enters the call itself again, not restart_syscall: a restart_block is the original's.
            long[] atEntry = regs.clone();
            atEntry[X86Regs.RAX] = -ENOSYS;
            if (!toRestartEntry()) {
                throw new DeviceException("tid " + tid + " stopped otherwise on its way back into its call during a checkpoint"
                        + " (a checkpoint can be taken at another call)");
            }
            try {
                return ProcessCopies.fork(tid, nrClone, atEntry);
            } finally {
                ptrace.resumeToSyscall(tid, 0); // in the call again, as before
            }
        }

        /** Why this thread's image cannot be taken where it stands, or null. */
        private String whyNoImage(ThreadFacts facts) {
            if (target != null || matcher != null || guard != null || freeRunning || stepping || stepsToPoint > 0
                    || perfFd >= 0 || maskDuringFreeRun != 0 || strayStops > 0) {
                return "is on its way to a recorded point (a checkpoint can be taken at another call)";
            }
            if (debugStepping || debugReinsert != 0 || watchStep != null || breakpoint != 0) {
                return "is being stepped for the debugger";
            }
            if (awaitingSpawn || interruptSent || answeredAtEntry || decision != null) {
                return "has a stop deja has not finished with (a checkpoint can be taken at another call)";
            }
            if (heldStop != null) return null;
            if (pending == null) return started ? null : "has not started (it is neither held nor in a call)";
            if (ProcFs.taskState(pid, tid) == 't') return null; // back from its call: caught at its exit stop
            if (!facts.issuedAgainIfInterrupted(tid)) {
                if (reachesItsExitStop()) return null; // caught at its exit stop
                return "is in a call that runs for real and that the kernel does not issue again once interrupted ("
                        + table.name(pending.nr) + ")";
            }
            return null;
        }

        /**
         * Whether this thread, in a real call, reaches the call's exit stop within a few milliseconds: a call
         * that ends at once (an rt_sigsuspend the replay sent its signal at the entry of, in a process that runs
         * beside the one at the checkpoint) may still be on its way out, runnable ('R'), when the checkpoint is
         * asked for. One asleep in the kernel ('S', 'D': a vfork parent) is not waited for.
         */
        private boolean reachesItsExitStop() {
            long until = System.nanoTime() + 50_000_000L;
            while (true) {
                char state = ProcFs.taskState(pid, tid);
                if (state == 't') return true;
                if (state != 'R' || System.nanoTime() > until) return false;
                java.util.concurrent.locks.LockSupport.parkNanos(500_000L);
            }
        }

        private ThreadImage image(ThreadFacts facts) {
            if (heldStop == null) return imageFromCall(facts);
            ThreadImage.Stop stop = switch (heldStop) {
                case ENTRY -> ThreadImage.Stop.ENTRY;
                case EXIT -> ThreadImage.Stop.EXIT;
                case START -> ThreadImage.Stop.START;
                case PREEMPTED -> ThreadImage.Stop.USER;
            };
            return maskedIfSo(new ThreadImage(tid, stop, ptrace.getRegsArray(tid), ptrace.xstate(tid), ptrace.sigMask(tid),
                    ProcFs.threadName(pid, tid), facts.clearTidWord(tid), facts.altStack(tid), robustList(),
                    stop == ThreadImage.Stop.EXIT ? pending : null));
        }

        /**
         * {@code image}, an exit's, as a masked exit ({@link ThreadImage#atMaskedExit}) when the call ran under a
         * mask of its own and a signal ended it: the kernel applies the call's mask (SigBlk) until the signal is
         * delivered, where PTRACE_GETSIGMASK gives the mask it puts back then.
         */
        private ThreadImage maskedIfSo(ThreadImage image) {
            if (image.stop() != ThreadImage.Stop.EXIT || !Errno.restartResult(image.registers()[X86Regs.RAX])) return image;
            ProcFs.SignalState signals = ProcFs.signalsOfLive(pid, tid);
            long callMask = signals.blocked();
            if (callMask == image.signalMask()) return image;
            long ending = signals.pending() & ~callMask & image.signalMask();
            if (ending == 0) {
                throw new DeviceException("tid " + tid + " is at the exit of a call under a mask of its own and no signal"
                        + " that ended it is pending (a checkpoint can be taken at another call)");
            }
            int signo = Long.numberOfTrailingZeros(ending) + 1;
            if (signo >= SIGRTMIN) {
                // A copy's replay sends its recorded signals again: a queued real-time signal would come twice.
                throw new DeviceException("tid " + tid + " is at the exit of a call real-time signal " + signo
                        + " ended (a checkpoint can be taken at another call)");
            }
            return image.atMaskedExit(callMask, signo);
        }

        /**
         * The image of a thread blocked in a call that runs for real: PTRACE_INTERRUPT brings it out of the call
         * (its exit stop with a restart code) and, once imaged, it is sent back in (the interrupt's stop, the call's
         * entry again) without the loop or the tracer seeing any of it. A thread whose call returned meanwhile
         * keeps that stop for the loop (and the interrupt's after it is dropped): no image then.
         */
        private ThreadImage imageFromCall(ThreadFacts facts) {
            long[] robust = robustList();
            long[] regs = interruptedCall();
            ThreadImage image = new ThreadImage(tid, ThreadImage.Stop.IN_CALL, regs, ptrace.xstate(tid),
                    ptrace.sigMask(tid), ProcFs.threadName(pid, tid), facts.clearTidWord(tid), facts.altStack(tid), robust,
                    null);
            backIntoCall();
            return image;
        }

        /**
         * The image of a thread the run lets go on between calls (another process's, beside the one at the
         * checkpoint), caught where it stands ({@link #caughtBetweenCalls}). A thread stopped in user code for it
         * is in {@code stopped} after: it goes on once its process is copied.
         */
        private ThreadImage imageRunning(ThreadFacts facts, List<Task> stopped) {
            long[] robust = robustList();
            Caught c = caughtBetweenCalls();
            if (c.interrupted()) stopped.add(this);
            return maskedIfSo(new ThreadImage(tid, c.stop(), c.regs(), ptrace.xstate(tid), ptrace.sigMask(tid),
                    ProcFs.threadName(pid, tid), facts.clearTidWord(tid), facts.altStack(tid), robust,
                    c.stop() == ThreadImage.Stop.EXIT ? pending : null));
        }

        /** Whether the run lets this thread go on where it stands: between calls, or back from a real call at an exit stop the loop has not taken. */
        private boolean caughtWhereItStands() {
            return heldStop == null && (pending == null || ProcFs.taskState(pid, tid) == 't');
        }

        /**
         * Where a thread the run lets go on between calls stands: {@link ThreadImage.Stop#RUNNING} with its
         * registers in user code ({@code interrupted}: PTRACE_INTERRUPT stopped it there); or, when it already
         * reached a stop the loop has not taken (deja was busy with the checkpoint's), RUNNING with the registers
         * to issue the call whose entry stop it is at, or {@link ThreadImage.Stop#EXIT} at a call's exit stop.
         * Such a stop goes back to the loop, to be taken as it would have been. Any other stop goes back to the
         * loop too, and {@link DeviceException} says the checkpoint cannot be taken.
         */
        private Caught caughtBetweenCalls() {
            int status = -1;
            if (ProcFs.taskState(pid, tid) == 't' && wait.waitpid(tid, Wait.WALL | Wait.WNOHANG) == tid) {
                status = wait.status();
            }
            boolean interrupted = status == -1;
            if (interrupted && pending != null) {
                throw new DeviceException("thread " + tid + " of pid " + pid + " is in a call deja has not seen end"
                        + " (a checkpoint can be taken at another call)");
            }
            if (interrupted) {
                ptrace.interrupt(tid);
                status = waitOwn("its interrupt");
                if (trapStop(status)) return new Caught(ThreadImage.Stop.RUNNING, ptrace.getRegsArray(tid), true);
            } else if (execStop(status)) {
                status = pastExec();
            }
            if (!interrupted && Wait.stopped(status) && Wait.stopSignal(status) == SYSCALL_STOP) {
                redelivered.add(new int[] {tid, status});
                long[] regs = ptrace.getRegsArray(tid);
                if (ptrace.syscallInfo(tid).get(ValueLayout.JAVA_BYTE, 0) == Ptrace.SYSCALL_INFO_EXIT) {
                    return new Caught(ThreadImage.Stop.EXIT, regs, false);
                }
                long[] before = regs.clone();
                before[X86Regs.RAX] = regs[X86Regs.ORIG_RAX];
                before[X86Regs.RIP] -= X86Regs.SYSCALL_INSN_LENGTH;
                before[X86Regs.ORIG_RAX] = -1;
                return new Caught(ThreadImage.Stop.RUNNING, before, false);
            }
            if (interrupted && Wait.stopped(status)) interruptSent = true;
            redelivered.add(new int[] {tid, status});
            throw new DeviceException("thread " + tid + " of pid " + pid + " stopped otherwise as deja caught it for a"
                    + " checkpoint (wait status 0x" + Integer.toHexString(status) + "; a checkpoint can be taken at another"
                    + " call)");
        }

        /** Whether {@code status} is this thread's exec stop, its own (not a sibling thread's exec taking its tid). */
        private boolean execStop(int status) {
            return Wait.stopped(status) && Wait.stopSignal(status) == Signals.SIGTRAP
                    && Wait.ptraceEvent(status) == Ptrace.EVENT_EXEC && (int) ptrace.eventMessage(tid) == tid;
        }

        /**
         * A process run beside the one at the checkpoint stopped in its exec (the debugger held the loop
         * meanwhile): the loop's own handling of the exec stop now (the tracer sees the new program as it would
         * have), then on to the execve's exit stop, whose status is returned. No copy can be taken inside an exec;
         * at its exit one can, as at any call's exit.
         */
        private int pastExec() {
            if (!ptraceEvent(this, Ptrace.EVENT_EXEC)) {
                throw new DeviceException("thread " + tid + " of pid " + pid + " ended in its exec as deja caught it for a"
                        + " checkpoint (a checkpoint can be taken at another call)");
            }
            started = true;
            resume(this, 0);
            return waitOwn("its exec's return");
        }

        /** A thread caught between calls: see {@link #caughtBetweenCalls}. */
        private record Caught(ThreadImage.Stop stop, long[] regs, boolean interrupted) {
        }

        private static boolean trapStop(int status) {
            return Wait.stopped(status) && Wait.ptraceEvent(status) == Ptrace.EVENT_STOP
                    && Wait.stopSignal(status) == Signals.SIGTRAP;
        }

        /**
         * Interrupts this thread, blocked in a call that runs for real, and returns its registers at that call's
         * exit stop (a restart code in rax). A thread whose call returned meanwhile keeps that stop for the loop
         * (the interrupt's stop after it is dropped): {@link DeviceException} then.
         */
        private long[] interruptedCall() {
            ptrace.interrupt(tid);
            int status = waitOwn("its interrupt");
            if (Wait.stopped(status) && Wait.stopSignal(status) == SYSCALL_STOP
                    && ptrace.syscallInfo(tid).get(ValueLayout.JAVA_BYTE, 0) == Ptrace.SYSCALL_INFO_EXIT) {
                long[] regs = ptrace.getRegsArray(tid);
                if (Errno.restartResult(regs[X86Regs.RAX])) return regs;
            }
            if (Wait.stopped(status)) interruptSent = true;
            redelivered.add(new int[] {tid, status});
            throw new DeviceException("thread " + tid + " of pid " + pid + " came back from its call as deja interrupted it"
                    + " for a checkpoint (a checkpoint can be taken at another call)");
        }

        /** From the exit stop of its interrupted call: on through the interrupt's stop into the call again. */
        private void backIntoCall() {
            if (toRestartEntry()) ptrace.resumeToSyscall(tid, 0); // in the call again, as before
        }

        /**
         * From the exit stop of its interrupted call, on through the interrupt's stop to the entry stop of the call
         * the kernel issues again; true there. False when the thread was killed or stopped otherwise on the way
         * (a signal from outside): that stop is the loop's, as it would have been.
         */
        private boolean toRestartEntry() {
            for (int stops = 0; stops < 8; stops++) {
                if (!ptrace.resumeToSyscall(tid, 0)) return false; // killed meanwhile: the loop reaps it
                int status = waitOwn("its way back into its call");
                if (Wait.stopped(status) && (Wait.ptraceEvent(status) == Ptrace.EVENT_STOP
                        || Wait.ptraceEvent(status) == Ptrace.EVENT_SECCOMP)) {
                    continue;
                }
                if (Wait.stopped(status) && Wait.stopSignal(status) == SYSCALL_STOP
                        && ptrace.syscallInfo(tid).get(ValueLayout.JAVA_BYTE, 0) == Ptrace.SYSCALL_INFO_ENTRY) {
                    return true;
                }
                redelivered.add(new int[] {tid, status});
                return false;
            }
            throw new DeviceException("tid " + tid + " did not go back into its call after its interrupt");
        }

        private int waitOwn(String what) {
            int got = wait.waitpid(tid, Wait.WALL);
            if (got != tid) throw new DeviceException("cannot wait for tid " + tid + " during " + what);
            return wait.status();
        }

        @Override
        public void stepWhenReleased(boolean on) {
            if (debug == null) throw new IllegalStateException("this run has no debugger");
            // At or in a call (held at its entry, or blocked in it): the step is the call, as gdb steps a syscall.
            boolean inCall = heldStop == RunStop.ENTRY || pending != null;
            debugStepWhenReleased = on && !inCall;
            debugStopAfterCall = on && inCall;
        }

        @Override
        public void stopAt(RunTarget where) {
            this.target = where;
        }

        @Override
        public boolean answerAhead(java.util.List<AnswerStub.Entry> answers) {
            if (!oneStop || !AheadAnswers.ENABLED) return false;
            if (launched && !answers.isEmpty()) aheadRequest = answers;
            return true;
        }

        @Override
        public boolean answerableAhead(int nr) {
            if (!oneStop || !AheadAnswers.ENABLED) return false;
            if (callSites.getOrDefault(pid, Map.of()).containsKey(nr)) return true;
            String program = programOf.get(pid);
            return program != null && programSites.getOrDefault(program, Map.of()).containsKey(nr);
        }

        @Override
        public void setResult(long value) {
            entryRegs = null;
            resultSet = value;
            long[] regs = ptrace.getRegsArray(tid);
            regs[X86Regs.RAX] = value;
            ptrace.setRegs(tid, regs);
        }
    }

    /** argv, envp and auxv as the kernel laid them out on a new program's stack. */
    record StackVectors(List<String> argv, long auxvAddress, long[] auxv) {
        static StackVectors read(TraceeMemory mem, long sp) {
            WordReader words = new WordReader(mem, sp);
            long argc = words.next();
            List<String> argv = new ArrayList<>();
            for (long i = 0; i < argc; i++) argv.add(cString(mem, words.next()));
            words.next(); // argv's NULL
            while (words.next() != 0) {
                // skip envp
            }
            long auxvAddress = words.position();
            List<Long> pairs = new ArrayList<>();
            while (true) {
                long type = words.next();
                long value = words.next();
                pairs.add(type);
                pairs.add(value);
                if (type == AT_NULL) break;
            }
            return new StackVectors(argv, auxvAddress, pairs.stream().mapToLong(Long::longValue).toArray());
        }
    }

    private static String cString(TraceeMemory mem, long address) {
        byte[] buf = new byte[4096];
        int n = mem.read(address, buf, 0, buf.length);
        int len = 0;
        while (len < n && buf[len] != 0) len++;
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }

    /** Reads consecutive 64-bit words of tracee memory, a page at a time. */
    private static final class WordReader {
        private final TraceeMemory mem;
        private final byte[] page = new byte[4096];
        private long base;
        private int valid;
        private int at;

        WordReader(TraceeMemory mem, long start) {
            this.mem = mem;
            this.base = start;
        }

        long position() {
            return base + at;
        }

        long next() {
            if (at + 8 > valid) {
                base += at;
                at = 0;
                valid = mem.read(base, page, 0, page.length);
                if (valid < 8) throw new DeviceException("cannot read the new program's stack at 0x" + Long.toHexString(base));
            }
            long v = ByteBuffer.wrap(page, at, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            at += 8;
            return v;
        }
    }
}
