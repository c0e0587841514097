package dev.deja.replayer;

import static dev.deja.device.syscall.AtFlags.AT_FDCWD;

import dev.deja.device.DebugAgent;
import dev.deja.device.Decision;
import dev.deja.device.DeviceException;
import dev.deja.device.MemoryWitness;
import dev.deja.device.RunStop;
import dev.deja.device.RunTarget;
import dev.deja.device.SyscallEntry;
import dev.deja.device.ThreadFacts;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.ffm.Signals;
import dev.deja.device.syscall.ArgKind;
import dev.deja.device.syscall.ArgSpec;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.Schema;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.device.x86.AnswerStub;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingFormat;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The deciding tracer behind {@code deja replay}. At each syscall entry it takes the next recorded
 * call of the same (recorded) thread, checks it against what the live thread asks (number, scalar
 * arguments, input bytes), and answers:
 * <ul>
 *   <li>calls that read or change the world are skipped with the recorded result, the memory the
 *       kernel wrote is written back at the addresses the live thread passed, and data written to
 *       the recorded program's stdout/stderr is reproduced by deja itself, once;</li>
 *   <li>calls that shape the process (memory, threads and processes, signal state, exit) run for
 *       real and their results are checked, or mapped back to the recorded ids;</li>
 *   <li>file mappings are made from the recording's copy of the file, at the recorded address;
 *       exec runs the recording's copy of the executable.</li>
 * </ul>
 * Signals are delivered at the recorded syscall boundary (sent by deja after the call that preceded
 * them in the recording); real asynchronous signals are suppressed.
 */
final class ReplayTracer implements Tracer {
    /** Carries a divergence or a failure out of a device callback; the session then kills the tree. */
    static final class Stop extends RuntimeException {
        final transient Divergence divergence;
        final ReplayException failure;

        Stop(Divergence d) {
            super(d.headline(), null, false, false);
            this.divergence = d;
            this.failure = null;
        }

        Stop(ReplayException f) {
            super(f.getMessage(), f, false, false);
            this.divergence = null;
            this.failure = f;
        }
    }

    /**
     * deja's own page in a replayed process (paths, vectors): above where brk and ZGC's heap views
     * (4, 8 and 16 TiB) go, far below the libraries and stacks that mmap places top-down.
     */
    private static final long SCRATCH = 0x5f0000000000L;
    private static final long SCRATCH_SIZE = 1 << 16;
    /**
     * Where a #! script's rewritten argv goes when it does not fit in the scratch page (the kernel
     * takes up to a quarter of the stack limit of arguments): deja's own range, above the scratch page.
     */
    private static final long ARGS_AREA = SCRATCH + (1L << 24);
    private static final long MAP_SHARED_TYPE = 0x3;
    private static final long MAP_PRIVATE = 0x2;
    private static final long MAP_FIXED = 0x10;
    private static final long MAP_ANONYMOUS = 0x20;
    private static final long MAP_FIXED_NOREPLACE = 0x100000;
    private static final long CLONE_THREAD = 0x10000;
    private static final long CLONE_VFORK = 0x4000;
    private static final long CLONE_VM = 0x100;
    private static final long CLONE_PARENT_SETTID = 0x100000;
    private static final int AT_RANDOM = 25;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final int O_RDWR_CLOEXEC = 0x80002;
    private static final long PROT_WRITE = 0x2;
    private static final int EEXIST = 17;
    private static final int EINTR = 4;
    private static final long WNOHANG = 1;
    private static final long P_PID = 1;
    /** rax in {@link Tracee#registers()} (struct user_regs_struct order). */
    private static final int REG_RAX = 10;
    private static final long CLONE_FILES = 0x400;
    private static final int SIGCHLD = 17;
    /**
     * Calls a process of one thread may replay ahead of the recorded order ({@link #goesAhead}): answered
     * from the recording or acting only on the process itself, never waiting for another process.
     */
    private static final List<String> OWN_CALLS = List.of("read", "pread64", "readv", "preadv", "preadv2", "write",
            "pwrite64", "writev", "pwritev", "pwritev2", "open", "openat", "openat2", "close", "fstat", "newfstatat",
            "stat", "lstat", "statx", "statfs", "fstatfs", "lseek", "access", "faccessat", "faccessat2", "getdents",
            "getdents64", "readlink", "readlinkat", "getcwd", "brk", "mmap", "munmap", "mprotect", "madvise", "mremap",
            "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "rt_sigaction", "rt_sigprocmask", "sigaltstack",
            "prlimit64", "getrlimit", "getrandom", "clock_gettime", "clock_getres", "gettimeofday", "time", "getpid",
            "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getpgrp", "getpgid", "getsid",
            "uname", "sysinfo", "times", "getrusage", "fcntl", "dup", "dup2", "dup3", "umask", "unlink", "unlinkat",
            "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "chmod", "fchmod", "fchmodat", "utimensat",
            "ftruncate", "fsync", "fdatasync", "fadvise64", "sched_getaffinity");
    /** Of {@link #OWN_CALLS}, those that may write to the recorded program's stdout or stderr, which the replay prints. */
    private static final List<String> WRITES = List.of("write", "pwrite64", "writev", "pwritev", "pwritev2");
    /** Calls that shape the process itself: they run for real. */
    private static final List<String> RUN = List.of("brk", "mprotect", "munmap", "madvise", "mremap", "arch_prctl",
            "set_tid_address", "set_robust_list", "rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
            "sigaltstack", "exit", "exit_group", "clone", "clone3", "fork", "vfork", "wait4", "waitid", "futex",
            "setrlimit", "mlock", "munlock", "mlockall", "munlockall", "membarrier", "pkey_mprotect", "pkey_alloc",
            "pkey_free", "shmdt");
    /** Real-run calls whose result deja gives back from the recording rather than checks. */
    private static final List<String> RESULT_FROM_RECORDING = List.of("set_tid_address", "clone", "clone3", "fork",
            "vfork", "wait4", "waitid", "futex", "rt_sigreturn", "membarrier");

    private final Recording recording;
    private final RecordedRun run;
    private final Schemas schemas;
    private final SyscallTable table;
    private final Renderer renderer;
    private final OutputStream out;
    private final OutputStream err;
    private final Path scratchDir;
    private final boolean markEvents;
    /** Per output stream (1, 2): whether the next byte starts a line (for {@code -M}). */
    private final boolean[] lineStart = {true, true, true};
    private final List<String> warnings = new ArrayList<>();

    private final Set<Integer> runNrs = new HashSet<>();
    private final Set<Integer> ownCalls = new HashSet<>();
    private final Set<Integer> writes = new HashSet<>();
    /** Whether processes that share no memory replay their own calls side by side ({@link #goesAhead}). */
    private boolean inParallel;
    private long stepsAhead;
    /** The program sees none of it (its affinity and CPU reads are answered from the recording). */
    private boolean oneCpu = true;
    /** Recorded calls run for real that end their thread at their return: forks the thread was killed in. */
    private final Map<Long, Integer> diesAtReturn = new HashMap<>();
    private final Set<Integer> resultFromRecording = new HashSet<>();
    private final int nrExecve;
    private final int nrExecveat;
    private final int nrMmap;
    private final int nrOpenat;
    private final int nrClose;
    private final int nrChdir;
    private final int nrPause;
    private final int nrExitGroup;
    private final int nrRestartSyscall;
    /** Real calls whose recorded signal was sent at their entry (not again at their exit). */
    private final java.util.Set<Long> signalledAtEntry = new java.util.HashSet<>();
    /**
     * Live tids whose real call a live signal interrupted (a real child's SIGCHLD during fork or wait4),
     * which the recording saw end without one: the kernel issues the call again once deja has dropped
     * that signal, and that entry is the same recorded call.
     */
    private final Set<Integer> reissued = new HashSet<>();
    /**
     * Live tid to the alternate signal stack its last sigaltstack set (run for real, so the kernel has it too;
     * a checkpoint's copy of the thread is given it again). A fork's child inherits its creator's, a thread starts
     * without one, an exec clears it.
     */
    private final Map<Integer, ThreadFacts.AltStack> altStacks = new HashMap<>();
    private static final int SS_DISABLE = 2;
    /** Live tids waiting in pause() for their process's end (their recorded calls are over, or never returned). */
    private final Set<Integer> waitingForTheEnd = new HashSet<>();
    /** Live tids at a real call's exit found not interrupted: the registers are read once per exit stop. */
    private final Set<Integer> exitChecked = new HashSet<>();
    /** Real-run calls the kernel may end with a restart code when a signal is pending. */
    private final Set<Integer> restartable = new HashSet<>();
    private final int nrPrlimit;
    private final int nrWait4;
    private final int nrWaitid;
    private final int nrShmat;
    private final int nrSigaltstack;
    private final int nrMprotect;
    private final int nrPkeyMprotect;
    private final int nrClone;
    private final int nrClone3;

    private final Map<Integer, Integer> liveToRecTid = new HashMap<>();
    private final Map<Integer, Integer> recToLivePid = new HashMap<>();
    private final Map<Integer, Integer> recToLiveTid = new HashMap<>();
    /**
     * Format version 4 on: a kill between recorded processes is answered from the recording and its signal
     * sent where the recording saw it land (SIGKILL apart); before, the kill ran for real.
     */
    private final SignalRules signals;
    /** Whether the recording's stack hashes and memory witnesses leave cpuid's APIC IDs out (format version 6 on). */
    private final boolean apicIdsLeftOut;
    /** Live tids killed when their recorded end (by SIGKILL, between calls) was the next step. */
    private final Set<Integer> killedAtItsEnd = new HashSet<>();
    private final Set<Integer> waitsForSignal = new HashSet<>();
    /** Waits that take a signal mask for their duration (pselect6, ppoll, epoll_pwait, epoll_pwait2). */
    private final Set<Integer> maskedWaits = new HashSet<>();
    private final int nrSigsuspend;
    private final Map<Integer, Map<Integer, Integer>> fdTables = new HashMap<>();
    private final Map<Integer, Pending> pending = new HashMap<>();
    private final Map<Integer, Long> scratch = new HashMap<>();
    /**
     * Per live process, the recorded copies its file mappings opened, left open (close-on-exec) for its next
     * mappings of the same files (the loader maps each library four times, and each open and close is an
     * injected call, two stops) and for the mappings answered ahead, made in the stubs with their descriptors.
     * The program never sees them: every call of its that names a descriptor is answered from the recording,
     * and none that makes one runs for real.
     */
    private final Map<Integer, Map<OpenCopy, Long>> openCopies = new HashMap<>();
    /** A recorded copy opened in a replayed process: its path and the open's flags. */
    private record OpenCopy(String path, long flags) {
    }
    /**
     * Copies a process keeps open at most; past them, a mapping opens and closes its own copy. One kept is never
     * closed before the exec (an answer given ahead may map it), and a program that maps files by the thousand
     * must not run out of descriptors in replay.
     */
    private static final int MAX_OPEN_COPIES = 128;
    private final AnswersAhead answersAhead;
    /** Per live thread: its stretch of calls answered ahead. */
    private final Map<Integer, Ahead> ahead = new HashMap<>();
    /** Until the device says it never answers ahead. */
    private boolean aheadWanted = true;
    /** Signals deja sent each live thread, to let through at delivery: with the recorded siginfo when it has one. */
    private final Map<Integer, Deque<Injected>> injected = new HashMap<>();

    private record Injected(int signo, byte[] siginfo) {
    }
    private final Map<String, Path> execCopies = new HashMap<>();
    /** Recorded path of a file mapped shared and writable to the replay's own copy of it. */
    private final Map<String, Path> sharedCopies = new HashMap<>();
    private long replayed;
    /** The first step of the recorded timeline not done in replay (the run keeps which steps are done). */
    private int nextStep;
    /**
     * The live threads released to run user code until their next stop, each with its live pid. Of the
     * threads that share memory (a process's, and those of processes that may share writable memory),
     * one at a time runs: what they do in memory between syscalls depends on their interleaving.
     * Processes that share none run side by side: they meet only through calls, which go in recorded order.
     */
    private final Map<Integer, Integer> running = new HashMap<>();
    /**
     * Live pids that may share writable memory with another process (a MAP_SHARED mapping, SysV shared
     * memory, a CLONE_VM child, or inherited across fork), until they exec: their threads take turns
     * with those of every other such process.
     */
    private final Set<Integer> sharingPids = new HashSet<>();
    /** Live pids with a shared mapping not writable (yet): an mprotect adding PROT_WRITE makes them sharing. */
    private final Set<Integer> sharedReadOnly = new HashSet<>();
    private final Set<Integer> mayBlock = new HashSet<>();
    private final int nrFutex;
    private final int nrTgsigqueueinfo;
    private boolean warnedKernelCopy;
    private ReplayControl control = ReplayControl.NONE;
    private DebugAgent debugAgent;
    /** Live tid to the recorded preemption it is on its way to, and to the one it is stopped at. */
    private final Map<Integer, ScheduleEvent> armed = new HashMap<>();
    private final Map<Integer, ScheduleEvent> preempted = new HashMap<>();
    /** Live tids of exiting threads, held at their exit's entry, to the joiner that must first reach its futex wait. */
    private final Map<Integer, Integer> exitHeldFor = new HashMap<>();
    private static final int FUTEX_CMD_MASK = 0x7f;
    private static final int FUTEX_WAIT = 0;
    private static final int FUTEX_WAIT_BITSET = 9;
    /** New tasks' CLONE_CHILD_SETTID words, to hold the recorded tid when they first run. */
    private final Map<Integer, Long> childTidWord = new HashMap<>();
    /**
     * Recorded tid to the CLONE_CHILD_CLEARTID word its recorded clone named (a function of the recording
     * alone, so checkpoints need no copy of it): the word a joiner's futex wait for that thread is on.
     */
    private final Map<Integer, Long> clearTidWord = new HashMap<>();
    /** How many of a joiner's next calls are searched for its futex wait on an exiting thread's tid. */
    private static final int JOIN_LOOKAHEAD = 512;
    /** The last tracee each live thread was seen as (for writes at a clone's spawn event). */
    private final Map<Integer, Tracee> tracees = new HashMap<>();
    /** Without any stop for this long (or four times the recorded gap), the replay has left the recording. */
    static final long PROGRESS_LIMIT_NS = 10_000_000_000L;
    private static final long CLONE_CHILD_SETTID = 0x01000000;
    private static final long CLONE_CHILD_CLEARTID = 0x00200000;

    /** A call answered at entry, finished at its exit stop. */
    private record Pending(SyscallEvent rec, long[] liveArgs, List<MemoryBlock> liveInputs, boolean ranForReal) {
    }

    ReplayTracer(Recording recording, RecordedRun run, Schemas schemas, OutputStream out, OutputStream err,
                 Path scratchDir, boolean markEvents) {
        this.markEvents = markEvents;
        this.recording = recording;
        this.run = run;
        this.schemas = schemas;
        this.table = schemas.table();
        this.renderer = new Renderer(schemas.arch());
        this.out = out;
        this.err = err;
        this.scratchDir = scratchDir;
        for (String n : RUN) table.number(n).ifPresent(runNrs::add);
        for (String n : OWN_CALLS) table.number(n).ifPresent(ownCalls::add);
        for (String n : WRITES) table.number(n).ifPresent(writes::add);
        for (String n : RESULT_FROM_RECORDING) table.number(n).ifPresent(resultFromRecording::add);
        nrExecve = nr("execve");
        nrExecveat = nr("execveat");
        nrMmap = nr("mmap");
        nrOpenat = nr("openat");
        nrClose = nr("close");
        nrChdir = nr("chdir");
        nrPause = nr("pause");
        nrExitGroup = nr("exit_group");
        nrRestartSyscall = nr("restart_syscall");
        nrPrlimit = nr("prlimit64");
        nrClone = nr("clone");
        nrClone3 = nr("clone3");
        this.signals = new SignalRules(table,
                recording.header().formatVersion() >= RecordingFormat.KILLS_FROM_RECORDING_VERSION, run::hasProcess);
        this.apicIdsLeftOut = recording.header().formatVersion() >= RecordingFormat.APIC_IDS_LEFT_OUT_VERSION;
        for (String n : List.of("rt_sigsuspend", "pause")) table.number(n).ifPresent(waitsForSignal::add);
        for (String n : List.of("pselect6", "ppoll", "epoll_pwait", "epoll_pwait2")) table.number(n).ifPresent(maskedWaits::add);
        nrSigsuspend = nr("rt_sigsuspend");
        for (String n : List.of("wait4", "waitid", "pause", "rt_sigsuspend", "vfork")) {
            table.number(n).ifPresent(mayBlock::add);
        }
        nrFutex = nr("futex");
        nrWait4 = nr("wait4");
        for (String n : List.of("clone", "clone3", "fork", "vfork", "wait4", "waitid", "futex")) {
            table.number(n).ifPresent(restartable::add);
        }
        nrWaitid = nr("waitid");
        nrShmat = nr("shmat");
        nrSigaltstack = nr("sigaltstack");
        nrMprotect = nr("mprotect");
        nrPkeyMprotect = nr("pkey_mprotect");
        nrTgsigqueueinfo = nr("rt_tgsigqueueinfo");
        this.answersAhead = new AnswersAhead(schemas);
    }

    private int nr(String name) {
        return table.number(name).orElse(-1);
    }

    List<String> warnings() {
        return warnings;
    }

    /** A debugger driving the replay (gdb server), or null. */
    void debugAgent(DebugAgent agent) {
        this.debugAgent = agent;
    }

    @Override
    public DebugAgent debugAgent() {
        return debugAgent;
    }

    /** A debugger's hold on this replay (see {@link ReplayControl}); none by default. */
    void control(ReplayControl c) {
        this.control = c;
    }

    long replayed() {
        return replayed;
    }

    /** Whether calls skipped at their entry are over there, with no exit stop (a replay without a debugger). */
    private boolean oneStop;

    void answerAtOneStop(boolean on) {
        this.oneStop = on;
    }

    /** Lets processes of one thread that share no memory replay their own calls out of the recorded order. */
    void replayProcessesInParallel(boolean on) {
        this.inParallel = on;
    }

    /** Whether the replayed program runs on one CPU with deja's tracing thread ({@link Replayer#CPUS_ENV}). */
    void onOneCpu(boolean on) {
        this.oneCpu = on;
    }

    @Override
    public boolean onOneCpu() {
        return oneCpu;
    }

    /** How many steps went ahead of the recorded order. */
    long stepsAhead() {
        return stepsAhead;
    }

    /**
     * A skipped call's exit needs nothing of its exit stop here: its outputs are written at its entry,
     * and what {@link #onSyscall} does for it (the exit's step, signals sent after it) may happen there.
     */
    @Override
    public boolean answersAtOneStop() {
        return oneStop;
    }

    @Override
    public boolean decides() {
        return true;
    }

    /** A skipped call's outputs are the recorded ones, written by {@link #writeOutputs}: never read back. */
    @Override
    public boolean readsOutputsOfSkippedCalls() {
        return false;
    }

    /** The recording has the mappings: a replayed mmap needs no look at the file it mapped. */
    @Override
    public boolean wantsMappings() {
        return false;
    }

    // ---------------------------------------------------------------- checkpoints

    /**
     * The replay's own state at a stop parked before {@code parked} (taken by live thread
     * {@code liveTid}, not replayed yet), to go back to with a copy of the process (see
     * {@link Checkpoints}). Copies of every table that changes as the replay goes; the live ids in them
     * are those of the process copied.
     */
    record State(RecordedRun.Position position, boolean[] lineStart, int warnings, Set<Long> signalledAtEntry,
                 Map<Integer, Integer> liveToRecTid, Map<Integer, Integer> recToLivePid, Map<Integer, Integer> recToLiveTid,
                 Map<Integer, Map<Integer, Integer>> fdTables, Map<Integer, Pending> pending, Map<Integer, Long> scratch,
                 Map<Integer, List<Injected>> injected, Map<String, Path> sharedCopies, long replayed, int nextStep,
                 Map<Integer, Integer> running, Set<Integer> sharingPids, Set<Integer> sharedReadOnly, boolean warnedKernelCopy, Map<Integer, ScheduleEvent> armed,
                 Map<Integer, ScheduleEvent> preempted, Map<Integer, Integer> exitHeldFor, Map<Integer, Long> childTidWord,
                 Set<Integer> reissued, Set<Integer> waitingForTheEnd, Map<Integer, ThreadFacts.AltStack> altStacks) {
    }

    State state(SyscallEvent parked, int liveTid) {
        Map<Integer, Map<Integer, Integer>> fds = new HashMap<>();
        fdTables.forEach((pid, table) -> fds.put(pid, new HashMap<>(table)));
        Map<Integer, List<Injected>> queued = new HashMap<>();
        injected.forEach((tid, q) -> queued.put(tid, List.copyOf(q)));
        Integer recTid = liveToRecTid.get(liveTid);
        return new State(run.position(nextStep, recTid == null ? -1 : recTid, parked), lineStart.clone(),
                warnings.size(), new HashSet<>(signalledAtEntry), new HashMap<>(liveToRecTid), new HashMap<>(recToLivePid),
                new HashMap<>(recToLiveTid), fds, new HashMap<>(pending), new HashMap<>(scratch), queued,
                new HashMap<>(sharedCopies), replayed, nextStep, new HashMap<>(running), new HashSet<>(sharingPids), new HashSet<>(sharedReadOnly), warnedKernelCopy, new HashMap<>(armed),
                new HashMap<>(preempted), new HashMap<>(exitHeldFor), new HashMap<>(childTidWord), new HashSet<>(reissued),
                new HashSet<>(waitingForTheEnd), new HashMap<>(altStacks));
    }

    /**
     * Whether live thread {@code tid} is in a real call the kernel issues again once interrupted (a futex
     * wait, or the pause a thread waits for its process's end in): a checkpoint may interrupt it for its
     * registers, and its copy issues the call again.
     */
    boolean issuedAgainIfInterrupted(int tid) {
        Pending p = pending.get(tid);
        return waitingForTheEnd.contains(tid) || p != null && issuedAgainIfInterrupted(p);
    }

    /** The recorded tid of live thread {@code tid}, or null when the replay has not mapped it. */
    Integer recordedTidOf(int tid) {
        return liveToRecTid.get(tid);
    }

    /** What checkpoints need to know of the live threads ({@link ThreadFacts}), from this replay's tables. */
    ThreadFacts threadFacts() {
        return new ThreadFacts() {
            @Override
            public boolean issuedAgainIfInterrupted(int tid) {
                return ReplayTracer.this.issuedAgainIfInterrupted(tid);
            }

            @Override
            public long clearTidWord(int tid) {
                Integer recTid = liveToRecTid.get(tid);
                Long word = recTid == null ? null : clearTidWord.get(recTid);
                return word == null ? 0 : word;
            }

            @Override
            public ThreadFacts.AltStack altStack(int tid) {
                return altStacks.get(tid);
            }
        };
    }

    /**
     * Back to {@code s}, for a run that goes on with copies of the processes it was taken in: each live pid
     * of {@code pids} is now the copy it maps to, and each live thread the one {@code tids} names (a
     * process's first thread is its copy's first). Threads of the copies in {@code issuedAgain} (live tids
     * of the copies) were in a real call when the checkpoint was taken: they enter it again.
     */
    void restore(State s, Map<Integer, Integer> pids, Map<Integer, Integer> tids, Set<Integer> issuedAgain) {
        java.util.function.IntUnaryOperator pid = x -> pids.getOrDefault(x, x);
        java.util.function.IntUnaryOperator tid = x -> tids.getOrDefault(x, x);
        run.restore(s.position());
        System.arraycopy(s.lineStart(), 0, lineStart, 0, lineStart.length);
        while (warnings.size() > s.warnings()) warnings.removeLast();
        signalledAtEntry.clear();
        signalledAtEntry.addAll(s.signalledAtEntry());
        liveToRecTid.clear();
        s.liveToRecTid().forEach((live, rec) -> liveToRecTid.put(tid.applyAsInt(live), rec));
        recToLivePid.clear();
        s.recToLivePid().forEach((rec, live) -> recToLivePid.put(rec, pid.applyAsInt(live)));
        recToLiveTid.clear();
        s.recToLiveTid().forEach((rec, live) -> recToLiveTid.put(rec, tid.applyAsInt(live)));
        fdTables.clear();
        s.fdTables().forEach((rec, table) -> fdTables.put(rec, new HashMap<>(table)));
        pending.clear();
        s.pending().forEach((live, p) -> pending.put(tid.applyAsInt(live), p));
        scratch.clear();
        s.scratch().forEach((live, at) -> scratch.put(pid.applyAsInt(live), at));
        openCopies.clear(); // the copies' descriptors stay open in them, unused: the next mapping opens its own
        injected.clear();
        s.injected().forEach((live, q) -> injected.put(tid.applyAsInt(live), new ArrayDeque<>(q)));
        sharedCopies.clear();
        sharedCopies.putAll(s.sharedCopies());
        replayed = s.replayed();
        nextStep = s.nextStep();
        running.clear();
        s.running().forEach((t, p) -> running.put(tid.applyAsInt(t), pid.applyAsInt(p)));
        sharingPids.clear();
        s.sharingPids().forEach(p -> sharingPids.add(pid.applyAsInt(p)));
        sharedReadOnly.clear();
        s.sharedReadOnly().forEach(p -> sharedReadOnly.add(pid.applyAsInt(p)));
        warnedKernelCopy = s.warnedKernelCopy();
        armed.clear();
        s.armed().forEach((live, e) -> armed.put(tid.applyAsInt(live), e));
        preempted.clear();
        s.preempted().forEach((live, e) -> preempted.put(tid.applyAsInt(live), e));
        exitHeldFor.clear();
        s.exitHeldFor().forEach((live, joiner) -> exitHeldFor.put(tid.applyAsInt(live), tid.applyAsInt(joiner)));
        childTidWord.clear();
        s.childTidWord().forEach((live, at) -> childTidWord.put(tid.applyAsInt(live), at));
        reissued.clear();
        s.reissued().forEach(live -> reissued.add(tid.applyAsInt(live)));
        reissued.addAll(issuedAgain);
        waitingForTheEnd.clear();
        s.waitingForTheEnd().forEach(live -> waitingForTheEnd.add(tid.applyAsInt(live)));
        altStacks.clear();
        s.altStacks().forEach((live, alt) -> altStacks.put(tid.applyAsInt(live), alt));
        exitChecked.clear();
        tracees.clear();
    }

    /** The live pids of the replayed processes alive now (not yet ended, nor zombies), in ascending order. */
    List<Integer> livePids() {
        return new java.util.TreeSet<>(recToLivePid.values()).stream().filter(ReplayTracer::alive).toList();
    }

    /**
     * The signals (a mask, bit n-1 for signal n) a copy of live process {@code pid} may lose from its pending
     * set, because the replay drops them or sends them again: SIGCHLD from a real child's end (dropped at
     * delivery; make keeps it blocked outside its pselect6), and every signal deja sent a thread of the
     * process that has not been delivered yet (a restore sends it again: {@link #resendInjected}; the calls a
     * copy is forked with give back to the original any they took).
     */
    long restorableSignals(int pid) {
        long mask = 1L << (SIGCHLD - 1);
        for (Map.Entry<Integer, Deque<Injected>> q : injected.entrySet()) {
            if (q.getValue().isEmpty()) continue;
            if (!Files.exists(Path.of("/proc", Integer.toString(pid), "task", Integer.toString(q.getKey())))) continue;
            for (Injected i : q.getValue()) mask |= 1L << (i.signo() - 1);
        }
        return mask;
    }

    /**
     * After {@link #restore}: every signal deja had sent and not yet seen delivered when the checkpoint was
     * taken is sent again to the copy of its thread ({@code tidToPid}: each copy's threads and their pid),
     * since fork drops pending signals. Its recorded siginfo, when it had one, is put back at delivery.
     */
    void resendInjected(Map<Integer, Integer> tidToPid) {
        injected.forEach((tid, q) -> {
            Integer pid = tidToPid.get(tid);
            if (pid != null) for (Injected i : q) Signals.tgkill(pid, tid, i.signo());
        });
    }

    /** The live pid of the program's first process (the recorded root), or -1 before it started. */
    int rootLivePid() {
        Event first = run.first();
        Integer live = first == null ? null : recToLivePid.get(first.pid());
        return live == null ? -1 : live;
    }

    private static boolean alive(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : 'X';
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /** The number of the clone syscall (checkpoints copy a process with it). */
    int cloneNr() {
        return nrClone;
    }

    // ---------------------------------------------------------------- order

    /** With one recorded thread its own order is the order; with more, threads go in recorded order. */
    @Override
    public boolean ordersThreads() {
        return run.threadCount() > 1;
    }

    /** A one-thread recording's signal points: the way to each is bounded as in an ordered run. */
    @Override
    public boolean stopsAtPoints() {
        return run.hasPreemptions();
    }

    /**
     * A thread may go on from a syscall stop when that stop is the next step of the recorded
     * timeline: every entry, exit and thread end recorded before it has happened in replay.
     */
    @Override
    public boolean mayContinue(Tracee t, RunStop stop) {
        running.remove(t.tid()); // it stopped: it is no longer running user code
        // A real call a live signal interrupted goes back into the kernel without running user code: its
        // exit and its entry again are not steps of the recording.
        if (stop == RunStop.ENTRY && reissued.contains(t.tid())) return true;
        if (stop == RunStop.EXIT && interruptedLive(t)) return true;
        if (stop == RunStop.PREEMPTED && armed.containsKey(t.tid())) {
            // At the recorded preemption point: that step is done; it runs again at its RESUME step.
            ScheduleEvent p = armed.remove(t.tid());
            preempted.put(t.tid(), p);
            Integer recTid = liveToRecTid.get(t.tid());
            if (recTid != null) run.thread(recTid).preemptsReached++;
            stepDone(run.preemptStep(p.seq()));
            injectSignalsAt(p, t);
        }
        if (stop == RunStop.START) setChildTid(t);
        if (!mayRunBeside(t)) return false; // of the threads that share memory, one at a time runs user code
        int step = stepOf(t, stop);
        if (step >= 0 && step > nextStep) {
            if (!goesAhead(t, stop)) return false;
            stepsAhead++;
        }
        if (stop == RunStop.ENTRY && exitWaitsForJoiner(t, step)) return false;
        if (stop == RunStop.EXIT && waitsForHeldExit(t)) return false;
        if (stop == RunStop.EXIT && waitsForLiveSignal(t)) return false;
        running.put(t.tid(), t.pid());
        switch (stop) {
            case ENTRY -> {
                if (blocksForReal(t)) running.remove(t.tid()); // it may wait in the kernel for another thread
                return true;
            }
            case START -> stepDone(step);
            case PREEMPTED -> {
                preempted.remove(t.tid());
                stepDone(step);
            }
            case EXIT -> {
                // its EXIT step is done in onSyscall
            }
        }
        armPreemption(t);
        return true;
    }

    /**
     * Whether {@code t} may take its next step before the steps recorded before it: the recorded order
     * matters only where processes meet. A process of one thread that shares no writable memory meets
     * the others only through calls; one answered from the recording, or acting on the process alone
     * (its memory, its signal actions), that prints nothing and after which no signal lands, does not
     * meet them, and goes on as soon as the thread's own earlier steps are done (they are: a thread's
     * steps come in its own order). Everything else waits for every step recorded before it: process
     * starts and ends, waits, kills, exec, output, signals, and every step of threads that share memory.
     * Without a debugger only (its positions and checkpoints count steps in recorded order).
     */
    private boolean goesAhead(Tracee t, RunStop stop) {
        if (!inParallel || (stop != RunStop.ENTRY && stop != RunStop.EXIT) || sharingPids.contains(t.pid())) return false;
        SyscallEvent s = callAt(t, stop);
        if (s == null || !ownCalls.contains(s.nr()) || interrupted(s) || !run.singleThreaded(s.pid())) return false;
        if (s.nr() == nrMmap && (s.arg(3) & MAP_SHARED_TYPE) != MAP_PRIVATE) return false;
        // a read-only shared mapping made writable: the process may share memory from there on
        if (s.nr() == nrMprotect && (s.arg(2) & PROT_WRITE) != 0 && sharedReadOnly.contains(t.pid())) return false;
        if (writes.contains(s.nr())) {
            if (printed(fdTables.getOrDefault(s.pid(), Map.of()).get((int) s.arg(0)))) return false;
        }
        return run.thread(s.tid()).quietAfter(s);
    }

    /** Whether no thread that shares memory with {@code t} is running user code. */
    private boolean mayRunBeside(Tracee t) {
        boolean sharing = sharingPids.contains(t.pid());
        for (Map.Entry<Integer, Integer> r : running.entrySet()) {
            int pid = r.getValue();
            if (pid == t.pid() || sharing && sharingPids.contains(pid)) return false;
        }
        return true;
    }

    /**
     * A skipped call the recording shows ended by a signal that another process of the replay sends with
     * a kill deja runs for real (restart_fifo's second open, SIGUSR2 from its child): its exit waits until
     * that signal is pending for the thread, so that the handler runs at the call's return as recorded.
     * Its exit step may come before the sender's kill returns (the kernel woke the receiver first), and the
     * thread, let go then, reached its next call before the signal and diverged there.
     */
    private boolean waitsForLiveSignal(Tracee t) {
        Pending p = pending.get(t.tid());
        if (p == null || p.ranForReal() || !interrupted(p.rec())) return false;
        RecordedRun.ThreadLog log = run.thread(p.rec().tid());
        if (log == null) return false;
        for (Event x : log.after(p.rec())) {
            if (x instanceof SyscallEvent || x instanceof ScheduleEvent) return false;
            if (x instanceof SignalEvent s && s.delivered() && !signals.injects(s, p.rec())) {
                return !pendingFor(t, s.signo());
            }
        }
        return false;
    }

    /**
     * Whether {@code t} is at the exit of a real call that a live signal interrupted (the kernel's restart
     * code) while the recorded call ended without one.
     */
    private boolean interruptedLive(Tracee t) {
        Pending p = pending.get(t.tid());
        if (p == null || !issuedAgainIfInterrupted(p) || !exitChecked.add(t.tid())) return false;
        if (!Errno.restartResult(t.registers()[REG_RAX])) return false;
        exitChecked.remove(t.tid());
        return true;
    }

    /**
     * Whether the kernel issues real call {@code p} again when a live signal interrupts it (a restart
     * code the recorded call did not end with): it may end so, and the recording saw it end otherwise.
     */
    private boolean issuedAgainIfInterrupted(Pending p) {
        SyscallEvent r = p.rec();
        // A vfork parent waits for its child's exec or end killably only: no interrupt brings it out.
        return p.ranForReal() && restartable.contains(r.nr()) && !Errno.restartResult(r.result())
                && !diesAtReturn.containsKey(r.seq()) && !vforks(r);
    }

    /** Whether {@code s} is a vfork, or a clone or clone3 with CLONE_VFORK (posix_spawn's). */
    private boolean vforks(SyscallEvent s) {
        if (table.name(s.nr()).equals("vfork")) return true;
        if (s.nr() == nrClone) return (s.arg(0) & CLONE_VFORK) != 0;
        if (s.nr() == nrClone3) {
            for (MemoryBlock b : s.inputs()) {
                if (b.arg() == 0 && b.length() >= 8) return (b.view().order(ByteOrder.LITTLE_ENDIAN).getLong(0) & CLONE_VFORK) != 0;
            }
        }
        return false;
    }

    /**
     * A thread at its exit's entry waits there while a joiner read its tid before the kernel cleared it
     * (CLONE_CHILD_CLEARTID) in the recording: a thread of its process with a futex wait for that tid on
     * that word among its next recorded calls (not necessarily the next one: pthread_join of two threads
     * in turn may find the second still there after the first). That happens when the joiner ran user
     * code while the exit went through the kernel; in replay the exit would otherwise be over before the
     * joiner reads, and pthread_join would skip its wait. The exit's entry and the thread's end count as
     * done; the thread goes once the joiner has made its last such (emulated) wait, and the joiner goes on
     * from that wait once the thread is gone.
     */
    private boolean exitWaitsForJoiner(Tracee t, int step) {
        Integer joiner = exitHeldFor.get(t.tid());
        if (joiner != null) return joinerStillToWait(joiner, liveToRecTid.get(t.tid()));
        Integer recTid = liveToRecTid.get(t.tid());
        RecordedRun.ThreadLog log = recTid == null ? null : run.thread(recTid);
        SyscallEvent s = log == null ? null : log.peekSyscall();
        if (step < 0 || s == null || !table.name(s.nr()).equals("exit")) return false;
        for (int live : liveToRecTid.keySet()) {
            if (live == t.tid() || !joinerStillToWait(live, recTid)) continue;
            exitHeldFor.put(t.tid(), live);
            stepDone(step);
            stepDone(run.endStep(recTid));
            return true;
        }
        return false;
    }

    /** Whether {@code t} is back from its wait for a thread held at its exit's entry, not yet gone. */
    private boolean waitsForHeldExit(Tracee t) {
        for (Map.Entry<Integer, Integer> held : exitHeldFor.entrySet()) {
            if (held.getValue() == t.tid() && !joinerStillToWait(t.tid(), liveToRecTid.get(held.getKey()))) return true;
        }
        return false;
    }

    /**
     * Whether live thread {@code joiner}, of the same process, has a futex wait for recorded tid
     * {@code exiting} (on its CLONE_CHILD_CLEARTID word, when the recorded clone named one) among its next
     * recorded calls.
     */
    private boolean joinerStillToWait(int joiner, Integer exiting) {
        Integer recTid = liveToRecTid.get(joiner);
        RecordedRun.ThreadLog log = recTid == null || exiting == null ? null : run.thread(recTid);
        RecordedRun.ThreadLog exitingLog = exiting == null ? null : run.thread(exiting);
        if (log == null || exitingLog == null || log.pid() != exitingLog.pid()) return false;
        Long word = clearTidWord.get(exiting);
        return log.nextSyscall(s -> {
            if (s.nr() != nrFutex || (int) s.arg(2) != exiting) return false;
            int op = (int) s.arg(1) & FUTEX_CMD_MASK;
            return (op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET) && (word == null || s.arg(0) == word);
        }, JOIN_LOOKAHEAD) != null;
    }

    /** Before a thread runs user code: when the recording preempted it before its next syscall, stop it there. */
    private void armPreemption(Tracee t) {
        Integer recTid = liveToRecTid.get(t.tid());
        RecordedRun.ThreadLog log = recTid == null ? null : run.thread(recTid);
        ScheduleEvent p = log == null ? null : log.nextPreemption();
        if (p == null) return;
        armed.put(t.tid(), p);
        t.stopAt(new RunTarget(p.registers(), p.stackHash(), p.deeperStackHash(), p.runNs(), "event " + p.seq(),
                new MemoryWitness(p.memoryMask(), p.memoryPointers(), p.memoryHash(), p.memoryDeepHash(), apicIdsLeftOut)));
    }

    @Override
    public void stopMissed(Tracee t, String why) {
        ScheduleEvent p = armed.remove(t.tid());
        if (p == null) return;
        throw new Stop(divergence(p.seq(), p.pid(), p.tid(), "a preemption between syscalls (thread " + p.tid()
                + " interrupted at 0x" + Long.toHexString(p.registerCount() > 16 ? p.register(16) : 0) + ")", why));
    }

    /** No stop for this long: the replay no longer follows the recording (a spin-wait on a held thread). */
    @Override
    public long progressLimitNs() {
        if (killedRunner() != null) return KILL_AT_END_AFTER_NS;
        long limit = PROGRESS_LIMIT_NS;
        if (nextStep > 0 && nextStep < run.stepCount()) {
            long gap = run.stepTime(nextStep) - run.stepTime(nextStep - 1);
            if (gap > 0 && gap < Long.MAX_VALUE / 4) limit = Math.max(limit, 4 * gap);
        }
        return limit;
    }

    @Override
    public void noProgress(long waitedNs) {
        Tracee runner = killedRunner();
        if (runner != null) {
            // No stop for a while: it runs its own code (the device waits), and is killed there, as recorded.
            killedAtItsEnd.add(runner.tid());
            Signals.tgkill(runner.pid(), runner.tid(), Signals.SIGKILL);
            return;
        }
        RecordedRun.Step st = nextStep < run.stepCount() ? run.step(nextStep) : null;
        if (st == null) return; // past the recording's end: the program's own exit is awaited
        String what = st.kind().name().toLowerCase(java.util.Locale.ROOT) + " of thread " + st.tid();
        throw new Stop(divergence(st.seq(), pidOf(st.tid()), st.tid(), what, String.format(java.util.Locale.ROOT,
                "no thread reached it within %.1f s (a thread runs on where the recording stopped it, or waits for"
                        + " one that is held)", waitedNs / 1e9)));
    }

    private int pidOf(int recTid) {
        RecordedRun.ThreadLog log = run.thread(recTid);
        return log == null ? -1 : log.pid();
    }

    /** CLONE_CHILD_SETTID wrote the live tid into the new task's memory: it must read the recorded one. */
    private void setChildTid(Tracee t) {
        Long addr = childTidWord.remove(t.tid());
        Integer recTid = liveToRecTid.get(t.tid());
        if (addr == null || recTid == null) return;
        byte[] word = new byte[4];
        if (t.memory().read(addr, word, 0, 4) != 4) return;
        if (ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getInt() != t.tid()) return;
        t.write(addr, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(recTid).array());
    }

    private boolean blocksForReal(Tracee t) {
        Integer recTid = liveToRecTid.get(t.tid());
        RecordedRun.ThreadLog log = recTid == null ? null : run.thread(recTid);
        SyscallEvent s = log == null ? null : log.peekSyscall();
        if (s == null) return true;
        if (mayBlock.contains(s.nr())) return true;
        if (s.nr() == nrClone || s.nr() == nrClone3) return vforks(s);
        // A thread's exit: it runs until it is gone (its CLONE_CHILD_CLEARTID word cleared, joiners woken).
        String name = table.name(s.nr());
        if (name.equals("exit") || name.equals("exit_group")) return false;
        return !s.returned();
    }

    private int stepOf(Tracee t, RunStop stop) {
        Integer recTid = liveToRecTid.get(t.tid());
        if (recTid == null) return -1;
        if (stop == RunStop.START) return run.startStep(recTid);
        if (stop == RunStop.PREEMPTED) {
            ScheduleEvent p = preempted.get(t.tid());
            return p == null ? -1 : run.resumeStep(p.seq());
        }
        SyscallEvent s = callAt(t, stop);
        if (s == null) return -1;
        return stop == RunStop.ENTRY ? run.entryStep(s.seq()) : run.exitStep(s.seq());
    }

    /** The recorded call a thread's entry stop is at (its log's next one) or its exit stop (the pending one); or null. */
    private SyscallEvent callAt(Tracee t, RunStop stop) {
        if (stop == RunStop.ENTRY) {
            Integer recTid = liveToRecTid.get(t.tid());
            RecordedRun.ThreadLog log = recTid == null ? null : run.thread(recTid);
            return log == null ? null : log.peekSyscall();
        }
        Pending p = pending.get(t.tid());
        return p == null ? null : p.rec();
    }

    private void stepDone(int step) {
        if (step < 0) return;
        run.markDone(step);
        while (nextStep < run.stepCount() && run.isDone(nextStep)) nextStep++;
    }

    /** How long a thread whose end is next may run its own code before it is killed (see {@link #killedRunner}). */
    private static final long KILL_AT_END_AFTER_NS = 50_000_000L;

    /**
     * The live thread, running its own code, whose end is the next recorded step, SIGKILL having ended it
     * there after its last call (deja record's kill at Ctrl-C, a kill -9); or null. Left to run, it would
     * end only at its next call, and one that computes or spins makes none (a vfork child spinning before
     * its exec: the replay waited 10 s and called it a divergence).
     */
    private Tracee killedRunner() {
        if (nextStep >= run.stepCount()) return null;
        RecordedRun.Step st = run.step(nextStep);
        if (st.kind() != RecordedRun.StepKind.END) return null;
        RecordedRun.ThreadLog log = run.thread(st.tid());
        if (log == null || log.peekSyscall() != null) return null;
        ExitEvent x = log.exit();
        if (x == null || x.termSignal() != Signals.SIGKILL) return null;
        Integer live = recToLiveTid.get(st.tid());
        Tracee t = live == null ? null : tracees.get(live);
        // In a call, its stops decide (killed inside it, or at its return).
        return t == null || pending.containsKey(live) || killedAtItsEnd.contains(live) ? null : t;
    }

    @Override
    public void stalled() {
        RecordedRun.Step st = nextStep < run.stepCount() ? run.step(nextStep) : null;
        String waited = st == null ? "the end of the recording"
                : "event " + st.seq() + " (" + st.kind().name().toLowerCase(java.util.Locale.ROOT) + ", tid " + st.tid() + ")";
        throw failure("the replay cannot follow the recorded order of threads: every thread waits, the next "
                + "recorded step is " + waited);
    }

    /** A thread other than the leader exec'd and took the leader's tid: what was known of it moves along. */
    @Override
    public void onExec(ExecEvent event, Path executable) {
        openCopies.remove(event.pid()); // closed by the exec
        sharingPids.remove(event.pid()); // a new address space
        sharedReadOnly.remove(event.pid());
        int former = event.formerTid();
        if (former == event.tid()) return;
        Integer pid = running.remove(former);
        if (pid != null) running.put(event.tid(), pid);
        ScheduleEvent a = armed.remove(former);
        if (a != null) armed.put(event.tid(), a);
        Tracee t = tracees.remove(former);
        if (t != null) tracees.put(event.tid(), t);
    }

    @Override
    public void onExit(ExitEvent event) {
        Integer recTid = liveToRecTid.get(event.tid());
        running.remove(event.tid());
        if (recTid != null) stepDone(run.endStep(recTid));
        exitHeldFor.remove(event.tid());
        waitingForTheEnd.remove(event.tid());
        if (event.processExit()) openCopies.remove(event.pid()); // its pid may be a new process's
    }

    // ---------------------------------------------------------------- entry

    @Override
    public Decision onSyscallEntry(SyscallEntry e, Tracee t) {
        tracees.put(e.tid(), t);
        if (reissued.remove(e.tid())) return waitingForTheEnd.contains(e.tid()) ? waitForTheEnd(e.tid()) : issuedAgain(e);
        Integer recTid = liveToRecTid.get(e.tid());
        if (recTid == null) {
            if (!liveToRecTid.isEmpty()) {
                throw failure("a thread deja did not see being created (tid " + e.tid() + ") made a syscall");
            }
            Event first = run.first();
            liveToRecTid.put(e.tid(), first.tid());
            recToLiveTid.put(first.tid(), e.tid());
            recToLivePid.put(first.pid(), e.pid());
            Map<Integer, Integer> fds = new HashMap<>();
            for (int fd = 0; fd <= 2; fd++) fds.put(fd, fd);
            fdTables.put(first.pid(), fds);
            recTid = first.tid();
        }
        RecordedRun.ThreadLog log = run.thread(recTid);
        SyscallEvent r = log == null ? null : log.takeSyscall();
        if (r == null) return threadEnded(e, t, log, recTid);
        control.beforeEvent(r, t);
        stepDone(run.entryStep(r.seq()));
        check(r, e, killedInIt(r, log));
        replayed++;
        try {
            return decide(r, e, t, log);
        } catch (DeviceException ex) {
            throw failure("event " + r.seq() + " (" + table.name(r.nr()) + "): " + ex.getMessage());
        }
    }

    /** A sigaltstack that succeeded: its new stack (the stack_t its first argument points to), or none with SS_DISABLE. */
    private void noteAltStack(int tid, List<MemoryBlock> inputs) {
        for (MemoryBlock b : inputs) {
            if (b.arg() != 0 || b.length() < 24) continue;
            ByteBuffer v = b.view().order(ByteOrder.LITTLE_ENDIAN);
            int flags = v.getInt(8);
            if ((flags & SS_DISABLE) != 0) altStacks.remove(tid);
            else altStacks.put(tid, new ThreadFacts.AltStack(v.getLong(0), flags, v.getLong(16)));
        }
    }

    /** The thread waits in pause() for its process's end, as recorded (a checkpoint's copy of it, too). */
    private Decision waitForTheEnd(int tid) {
        waitingForTheEnd.add(tid);
        return new Decision.Rewrite(nrPause, new long[6]);
    }

    /** The kernel issues a real call again after a live signal interrupted it: it goes on as decided. */
    private Decision issuedAgain(SyscallEntry e) {
        SyscallEvent r = pending.get(e.tid()).rec();
        if (e.nr() != r.nr() && e.nr() != nrRestartSyscall) {
            throw new Stop(divergence(r, render(r) + " issued again after a signal deja dropped", render(live(e, -1))));
        }
        return Decision.proceed();
    }

    private Decision threadEnded(SyscallEntry e, Tracee t, RecordedRun.ThreadLog log, int recTid) {
        ExitEvent x = log == null ? null : log.exit();
        if (x != null && x.killed()) {
            // Killed where no signal-delivery stop could be recorded (SIGKILL): end it the same way.
            return dieOf(t, x.termSignal());
        }
        if (x != null && (!x.processExit() || endedBySiblingsExitGroup(x, log, recTid))) {
            // A thread that ended without a call of its own: a sibling's exit_group (or exec) ended it at a
            // syscall entry too soon to be recorded, or while it ran. It waits (in pause) for the same end.
            // The leader too, whose end is the process's (mvn's main thread, between two calls of a join, was
            // ended by another thread's System.exit).
            return waitForTheEnd(e.tid());
        }
        SyscallEvent got = live(e, -1);
        String expected = x != null ? "the thread's end (" + (x.processExit() ? "exit " + x.exitCode() : "thread exit") + ")"
                : "no more calls of this thread";
        long seq = x != null ? x.seq() : -1;
        int pid = x != null ? x.pid() : -1;
        throw new Stop(divergence(seq, pid, recTid, expected, render(got)));
    }

    /**
     * Whether the process's end, recorded on {@code x} (its last thread), was another thread's exit_group
     * called after this thread's last recorded call and ending with its code: the thread was running then,
     * and that exit_group, still to be replayed, ends it here too. Never for a kill (deja's Ctrl-C).
     */
    private boolean endedBySiblingsExitGroup(ExitEvent x, RecordedRun.ThreadLog log, int recTid) {
        if (x.termSignal() != 0 || x.killed()) return false;
        long lastCall = log.lastSyscallSeq();
        for (SyscallEvent s : run.syscallsBefore(x.seq(), EXIT_GROUP_LOOKBACK)) {
            if (s.pid() == x.pid() && s.tid() != recTid && s.nr() == nrExitGroup && s.seq() > lastCall
                    && (s.arg(0) & 0xff) == x.exitCode()) {
                return true;
            }
        }
        return false;
    }

    /** How many calls before a process's end deja looks for the exit_group that ended it. */
    private static final int EXIT_GROUP_LOOKBACK = 256;

    private Decision decide(SyscallEvent r, SyscallEntry e, Tracee t, RecordedRun.ThreadLog log) {
        int nr = r.nr();
        if (nr == nrShmat) sharingPids.add(t.pid()); // SysV shared memory: other processes may attach it
        if ((nr == nrMprotect || nr == nrPkeyMprotect) && (e.arg(2) & PROT_WRITE) != 0 && sharedReadOnly.contains(t.pid())) {
            sharingPids.add(t.pid()); // perhaps a shared mapping made writable
        }
        boolean emulatedFutex = nr == nrFutex && ordersThreads();
        boolean exec = nr == nrExecve || nr == nrExecveat;
        if (killedInIt(r, log)) {
            if (log.spawnAfter(r) != null) {
                // A fork or vfork killed in it after its child was made (a vfork parent waits inside the call
                // until its child execs or ends): run for real, the child's recorded calls need a process;
                // the parent dies at the call's return.
                diesAtReturn.put(r.seq(), log.exit().termSignal());
                // A vfork parent cannot end before its child execs or ends, while the recording may have its end
                // first (deja record's SIGKILL at Ctrl-C took the parent waiting in the call, then the child): its
                // end counts as done now, or the child's end would wait for it, and it for the child.
                if (vforks(r)) stepDone(run.endStep(r.tid()));
                pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
                return Decision.proceed();
            }
            stepDone(run.exitStep(r.seq())); // an interrupted call the thread never saw end: its exit will not come
            // Killed inside its last call (deja record's SIGKILL at Ctrl-C): it dies at the same call, before it
            // runs, whether deja would have run it for real (brk, a wait) or not; run, it would return. (An
            // execve killed in it may have exec'd, but no call of the new program was recorded: the recorder
            // may even have found its executable gone. It dies at the same point, without the exec.)
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), false));
            return dieOf(t, log.exit().termSignal());
        }
        if (!r.returned() && (!runNrs.contains(nr) || emulatedFutex) && !exec) {
            // The recorded call never returned (its process ended meanwhile, by a sibling's exit or exec):
            // wait in pause() for the same end.
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), false));
            return waitForTheEnd(e.tid());
        }
        if (nr == nrExecve || nr == nrExecveat) return exec(r, e, t, log);
        if (nr == nrMmap) return mmap(r, e, t, log);
        if (signals.sentForReal(r, recToLivePid.containsKey((int) e.arg(0)))) {
            // SIGKILL to a process of the replayed tree (or any kill in a recording older than format version 4):
            // sent for real, between the live processes. Other kills are answered from the recording, and the
            // receiver gets the signal where the recording saw it land.
            long[] args = e.args();
            args[0] = livePid((int) args[0]);
            if (table.name(nr).equals("tgkill")) args[1] = recToLiveTid.getOrDefault((int) args[1], (int) args[1]);
            if (table.name(nr).equals("tkill")) args[0] = recToLiveTid.getOrDefault((int) e.arg(0), (int) e.arg(0));
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
            return new Decision.Rewrite(nr, args);
        }
        long[] mask = maskedWaits.contains(nr) && interrupted(r) && hasInjectedSignalAfter(r) ? liveMask(r, e) : null;
        if (mask != null) {
            // The call waited under its own mask (make blocks SIGCHLD and unblocks it only inside pselect6)
            // and the recorded signal ended the wait. Skipped, the signal would stay blocked: the wait becomes
            // rt_sigsuspend under the same mask, with the signal queued at its entry, so the handler runs here.
            injectSignalsAfter(r, t, true);
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
            return new Decision.Rewrite(nrSigsuspend, new long[] {mask[0], mask[1], 0, 0, 0, 0});
        }
        if (waitsForSignal.contains(nr) && hasInjectedSignalAfter(r)) {
            // pause/sigsuspend: the recorded signal is sent now and ends the real wait, under the call's mask.
            injectSignalsAfter(r, t, true);
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
            return Decision.proceed();
        }
        // Threads in recorded order: a futex is answered like any call (its wake happened in order). A call the
        // recording device answered itself (rseq, refused) never reached the kernel then: it does not now.
        // A wait that reaped no child when recorded (WNOHANG found none yet, a signal interrupted it, ECHILD)
        // must not reap one now: run for real, it could take a child that died sooner in replay than it had
        // then (its end came between the poll's entry and return), and a later wait would block for another.
        int reaped = signals.reapedChild(r);
        boolean real = ((runNrs.contains(nr) && !(nr == nrFutex && ordersThreads())) || (nr == nrPrlimit && e.arg(2) != 0))
                && (r.flags() & SyscallEvent.SKIPPED) == 0 && reaped != 0;
        if (real) {
            long[] args = e.args();
            boolean rewrite = false;
            if (reaped > 0) {
                // The wait takes the child it took when recorded, whichever the live call named (-1, a group),
                // and waits for it even under WNOHANG: the recorded order has the child's end before it returns.
                if (nr == nrWait4) {
                    args[0] = livePid(reaped);
                    args[2] &= ~WNOHANG;
                } else {
                    args[0] = P_PID;
                    args[1] = livePid(reaped);
                    args[3] &= ~WNOHANG;
                }
                rewrite = true;
            } else if (nr == nrPrlimit && (int) args[0] > 0) {
                args[0] = livePid((int) args[0]);
                rewrite = true;
            }
            // A real call the recorded signal ended (a futex wait of a lone thread): the signal is sent at its
            // entry, or the call would block for good waiting for what only that signal brings about. (A wait
            // a signal ended reaped nothing: it is answered from the recording, above.)
            if (interrupted(r) && hasInjectedSignalAfter(r)) {
                injectSignalsAfter(r, t, true);
                signalledAtEntry.add(r.seq());
            }
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
            return rewrite ? new Decision.Rewrite(nr, args) : Decision.proceed();
        }
        effects(r);
        long[] liveArgs = e.args();
        writeOutputs(r, liveArgs, e.inputs(), t);
        pending.put(e.tid(), new Pending(r, liveArgs, e.inputs(), false));
        long result = seenByProgram(r, log);
        if (oneStop && aheadWanted && !Errno.restartResult(result)) answerAhead(r, t, log, true);
        return new Decision.Skip(result);
    }

    /**
     * Gives the thread the answers to its next calls, when enough of them in a row can be answered
     * without a stop ({@link AnswersAhead}): in the recorded order (with threads, no other thread's
     * step between them, unless the process may go ahead of the others, {@link #goesAhead}), within
     * {@link AnswersAhead#MAX_SPAN_NS} of recorded time. A stretch is read from the recording once and
     * given again from where the thread is, as long as it takes answers; one too short is not looked at
     * again, and a thread that took fewer than {@link AnswersAhead#WORTH} of the last it was given waits
     * longer each time before the next.
     */
    private void answerAhead(SyscallEvent r, Tracee t, RecordedRun.ThreadLog log, boolean atEntry) {
        Ahead a = ahead.computeIfAbsent(t.tid(), k -> new Ahead());
        if (a.given) {
            // The last stretch given is over. Fewer answers taken than a stub costs (the calls went to other
            // syscall instructions): the thread waits longer each time before it is given more.
            a.given = false;
            if (a.taken < AnswersAhead.WORTH) {
                a.misses = Math.min(a.misses + 1, 10);
                a.notBefore = r.seq() + (8L << a.misses);
            } else {
                a.misses = 0;
            }
            // As many answers as the thread is likely to take: four times more after a stretch it took
            // whole, twice what it took after one it left (each is built and written into the program).
            a.budget = a.taken >= a.givenCount ? Math.min(a.budget * 4, AnswersAhead.MAX)
                    : Math.max(AnswersAhead.FIRST, 2 * a.taken);
            a.taken = 0;
        }
        if (r.seq() < a.notBefore) return;
        List<AnswerStub.Entry> answers = a.from(r.seq());
        if (answers == null) {
            List<AnswerStub.Entry> entries = new ArrayList<>();
            a.read(r, log, stretch(r, t, log, entries, atEntry), entries);
            answers = a.from(r.seq());
        }
        if (answers == null || answers.size() < AnswersAhead.MIN) {
            a.notBefore = a.end + 1;
            return;
        }
        if (answers.size() > a.budget) answers = answers.subList(0, a.budget);
        // Up to the first call the process has made nowhere yet (no place for its stub): the thread stops there,
        // and the stretch is given again from that call on; fewer than are worth a stub are not given, nor missed.
        int placed = 0;
        while (placed < answers.size() && t.answerableAhead(answers.get(placed).nr())) placed++;
        if (placed < AnswersAhead.MIN) return;
        answers = answers.subList(0, placed);
        aheadWanted = t.answerAhead(answers);
        a.given = aheadWanted;
        a.givenCount = answers.size();
    }

    /** The calls after {@code r} that can be answered ahead; their answers added to {@code entries}. */
    private List<SyscallEvent> stretch(SyscallEvent r, Tracee t, RecordedRun.ThreadLog log, List<AnswerStub.Entry> entries,
                                       boolean atEntry) {
        boolean free = !ordersThreads()
                || inParallel && !sharingPids.contains(t.pid()) && run.singleThreaded(r.pid());
        int firstStep = run.exitStep(r.seq());
        long startNs = firstStep >= 0 ? run.stepTime(firstStep) : r.timeNs();
        int[] previous = {firstStep};
        int[] bytes = {0};
        Map<Integer, Integer> current = fdTables.getOrDefault(r.pid(), Map.of());
        var descriptors = new Object() {
            Map<Integer, Integer> now = current; // copied at the stretch's first change
        };
        return log.quietCalls(AnswersAhead.MAX, c -> {
            AnswerStub.Entry e = c.nr() == nrMmap ? mappingAhead(c, t, log, atEntry) : answersAhead.entry(c);
            if (e == null || bytes[0] + e.size() > AnswersAhead.MAX_BYTES) return false;
            // a read-only shared mapping made writable: the process may share memory from there on (decide)
            if (c.nr() == nrMprotect && (c.arg(2) & PROT_WRITE) != 0 && sharedReadOnly.contains(t.pid())) return false;
            // A write is printed (to the terminal) when deja hears of the stretch, with its steps: in order, unless
            // the stretch goes ahead of other processes' steps, whose output would then come after it. A write to
            // a descriptor of no printed origin (a file the program made) prints nothing: the descriptors are
            // followed through the stretch's calls, from the process's as they are now.
            if (ordersThreads() && free) {
                if (writes.contains(c.nr()) && printed(descriptors.now.get((int) c.arg(0)))) return false;
                if (c.returned() && !c.failed()) {
                    if (descriptors.now == current) descriptors.now = new HashMap<>(current);
                    trackDescriptors(descriptors.now, c);
                }
            }
            int in = run.entryStep(c.seq());
            int out = run.exitStep(c.seq());
            if (!free && (in != previous[0] + 1 || out != in + 1)) return false;
            if (out >= 0 && run.stepTime(out) - startNs > AnswersAhead.MAX_SPAN_NS) return false;
            previous[0] = out;
            bytes[0] += e.size();
            entries.add(e);
            return true;
        });
    }

    /** A thread's stretch of calls answered ahead, read once; and how its last stretches went. */
    private final class Ahead {
        List<SyscallEvent> calls = List.of();
        List<AnswerStub.Entry> entries = List.of();
        /** The index in {@link #calls} of the next one the thread takes, of the stretch given. */
        int next;
        /** The seq of the call before the stretch: answers start after it. */
        long start = -1;
        /** The last seq looked at; not again before {@link #notBefore}. */
        long end = -1;
        long notBefore = -1;
        /** A stretch was given at the thread's last call answered at one stop, and it took {@link #taken} of it. */
        boolean given;
        int taken;
        int givenCount;
        int misses;
        /** How many answers the next stretch gives at most. */
        int budget = AnswersAhead.FIRST;

        void read(SyscallEvent r, RecordedRun.ThreadLog log, List<SyscallEvent> calls, List<AnswerStub.Entry> answers) {
            start = r.seq();
            this.calls = calls;
            entries = answers;
            SyscallEvent next = calls.isEmpty() ? log.peekSyscall() : null;
            end = !calls.isEmpty() ? calls.getLast().seq() : next != null ? next.seq() : r.seq();
        }

        /** The answers after call {@code seq}, when it is the stretch's start or in it; else null. */
        List<AnswerStub.Entry> from(long seq) {
            if (seq == start) {
                next = 0;
                return entries;
            }
            int i = indexOf(seq);
            if (i < 0) return null;
            next = i + 1;
            return entries.subList(i + 1, entries.size());
        }

        /** The index of call {@code seq} in {@link #calls} (in seq order), or -1. */
        private int indexOf(long seq) {
            int lo = 0;
            int hi = calls.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (calls.get(mid).seq() < seq) lo = mid + 1;
                else hi = mid;
            }
            return lo < calls.size() && calls.get(lo).seq() == seq ? lo : -1;
        }

        /** The recorded call the thread took next of those given. */
        SyscallEvent nextTaken() {
            return next < calls.size() ? calls.get(next++) : null;
        }
    }

    /** The thread took {@code count} answers given ahead: those calls are replayed, as at their stops. */
    @Override
    public void answeredAhead(Tracee t, int count) {
        Integer recTid = liveToRecTid.get(t.tid());
        RecordedRun.ThreadLog log = recTid == null ? null : run.thread(recTid);
        if (log == null) throw failure("answers ahead taken by a thread deja does not know (tid " + t.tid() + ")");
        Ahead a = ahead.get(t.tid());
        if (a == null || !a.given) throw failure("answers ahead taken by thread " + t.tid() + ", which was given none");
        a.taken += count;
        for (int i = 0; i < count; i++) {
            SyscallEvent r = a.nextTaken();
            if (r == null || !log.skipSyscall(r.seq())) {
                throw failure("the answers ahead thread " + t.tid() + " took are not its next recorded calls");
            }
            stepDone(run.entryStep(r.seq()));
            effects(r);
            stepDone(run.exitStep(r.seq()));
            replayed++;
        }
    }

    /**
     * The result a skipped call leaves the program with. A restart code is what the recorder saw at the
     * call's exit, never what the program got: the kernel then either issued the call again or, for a
     * handler without SA_RESTART, turned the code into EINTR. When the recorded signal is sent at the
     * exit, or a live process sent it before (kill between replayed processes), the kernel decides as
     * it did (the device gives the code back with the call's number); else the next recorded call
     * says: the same call again (or restart_syscall), or EINTR.
     */
    private long seenByProgram(SyscallEvent r, RecordedRun.ThreadLog log) {
        long res = r.result();
        if (!Errno.restartResult(res)) return res;
        if (hasInjectedSignalAfter(r)) return res; // sent at the exit: the kernel applies its rules to it
        SyscallEvent next = log == null ? null : log.peekSyscall();
        boolean again = next != null && (res == -Errno.ERESTART_RESTARTBLOCK ? next.nr() == nrRestartSyscall
                : next.nr() == r.nr() && Arrays.equals(next.args(), r.args()));
        return again ? res : -EINTR;
    }

    /** Whether the recorded call was ended by a signal (EINTR, or a restart code the handler turned into EINTR). */
    private static boolean interrupted(SyscallEvent r) {
        long res = r.result();
        return res == -EINTR || Errno.restartResult(res);
    }

    /** The live call's signal mask (address, size), or null when it passes none. */
    private long[] liveMask(SyscallEvent r, SyscallEntry e) {
        String name = table.name(r.nr());
        if (name.equals("pselect6")) {
            // arg 5 points at {const sigset_t *ss; size_t ss_len;}, captured as an input block.
            for (MemoryBlock b : e.inputs()) {
                if (b.arg() == 5 && b.length() >= 16) {
                    ByteBuffer pack = b.view().order(ByteOrder.LITTLE_ENDIAN);
                    long ss = pack.getLong(0);
                    return ss == 0 ? null : new long[] {ss, pack.getLong(8)};
                }
            }
            return null;
        }
        int at = name.equals("ppoll") ? 3 : 4;
        return e.arg(at) == 0 ? null : new long[] {e.arg(at), e.arg(at + 1)};
    }

    private int livePid(int recPid) {
        Integer live = recToLivePid.get(recPid);
        return live != null ? live : recPid;
    }

    // ---------------------------------------------------------------- exec

    private Decision exec(SyscallEvent r, SyscallEntry e, Tracee t, RecordedRun.ThreadLog log) {
        if (r.failed()) {
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), false));
            return new Decision.Skip(r.result()); // e.g. a shell trying each directory of PATH
        }
        ExecEvent x = run.execAfter(r);
        if (x == null) throw failure("event " + r.seq() + ": the recording has no exec event after this execve");
        if (x.exeBlob().isEmpty()) {
            throw failure("event " + r.seq() + ": the recording holds no copy of the executable " + x.path());
        }
        int pathArg = r.nr() == nrExecve ? 0 : 1;
        int argvArg = pathArg + 1;
        String path = inputString(e.inputs(), pathArg);
        String execPath = executablePath(x.exeBlob(), interpreterBlob(run.thread(x.tid()), x, x), path.getBytes(StandardCharsets.UTF_8).length);
        long base = scratch(t);
        byte[] dir = cString(scratchDir.toString());
        t.write(base, dir);
        long res = t.inject(nrChdir, base);
        if (res != 0) throw failure("cannot enter deja's replay directory " + scratchDir + " (errno " + -res + ")");
        long pathAddr = base + 4096;
        t.write(pathAddr, cString(execPath));
        long[] live = e.args();
        long argv = live[argvArg];
        List<String> recordedArgv = argvStrings(e.inputs(), argvArg);
        if (!recordedArgv.equals(x.argv())) {
            // A #! script: the kernel ran the interpreter with a new argv; run the interpreter's copy with it.
            argv = base + 8192;
            byte[] vec = vector(argv, x.argv());
            if (8192 + vec.length > SCRATCH_SIZE) {
                // MAP_FIXED on purpose: the range is deja's, and a previous exec's area may still be
                // there in a vfork parent that shares this memory.
                long size = (vec.length + 4095L) & ~4095L;
                long got = t.inject(nrMmap, ARGS_AREA, size, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                if (got != ARGS_AREA) {
                    throw failure("event " + r.seq() + ": cannot map " + size + " bytes for the script's arguments in pid "
                            + t.pid() + " (result " + got + ")");
                }
                argv = ARGS_AREA;
                vec = vector(argv, x.argv());
            }
            t.write(argv, vec);
        }
        long[] args = {pathAddr, argv, live[argvArg + 1], 0, 0, 0};
        pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
        return new Decision.Rewrite(nrExecve, args);
    }

    /**
     * A path to the executable's copy, as long as the path the program passed when possible: the
     * kernel puts that path at the top of the new stack (AT_EXECFN), so the same length keeps every
     * stack address as recorded. Relative to the replay directory, which the process is in.
     */
    private String executablePath(String hash, String interpreter, int length) {
        Path copy = execCopies.get(hash);
        try {
            if (copy == null) {
                copy = scratchDir.resolve(Integer.toString(execCopies.size(), 36));
                Files.copy(recording.blob(hash), copy, StandardCopyOption.REPLACE_EXISTING);
                if (interpreter != null) useRecordedInterpreter(copy, interpreter);
                Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("r-xr-xr-x"));
                execCopies.put(hash, copy);
            }
            String name = copy.getFileName().toString();
            if (length == name.length()) return name;
            if (length >= name.length() + 2) return "./" + "/".repeat(length - name.length() - 2) + name;
            if (length >= 1 && length <= 3) {
                for (int i = 0; i < 1000; i++) {
                    String alt = ("l" + i + "xxx").substring(0, length);
                    Path link = scratchDir.resolve(alt);
                    if (!Files.exists(link)) {
                        Files.createLink(link, copy);
                        return alt;
                    }
                    if (Files.isSameFile(link, copy)) return alt;
                }
            }
            return copy.toString();
        } catch (IOException ex) {
            throw failure("cannot prepare the recorded executable for exec: " + ex.getMessage());
        } catch (RecordingException ex) {
            throw failure(ex.getMessage());
        }
    }

    /** The blob of the dynamic loader the kernel mapped at this exec (a mapping of the exec other than the executable). */
    private static String interpreterBlob(RecordedRun.ThreadLog log, Event execve, ExecEvent x) {
        for (Event e : log.after(execve)) {
            if (e instanceof MappingEvent m && !m.blob().isEmpty() && !m.blob().equals(x.exeBlob())) return m.blob();
        }
        return null;
    }

    /**
     * Points the executable copy's PT_INTERP at a copy of the recorded dynamic loader, by a path
     * relative to the replay directory (the process is in it at exec): the kernel then loads the
     * recorded ld.so, not the replaying machine's. The string keeps its length (NUL-padded).
     */
    private void useRecordedInterpreter(Path exe, String interpreterHash) throws IOException, RecordingException {
        // Its headers read and the path written in place: a compiler's executable is tens of megabytes.
        try (java.nio.channels.FileChannel f = java.nio.channels.FileChannel.open(exe, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            long length = f.size();
            ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            if (length < 64 || readFully(f, header, 0) < 64) return;
            byte[] magic = Arrays.copyOf(header.array(), 5);
            if (magic[0] != 0x7f || magic[1] != 'E' || magic[2] != 'L' || magic[3] != 'F' || magic[4] != 2) return;
            long phoff = header.getLong(0x20);
            int phentsize = Short.toUnsignedInt(header.getShort(0x36));
            int phnum = Short.toUnsignedInt(header.getShort(0x38));
            if (phentsize < 56 || phoff < 0 || phoff + (long) phnum * phentsize > length) return;
            ByteBuffer ph = ByteBuffer.allocate(phnum * phentsize).order(ByteOrder.LITTLE_ENDIAN);
            if (readFully(f, ph, phoff) < ph.capacity()) return;
            for (int i = 0; i < phnum; i++) {
                int at = i * phentsize;
                if (ph.getInt(at) != 3 /* PT_INTERP */) continue;
                long off = ph.getLong(at + 8);
                long size = ph.getLong(at + 32);
                String name = "i" + Integer.toString(execCopies.size(), 36);
                if (off < 0 || size < name.length() + 1 || off + size > length || size > 4096) return;
                Path ld = scratchDir.resolve(name);
                if (!Files.exists(ld)) {
                    Files.copy(recording.blob(interpreterHash), ld);
                    Files.setPosixFilePermissions(ld, PosixFilePermissions.fromString("r-xr-xr-x"));
                }
                byte[] path = new byte[(int) size]; // the name, NUL-padded to the recorded length
                byte[] n = name.getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(n, 0, path, 0, n.length);
                ByteBuffer w = ByteBuffer.wrap(path);
                while (w.hasRemaining()) f.write(w, off + w.position());
                return;
            }
        }
    }

    /** Reads into {@code b} from {@code position} until it is full or the file ends; the bytes read. */
    private static int readFully(java.nio.channels.FileChannel f, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            int n = f.read(b, position + b.position());
            if (n < 0) break;
        }
        return b.position();
    }

    private static byte[] vector(long base, List<String> strings) {
        int pointers = 8 * (strings.size() + 1);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        ByteBuffer ptrs = ByteBuffer.allocate(pointers).order(ByteOrder.LITTLE_ENDIAN);
        for (String s : strings) {
            ptrs.putLong(base + pointers + text.size());
            text.writeBytes(cString(s));
        }
        ptrs.putLong(0);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(ptrs.array());
        all.writeBytes(text.toByteArray());
        return all.toByteArray();
    }

    // ---------------------------------------------------------------- mmap

    private Decision mmap(SyscallEvent r, SyscallEntry e, Tracee t, RecordedRun.ThreadLog log) {
        if (r.failed()) {
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), false));
            return new Decision.Skip(r.result());
        }
        long flags = e.arg(3);
        long[] args = e.args();
        if ((flags & MAP_SHARED_TYPE) != MAP_PRIVATE) {
            // another process may map it too; read-only (a locale or gconv cache), it shares nothing it writes
            ((e.arg(2) & PROT_WRITE) != 0 ? sharingPids : sharedReadOnly).add(t.pid());
        }
        long fixed = atRecordedAddress(flags);
        if ((flags & MAP_ANONYMOUS) != 0) {
            // At the recorded address: the same layout whatever deja's own injections did.
            args[0] = r.result();
            args[3] = fixed;
            pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
            return new Decision.Rewrite(nrMmap, args);
        }
        MappingEvent m = log.mappingAfter(r);
        if (m == null || m.blob().isEmpty()) {
            if (m != null && m.path().equals("/dev/zero")) {
                args[0] = r.result();
                args[3] = (fixed & ~MAP_SHARED_TYPE) | MAP_PRIVATE | MAP_ANONYMOUS;
                args[4] = -1;
                pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), true));
                return new Decision.Rewrite(nrMmap, args);
            }
            throw failure("event " + r.seq() + ": mmap of " + (m == null ? "fd " + e.arg(4) : m.path())
                    + " cannot be replayed: the recording holds no copy of the file");
        }
        Path blob;
        try {
            blob = recording.blob(m.blob());
        } catch (RecordingException ex) {
            throw failure(ex.getMessage());
        }
        // Never write through to the blob store: a shared mapping is made of a copy of deja's own, one per
        // file, so that the processes that share it in the recording (a fork, /dev/shm) share it again.
        Path shared = (flags & MAP_SHARED_TYPE) != MAP_PRIVATE ? sharedCopy(m, blob, (e.arg(2) & PROT_WRITE) != 0) : null;
        if (shared != null) coverMapping(shared, e.arg(5) + e.arg(1), m);
        String path = (shared != null ? shared : blob).toAbsolutePath().toString();
        long oflags = shared != null ? O_RDWR_CLOEXEC : O_RDONLY_CLOEXEC;
        long mflags = shared != null ? fixed : (fixed & ~MAP_SHARED_TYPE) | MAP_PRIVATE;
        OpenCopy copy = new OpenCopy(path, oflags);
        long fd = copyDescriptor(t, copy, m, true);
        long got = t.inject(nrMmap, r.result(), e.arg(1), e.arg(2), mflags, fd, e.arg(5));
        if (!kept(t, copy)) t.inject(nrClose, fd); // one more than are kept
        if (got != r.result()) {
            SyscallEvent live = live(e, got);
            throw new Stop(divergence(r, render(r), render(live) + " (mapping the recorded copy of " + m.path()
                    + " at the recorded address failed)"));
        }
        pending.put(e.tid(), new Pending(r, e.args(), e.inputs(), false));
        return new Decision.Skip(r.result());
    }

    /**
     * The descriptor of {@code copy} in the thread's process: kept open from an earlier mapping, or opened
     * now (injected: only at a syscall entry, and not when {@code open} is false: then -1). Opened past
     * {@link #MAX_OPEN_COPIES}, it is not kept: the caller closes it after its mapping.
     */
    private long copyDescriptor(Tracee t, OpenCopy copy, MappingEvent m, boolean open) {
        Map<OpenCopy, Long> kept = openCopies.computeIfAbsent(t.pid(), k -> new HashMap<>());
        Long fd = kept.get(copy);
        if (fd != null) return fd;
        if (!open) return -1;
        long base = scratch(t);
        t.write(base, cString(copy.path()));
        long got = t.inject(nrOpenat, AT_FDCWD, base, copy.flags(), 0, 0, 0);
        if (got < 0) throw failure("cannot open the recorded copy of " + m.path() + " (" + copy.path() + "): errno " + -got);
        if (kept.size() < MAX_OPEN_COPIES) kept.put(copy, got);
        return got;
    }

    /** Whether {@code copy} is among those the thread's process keeps open. */
    private boolean kept(Tracee t, OpenCopy copy) {
        return openCopies.getOrDefault(t.pid(), Map.of()).containsKey(copy);
    }

    /** mmap's {@code flags} to map at the recorded address: MAP_FIXED_NOREPLACE, unless the program gave MAP_FIXED. */
    private static long atRecordedAddress(long flags) {
        return (flags & MAP_FIXED) != 0 ? flags : flags | MAP_FIXED_NOREPLACE;
    }

    /**
     * A private mapping's answer given ahead ({@link AnswersAhead#mapping}): made in the answer stub as at a
     * stop, at the recorded address, anonymous or of the recorded copy, whose descriptor must be open in the
     * process already or opened now ({@code atEntry}: deja may inject calls); a failed one as recorded. Null
     * when it must come to a stop: shared, /dev/zero, no copy, or more copies open than are kept.
     */
    private AnswerStub.Entry mappingAhead(SyscallEvent c, Tracee t, RecordedRun.ThreadLog log, boolean atEntry) {
        if (c.failed()) return answersAhead.mapping(c, null);
        long flags = c.arg(3);
        // Private exactly, as the replay's filter lets the stub's call through (shared would be a file written)
        if ((flags & 0xf) != MAP_PRIVATE) return null;
        long fixed = atRecordedAddress(flags);
        if ((flags & MAP_ANONYMOUS) != 0) {
            return answersAhead.mapping(c, new long[] {c.result(), c.arg(1), c.arg(2), fixed, 0xffff_ffffL, c.arg(5)});
        }
        MappingEvent m = log.mappingAfter(c);
        if (m == null || m.blob().isEmpty()) return null;
        Path blob;
        try {
            blob = recording.blob(m.blob());
        } catch (RecordingException ex) {
            return null; // said at its stop
        }
        OpenCopy copy = new OpenCopy(blob.toAbsolutePath().toString(), O_RDONLY_CLOEXEC);
        long fd = copyDescriptor(t, copy, m, atEntry);
        if (fd < 0 || !kept(t, copy)) {
            if (fd >= 0) t.inject(nrClose, fd);
            return null;
        }
        return answersAhead.mapping(c, new long[] {c.result(), c.arg(1), c.arg(2), fixed, fd, c.arg(5)});
    }

    /**
     * The replay's copy of a file a recorded process mapped shared, by the file's recorded path: made
     * from the recording's copy at the first writable shared mapping of that path, or null when no
     * writable one came yet (then a read-only one maps the recording's copy, privately).
     */
    private Path sharedCopy(MappingEvent m, Path blob, boolean writable) {
        Path copy = sharedCopies.get(m.path());
        if (copy != null || !writable) return copy;
        copy = scratchDir.resolve("s" + Integer.toString(sharedCopies.size(), 36));
        try {
            Files.deleteIfExists(copy);
            Files.createFile(copy, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            dev.deja.formats.SparseFiles.copy(blob, copy); // a memfd heap's gigabytes of zeros stay holes
        } catch (IOException ex) {
            throw failure("event " + m.seq() + ": cannot copy " + m.path() + " for its shared mapping: " + ex.getMessage());
        }
        sharedCopies.put(m.path(), copy);
        return copy;
    }

    /**
     * A shared copy is at least as long as a mapping of it reaches: the file grew in the recording
     * through calls replay skips (ftruncate, fallocate: a JVM's heap in a memfd), and a mapping past
     * its end would fault. The new bytes are zeros, as a file's grown part is.
     */
    private void coverMapping(Path copy, long end, MappingEvent m) {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(copy.toFile(), "rw")) {
            if (f.length() < end) f.setLength(end);
        } catch (IOException ex) {
            throw failure("event " + m.seq() + ": cannot extend the copy of " + m.path() + " for its shared mapping: " + ex.getMessage());
        }
    }

    /** A page of deja's own in the process, far from where programs map, for paths and vectors. */
    private long scratch(Tracee t) {
        Long known = scratch.get(t.pid());
        if (known != null) return known;
        long r = t.inject(nrMmap, SCRATCH, SCRATCH_SIZE, 3, 0x22 | MAP_FIXED_NOREPLACE, -1, 0);
        if (r == SCRATCH || r == -EEXIST) { // EEXIST: inherited through fork, or shared with a vfork parent
            scratch.put(t.pid(), SCRATCH);
            return SCRATCH;
        }
        if (r > 0) t.inject(table.number("munmap").orElseThrow(), r, SCRATCH_SIZE);
        throw failure("cannot map deja's scratch page in pid " + t.pid() + " (result " + r + ")");
    }

    // ---------------------------------------------------------------- effects of skipped calls

    /** What a skipped call would have done that matters here: descriptors, and output to the terminal. */
    private void effects(SyscallEvent r) {
        if (!r.returned() || r.failed()) return;
        Map<Integer, Integer> fds = fdTables.computeIfAbsent(r.pid(), k -> new HashMap<>());
        String name = table.name(r.nr());
        long res = r.result();
        switch (name) {
            case "write", "pwrite64" -> emit(fds.get((int) r.arg(0)), inputBytes(r, 1), res, r.seq());
            case "writev", "pwritev", "pwritev2" -> emit(fds.get((int) r.arg(0)), inputBytes(r, -1), res, r.seq());
            case "sendfile", "copy_file_range", "splice", "tee" -> {
                int outFd = (int) r.arg(name.equals("sendfile") ? 0 : 2);
                Integer origin = fds.get(outFd);
                // The recorder keeps what a regular file gave to deja's stdout or stderr under the count argument.
                byte[] moved = name.equals("tee") ? new byte[0] : inputBytes(r, name.equals("sendfile") ? 3 : 4);
                if (moved.length > 0) {
                    emit(origin, moved, res, r.seq());
                } else if (origin != null && (origin == 1 || origin == 2) && res > 0 && !warnedKernelCopy) {
                    warnedKernelCopy = true;
                    warnings.add("event " + r.seq() + ": " + res + " bytes " + name
                            + " copied inside the kernel to the recorded program's " + (origin == 1 ? "stdout" : "stderr")
                            + " were not recorded (deja keeps what a regular file gives, up to 64 MiB a call); they are missing from this replay's output");
                }
            }
            default -> trackDescriptors(fds, r);
        }
    }

    /**
     * What successful call {@code r} does to the process's descriptors as the replay knows them (per number,
     * the recorded stdout or stderr it is a copy of): duplicated, closed, a new one of no known origin.
     */
    private void trackDescriptors(Map<Integer, Integer> fds, SyscallEvent r) {
        long res = r.result();
        switch (table.name(r.nr())) {
            case "dup" -> set(fds, (int) res, fds.get((int) r.arg(0)));
            case "dup2", "dup3" -> set(fds, (int) r.arg(1), fds.get((int) r.arg(0)));
            case "fcntl" -> {
                if (r.arg(1) == 0 || r.arg(1) == 1030) set(fds, (int) res, fds.get((int) r.arg(0)));
            }
            case "close" -> fds.remove((int) r.arg(0));
            case "close_range" -> {
                if ((r.arg(2) & 4) == 0) fds.keySet().removeIf(fd -> fd >= (int) r.arg(0) && Integer.toUnsignedLong(fd) <= (r.arg(1) & 0xffffffffL));
            }
            case "pipe", "pipe2", "socketpair" -> {
                for (MemoryBlock b : r.outputs()) {
                    if (b.length() >= 8) {
                        ByteBuffer bb = ByteBuffer.wrap(b.data()).order(ByteOrder.LITTLE_ENDIAN);
                        fds.remove(bb.getInt(0));
                        fds.remove(bb.getInt(4));
                    }
                }
            }
            default -> {
                Schema s = schemas.schema(r.nr()).orElse(null);
                if (s != null && s.ret().equals("fd")) fds.remove((int) res);
            }
        }
    }

    private static void set(Map<Integer, Integer> fds, int fd, Integer origin) {
        if (origin == null) fds.remove(fd);
        else fds.put(fd, origin);
    }

    /** Whether a descriptor of this origin is the recorded program's stdout or stderr, which the replay prints. */
    private static boolean printed(Integer origin) {
        return origin != null && (origin == 1 || origin == 2);
    }

    private void emit(Integer origin, byte[] data, long result, long seq) {
        if (!printed(origin)) return;
        OutputStream os = origin == 1 ? out : err;
        int n = (int) Math.min(data.length, result);
        if (n <= 0) return;
        try {
            if (markEvents) {
                // "[deja 1042] ok 17/18": each line marked with the event that wrote its first byte.
                byte[] mark = ("[deja " + seq + "] ").getBytes(StandardCharsets.US_ASCII);
                ByteArrayOutputStream marked = new ByteArrayOutputStream(n + 32);
                for (int i = 0; i < n; i++) {
                    if (lineStart[origin]) marked.writeBytes(mark);
                    marked.write(data[i]);
                    lineStart[origin] = data[i] == '\n';
                }
                os.write(marked.toByteArray());
            } else {
                os.write(data, 0, n);
            }
            os.flush();
        } catch (IOException ex) {
            // deja's own output went away (| head): the replay goes on, as the program did
        }
    }

    private static byte[] inputBytes(SyscallEvent r, int arg) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (MemoryBlock m : r.inputs()) if (m.arg() == arg) b.writeBytes(m.data());
        return b.toByteArray();
    }

    /**
     * Writes the memory the recorded call's kernel wrote, at the addresses the live call passed:
     * a block hanging off argument i moves with that argument; a block reached through a pointer
     * inside an input struct (an iovec's buffer) moves with that pointer.
     */
    private void writeOutputs(SyscallEvent r, long[] liveArgs, List<MemoryBlock> liveInputs, Tracee t) {
        List<MemoryBlock> outs = r.outputs();
        if (outs.isEmpty()) return;
        Map<Long, Long> moved = null;
        for (MemoryBlock b : outs) {
            long addr;
            if (b.arg() >= 0) {
                addr = liveArgs[b.arg()] + (b.address() - r.arg(b.arg()));
            } else {
                if (moved == null) moved = movedPointers(r.inputs(), liveInputs);
                addr = moved.getOrDefault(b.address(), b.address());
            }
            // Strictly as the kernel writes: a recorded output running into memory the live buffer does not
            // have (a guard page, a shorter mapping) means this run is not the recorded one.
            int written = t.writeAsKernel(addr, b.data());
            if (written < b.length()) {
                throw new Stop(divergence(r, render(r) + " (the kernel wrote " + b.length() + " bytes at 0x"
                        + Long.toHexString(addr) + ")", "only " + written + " of them are writable memory in the"
                        + " replaying process"));
            }
        }
    }

    /** Recorded pointer words of input structs that the live call holds at another value. */
    private static Map<Long, Long> movedPointers(List<MemoryBlock> recorded, List<MemoryBlock> live) {
        Map<Long, Long> moved = new HashMap<>();
        for (MemoryBlock rb : recorded) {
            if (rb.arg() < 0 || rb.length() % 8 != 0) continue;
            for (MemoryBlock lb : live) {
                if (lb.arg() != rb.arg() || lb.length() != rb.length()) continue;
                ByteBuffer x = rb.view().order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer y = lb.view().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i + 8 <= rb.length(); i += 8) {
                    if (x.getLong(i) != y.getLong(i)) moved.put(x.getLong(i), y.getLong(i));
                }
            }
        }
        return moved;
    }

    // ---------------------------------------------------------------- exit

    @Override
    public void onSyscall(SyscallEvent event, Tracee t) {
        if (!exitChecked.isEmpty()) exitChecked.remove(event.tid());
        Pending p = pending.remove(event.tid());
        if (p == null) return;
        SyscallEvent r = p.rec();
        if (Errno.restartResult(event.result()) && issuedAgainIfInterrupted(p)) {
            // A live signal (a real child's SIGCHLD) interrupted it; deja drops that signal and the kernel
            // issues the call again (a fork then makes its child, a wait waits on).
            pending.put(event.tid(), p);
            reissued.add(event.tid());
            return;
        }
        stepDone(run.exitStep(r.seq()));
        Integer killedBy = diesAtReturn.isEmpty() ? null : diesAtReturn.remove(r.seq());
        if (killedBy != null) {
            // killed in this call when recorded: its return is its end
            injected.computeIfAbsent(t.tid(), k -> new ArrayDeque<>()).add(new Injected(killedBy, null));
            Signals.tgkill(t.pid(), t.tid(), killedBy);
            control.afterEvent(r, t);
            return;
        }
        if (p.ranForReal()) {
            finishRealCall(r, event, p, t);
            // posix_spawn's child resets every signal's action, a run of real calls: the rest answered ahead
            if (oneStop && aheadWanted && answersAhead.performed(r) && !Errno.restartResult(event.result())) {
                RecordedRun.ThreadLog log = run.thread(r.tid());
                if (log != null) answerAhead(r, t, log, false);
            }
        }
        if (r.nr() == nrSigaltstack && event.result() == 0) noteAltStack(t.tid(), p.liveInputs());
        if ((r.nr() == nrExecve || r.nr() == nrExecveat) && event.result() == 0) altStacks.remove(t.tid());
        boolean signalled = !signalledAtEntry.isEmpty() && signalledAtEntry.remove(r.seq());
        boolean injectedAtEntry = signalled || waitsForSignal.contains(r.nr()) || maskedWaits.contains(r.nr());
        if (!injectedAtEntry || !p.ranForReal()) injectSignalsAfter(r, t, false);
        // One thread: no order to keep, but a signal that landed in its code waits for that instruction.
        if (!ordersThreads()) armPreemption(t);
        control.afterEvent(r, t);
    }

    private void finishRealCall(SyscallEvent r, SyscallEvent live, Pending p, Tracee t) {
        int nr = r.nr();
        if (nr == nrExecve || nr == nrExecveat) {
            if (live.result() != 0) {
                throw new Stop(divergence(r, render(r), render(live) + " (exec of the recorded executable's copy failed)"));
            }
            scratch.remove(t.pid());
            ExecEvent x = run.execAfter(r);
            long[] auxv = x.auxv();
            for (int i = 0; i + 1 < auxv.length; i += 2) {
                if (auxv[i] == AT_RANDOM) t.write(auxv[i + 1], x.atRandom());
            }
            return;
        }
        if (maskedWaits.contains(nr)) {
            // Run as rt_sigsuspend: the program gets the wait's recorded result (and whatever it wrote).
            t.setResult(r.result());
            writeOutputs(r, p.liveArgs(), p.liveInputs(), t);
            return;
        }
        if (resultFromRecording.contains(nr)) {
            if ((nr == nrClone || nr == nrClone3) && live.result() > 0 && !r.failed()) parentSetTid(r, live.result(), p, t);
            t.setResult(r.result());
            if (!r.failed()) writeOutputs(r, p.liveArgs(), p.liveInputs(), t);
            return;
        }
        if (live.result() != r.result()) {
            throw new Stop(divergence(r, render(r), render(live)));
        }
        // What the call reported about the state before it (an old sigaction, an old mask) is the
        // recorded state: deja may have started the program with other dispositions or masks.
        if (!r.failed()) writeOutputs(r, p.liveArgs(), p.liveInputs(), t);
    }

    /**
     * CLONE_PARENT_SETTID wrote the live tid into the parent's memory: the program must see the recorded one.
     * Only while the word still holds the live tid: when the recorded order lets the new thread run and exit
     * before its creator returns from clone, CLONE_CHILD_CLEARTID has already zeroed that same word (glibc's
     * pd->tid), and writing the tid back would leave pthread_join waiting for an exit that happened.
     */
    private void parentSetTid(SyscallEvent r, long liveTid, Pending p, Tracee t) {
        long flags;
        long ptid;
        if (r.nr() == nrClone) {
            flags = p.liveArgs()[0];
            ptid = p.liveArgs()[2];
        } else {
            MemoryBlock args = p.liveInputs().stream().filter(b -> b.arg() == 0).findFirst().orElse(null);
            if (args == null || args.length() < 32) return;
            ByteBuffer b = args.view().order(ByteOrder.LITTLE_ENDIAN);
            flags = b.getLong(0);
            ptid = b.getLong(24);
        }
        if ((flags & CLONE_PARENT_SETTID) != 0 && ptid != 0) {
            byte[] word = new byte[4];
            if (t.memory().read(ptid, word, 0, 4) != 4) return;
            if (ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getInt() != (int) liveTid) return;
            t.write(ptid, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) r.result()).array());
        }
    }

    /** The address CLONE_CHILD_SETTID wrote the child's tid to, or 0. */
    private long childSetTidWord(Pending p) {
        if (p.rec().nr() == nrClone) {
            return (p.liveArgs()[0] & CLONE_CHILD_SETTID) != 0 ? p.liveArgs()[3] : 0;
        }
        MemoryBlock args = p.liveInputs().stream().filter(b -> b.arg() == 0).findFirst().orElse(null);
        if (args == null || args.length() < 24) return 0;
        ByteBuffer b = args.view().order(ByteOrder.LITTLE_ENDIAN);
        return (b.getLong(0) & CLONE_CHILD_SETTID) != 0 ? b.getLong(16) : 0;
    }

    /** The CLONE_CHILD_CLEARTID word recorded clone or clone3 {@code r} named, or 0. */
    private long recordedClearTidWord(SyscallEvent r) {
        if (r.nr() == nrClone) return (r.arg(0) & CLONE_CHILD_CLEARTID) != 0 ? r.arg(3) : 0;
        for (MemoryBlock b : r.inputs()) {
            if (b.arg() != 0 || b.length() < 24) continue;
            ByteBuffer args = b.view().order(ByteOrder.LITTLE_ENDIAN);
            return (args.getLong(0) & CLONE_CHILD_CLEARTID) != 0 ? args.getLong(16) : 0;
        }
        return 0;
    }

    /** Signals the recorded thread received right after this call: sent now, delivered on its return. */
    private void injectSignalsAfter(SyscallEvent r, Tracee t, boolean atEntry) {
        RecordedRun.ThreadLog log = run.thread(r.tid());
        if (log == null) return;
        injectSignals(log.after(r), r, t, atEntry);
    }

    /**
     * Sends the recorded signals among {@code events} (those after {@code before}, or after a point when it
     * is null) up to a recorded point (a signal after it is sent there: injectSignalsAt).
     */
    private void injectSignals(List<Event> events, SyscallEvent before, Tracee t, boolean atEntry) {
        for (Event x : events) {
            if (x instanceof ScheduleEvent) break;
            if (x instanceof SignalEvent s && signals.injects(s, before)) {
                if (atEntry && blocked(t, s.signo()) && queueWithSiginfo(t, s)) continue;
                queueSignal(t, s);
            }
        }
    }

    /**
     * The thread is at recorded point {@code p}: the signals recorded as landing there (a timer's SIGALRM
     * in a loop) are sent now, so the handler runs from that instruction, as recorded.
     */
    private void injectSignalsAt(ScheduleEvent p, Tracee t) {
        RecordedRun.ThreadLog log = run.thread(p.tid());
        if (log == null) return;
        injectSignals(log.after(p), null, t, false);
    }

    /**
     * At a syscall entry, with the signal blocked: the thread queues it to itself with the recorded
     * siginfo (rt_tgsigqueueinfo), so its handler sees the recorded si_code and sender.
     */
    private boolean queueWithSiginfo(Tracee t, SignalEvent s) {
        if (nrTgsigqueueinfo < 0 || s.siginfo().length != 128) return false;
        long at = scratch(t) + 12288;
        t.write(at, s.siginfo());
        long r = t.inject(nrTgsigqueueinfo, t.pid(), t.tid(), s.signo(), at);
        if (r != 0) return false;
        // Its siginfo kept: a checkpoint's copy is sent it again with tgkill (see resendInjected).
        injected.computeIfAbsent(t.tid(), k -> new ArrayDeque<>()).add(new Injected(s.signo(), s.siginfo()));
        return true;
    }

    /** Whether the thread blocks {@code signo} now (its SigBlk in /proc). */
    private static boolean blocked(Tracee t, int signo) {
        long mask = signalMask(t, "SigBlk:");
        return mask != -1 && (mask & (1L << (signo - 1))) != 0;
    }

    /** Whether the process has a handler for {@code signo} (its SigCgt in /proc); false when it cannot be read. */
    private static boolean caught(Tracee t, int signo) {
        long mask = signalMask(t, "SigCgt:");
        return mask != -1 && (mask & (1L << (signo - 1))) != 0;
    }

    /** Whether {@code signo} is pending for the thread or its process (SigPnd, ShdPnd); true when it is gone. */
    private static boolean pendingFor(Tracee t, int signo) {
        long thread = signalMask(t, "SigPnd:");
        long process = signalMask(t, "ShdPnd:");
        return thread == -1 || process == -1 || ((thread | process) & (1L << (signo - 1))) != 0;
    }

    /**
     * One signal set of the thread's /proc status ({@code field} with its colon), or -1 when it cannot be
     * read (no set has every bit: SIGKILL and SIGSTOP are never blocked, nor both pending with all others).
     */
    private static long signalMask(Tracee t, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(t.pid()), "task",
                    Integer.toString(t.tid()), "status"))) {
                if (line.startsWith(field)) return Long.parseUnsignedLong(line.substring(field.length()).trim(), 16);
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private boolean hasInjectedSignalAfter(SyscallEvent r) {
        RecordedRun.ThreadLog log = run.thread(r.tid());
        if (log == null) return false;
        for (Event x : log.after(r)) if (x instanceof SignalEvent s && signals.injects(s, r)) return true;
        return false;
    }

    /**
     * The thread's call becomes tgkill(itself, signo): the thread sends itself the signal that ended
     * it in the recording (deja cannot kill a thread it is still deciding for).
     */
    private Decision dieOf(Tracee t, int signo) {
        injected.computeIfAbsent(t.tid(), k -> new ArrayDeque<>()).add(new Injected(signo, null));
        return new Decision.Rewrite(nr("tgkill"), new long[] {t.pid(), t.tid(), signo, 0, 0, 0});
    }

    /** Sends the recorded signal now; at its delivery stop it gets the recorded siginfo back (sender, code). */
    private void queueSignal(Tracee t, SignalEvent s) {
        injected.computeIfAbsent(t.tid(), k -> new ArrayDeque<>())
                .add(new Injected(s.signo(), s.siginfo().length == 128 ? s.siginfo() : null));
        Signals.tgkill(t.pid(), t.tid(), s.signo());
    }

    @Override
    public int signalToDeliver(SignalEvent event, Tracee t) {
        Deque<Injected> q = injected.get(t.tid());
        if (q != null) {
            for (Iterator<Injected> it = q.iterator(); it.hasNext(); ) {
                Injected i = it.next();
                if (i.signo() != event.signo()) continue;
                it.remove();
                if (i.siginfo() != null) t.setSiginfo(i.siginfo());
                // A stop by default action is not carried out: the recorded order already keeps the process
                // from running until it was continued, and a real stop would wait for a real SIGCONT. (A stop
                // signal the program handles is delivered: its handler runs.)
                if (signals.dropsAtDelivery(event.signo(), caught(t, event.signo()))) {
                    return 0;
                }
                return event.signo();
            }
        }
        if (Signals.raisedByFault(event.signo(), event.code())) return event.signo(); // the program's own fault
        if (event.code() <= 0 && recToLivePid.containsValue(event.senderPid())) return event.signo(); // a replayed kill
        return 0; // from outside the replay, or a real child's SIGCHLD: the recording decides signals
    }

    @Override
    public void onSpawn(SpawnEvent event) {
        Integer recParent = liveToRecTid.get(event.tid());
        Pending p = pending.get(event.tid());
        if (recParent == null || p == null) {
            throw failure("a process or thread was created outside any recorded clone/fork (live tid " + event.tid() + ")");
        }
        SpawnEvent rs = run.thread(recParent).spawnAfter(p.rec());
        if (rs == null) {
            throw new Stop(divergence(p.rec(), render(p.rec()) + " without a new task", "a new task (tid "
                    + event.childTid() + ")"));
        }
        liveToRecTid.put(event.childTid(), rs.childTid());
        recToLiveTid.put(rs.childTid(), event.childTid());
        recToLivePid.put(rs.childPid(), event.childPid());
        boolean thread = (rs.cloneFlags() & CLONE_THREAD) != 0 || rs.spawnKind() == SpawnEvent.Kind.THREAD;
        ThreadFacts.AltStack alt = altStacks.get(event.tid());
        if (alt != null && (rs.cloneFlags() & CLONE_VM) == 0) altStacks.put(event.childTid(), alt); // fork keeps it
        Tracee parent = tracees.get(event.tid());
        if (parent != null && (p.rec().nr() == nrClone || p.rec().nr() == nrClone3)) {
            // Now, not at clone's return: the new thread may run first and read its tid (the JVM does).
            parentSetTid(p.rec(), event.childTid(), p, parent);
            long ctid = childSetTidWord(p);
            if (ctid != 0) childTidWord.put(event.childTid(), ctid);
            long clear = recordedClearTidWord(p.rec());
            if (clear != 0) clearTidWord.put(rs.childTid(), clear);
        }
        if (!thread) {
            if (sharingPids.contains(event.pid())
                    || (rs.cloneFlags() & CLONE_VM) != 0 && (rs.cloneFlags() & CLONE_VFORK) == 0) {
                // It inherits its parent's shared mappings, or shares all its memory (CLONE_VM; a vfork parent
                // waits in the kernel until its child execs or ends, so it runs no code beside it).
                sharingPids.add(event.pid());
                sharingPids.add(event.childPid());
            }
            if (sharedReadOnly.contains(event.pid())) sharedReadOnly.add(event.childPid());
            fdTables.put(rs.childPid(), new HashMap<>(fdTables.getOrDefault(rs.pid(), Map.of())));
            Long s = scratch.get(event.pid());
            if (s != null) scratch.put(event.childPid(), s);
            // Its descriptors are a copy of its parent's, the open copy's included; a table shared with the parent
            // (CLONE_FILES) is not taken: a later close of the parent's would leave the child a number reused.
            Map<OpenCopy, Long> open = openCopies.get(event.pid());
            if (open != null && (rs.cloneFlags() & CLONE_FILES) == 0) openCopies.put(event.childPid(), new HashMap<>(open));
            else openCopies.remove(event.childPid());
        }
    }

    // ---------------------------------------------------------------- checking

    /**
     * Whether the thread was killed inside recorded call {@code r}, its last: e.g. by deja record's own SIGKILL
     * at Ctrl-C, which may come while the recorder still reads the call's inputs (an execve's environment,
     * a path), so the recorded inputs may be cut short.
     */
    private boolean killedInIt(SyscallEvent r, RecordedRun.ThreadLog log) {
        if (log.peekSyscall() != null) return false;
        ExitEvent end = log.exit();
        if (end == null || !end.killed()) return false;
        return !r.returned() || interruptedUnseen(r, log) || lostItsCopy(r, log);
    }

    /**
     * Whether {@code r} is an mmap of a file whose copy the recorder could not make because deja record's
     * SIGKILL (Ctrl-C, SIGTERM) ended the process while it copied (the file it read through the process
     * went with it). Nothing of the program ran after it that the recording holds: it dies there.
     */
    private boolean lostItsCopy(SyscallEvent r, RecordedRun.ThreadLog log) {
        if (r.nr() != nrMmap || r.failed() || (r.arg(3) & MAP_ANONYMOUS) != 0) return false;
        MappingEvent m = log.mappingAfter(r);
        return m == null || m.blob().isEmpty() && !m.path().equals("/dev/zero");
    }

    /**
     * Whether call {@code r} returned a restart code and no signal of its thread was recorded after it: the
     * signal that interrupted it never got to the thread (deja's SIGKILL came first), so the program never
     * saw the call end. Run for real, such a call (a shell's wait4) would wait for what only that signal
     * brought about.
     */
    private static boolean interruptedUnseen(SyscallEvent r, RecordedRun.ThreadLog log) {
        if (!Errno.restartResult(r.result())) return false;
        for (Event x : log.after(r)) if (x instanceof SignalEvent) return false;
        return true;
    }

    private void check(SyscallEvent r, SyscallEntry e, boolean inputsMayBeCut) {
        if (r.nr() != e.nr()) throw new Stop(divergence(r, render(r), render(live(e, -1))));
        Schema s = schemas.schema(r.nr()).orElse(null);
        if (s == null) return;
        for (int i = 0; i < s.argCount(); i++) {
            ArgSpec a = s.arg(i);
            if (!scalar(a.kind()) || exempt(r.nr(), i)) continue;
            if (r.arg(i) != e.arg(i)) {
                throw new Stop(divergence(r, render(r), render(live(e, -1)) + " (argument " + (i + 1) + " differs)"));
            }
        }
        if (inputsMayBeCut) return;
        List<byte[]> want = contents(s, r.inputs());
        List<byte[]> have = contents(s, e.inputs());
        boolean same = want.size() == have.size();
        for (int i = 0; same && i < want.size(); i++) same = Arrays.equals(want.get(i), have.get(i));
        if (!same) throw new Stop(divergence(r, render(r), render(live(e, -1)) + " (input data differs)"));
    }

    private static boolean scalar(ArgKind k) {
        return !k.memory() && k != ArgKind.PTR;
    }

    /** Scalars that hold addresses in practice (clone's tls). */
    private boolean exempt(int nr, int arg) {
        return nr == nrClone && arg == 4;
    }

    /** The input bytes that must match: paths, strings, data written, sockaddrs, argv/env strings, iovec data. */
    private static List<byte[]> contents(Schema s, List<MemoryBlock> inputs) {
        boolean nested = false;
        for (int i = 0; i < s.argCount(); i++) {
            ArgKind k = s.arg(i).kind();
            if (k == ArgKind.STRV || k == ArgKind.IOVIN) nested = true;
        }
        List<byte[]> out = new ArrayList<>();
        for (MemoryBlock b : inputs) {
            boolean keep;
            if (b.arg() < 0) {
                keep = nested;
            } else if (b.arg() < s.argCount()) {
                ArgKind k = s.arg(b.arg()).kind();
                keep = k == ArgKind.PATH || k == ArgKind.STR || k == ArgKind.IBUF || k == ArgKind.SAIN;
            } else {
                keep = false;
            }
            if (keep) out.add(b.data());
        }
        return out;
    }

    // ---------------------------------------------------------------- reporting

    private SyscallEvent live(SyscallEntry e, long result) {
        return new SyscallEvent(e.seq(), e.pid(), e.tid(), e.timeNs(), e.timeNs(), e.nr(), e.args(), e.inputs(), result,
                List.of(), result == -1 ? SyscallEvent.NO_EXIT : 0);
    }

    private String render(SyscallEvent e) {
        String s = renderer.render(e).replaceAll(" {2,}= ", " = ");
        if (s.endsWith(" = ?")) s = s.substring(0, s.length() - 4);
        return s;
    }

    private Divergence divergence(SyscallEvent r, String expected, String got) {
        return divergence(r.seq(), r.pid(), r.tid(), expected, got);
    }

    private Divergence divergence(long seq, int pid, int tid, String expected, String got) {
        List<String> before = new ArrayList<>();
        for (SyscallEvent b : run.syscallsBefore(seq < 0 ? Long.MAX_VALUE : seq, 5)) {
            before.add("#" + b.seq() + " [pid " + b.tid() + "] " + render(b));
        }
        return new Divergence(seq, pid, tid, expected, got, before);
    }

    private static Stop failure(String message) {
        return new Stop(new ReplayException(message));
    }

    private static String inputString(List<MemoryBlock> inputs, int arg) {
        for (MemoryBlock b : inputs) {
            if (b.arg() == arg) {
                byte[] d = b.data();
                int n = d.length > 0 && d[d.length - 1] == 0 ? d.length - 1 : d.length;
                return new String(d, 0, n, StandardCharsets.UTF_8);
            }
        }
        return "";
    }

    /** The argv strings of an execve's inputs: the pointer block of argument {@code arg}, then its strings. */
    private static List<String> argvStrings(List<MemoryBlock> inputs, int arg) {
        List<String> argv = new ArrayList<>();
        int count = -1;
        for (MemoryBlock b : inputs) {
            if (count < 0) {
                if (b.arg() == arg) count = Math.max(0, b.length() / 8 - 1);
                continue;
            }
            if (b.arg() != -1 || argv.size() >= count) break;
            byte[] d = b.data();
            int n = d.length > 0 && d[d.length - 1] == 0 ? d.length - 1 : d.length;
            argv.add(new String(d, 0, n, StandardCharsets.UTF_8));
        }
        return argv;
    }

    private static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }
}
