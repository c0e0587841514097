package dev.deja.device;

import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Signals;
import dev.deja.device.ffm.Wait;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.SyscallTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Stopped copies of a traced process, for checkpoints (rr's fork checkpoints): the process, held at
 * a syscall-entry stop, is made to run {@code clone(CLONE_PARENT | SIGCHLD)} (see {@link
 * RemoteSyscall}); the child, traced from birth (PTRACE_O_TRACEFORK: same options, same seccomp
 * filter), is kept in a ptrace stop and never runs until it is adopted by a new
 * {@link TraceSession}. CLONE_PARENT makes the copy a sibling, not a child, of the process copied: a
 * {@code wait} of that process never sees it (a copy of a process of a tree is a child of its parent,
 * whose real waits must name their child: see {@link #refusal}). fork copies the calling thread alone:
 * the other threads of a multi-threaded process are re-created in a copy from their {@link ThreadImage}s
 * (a clone each, then their registers, extended state, signal mask and name), as rr re-creates them. The
 * bytes of writable shared memory, which a copy shares, are kept ({@link #sharedContents}) and put back
 * ({@link #putBack}). Everything here runs on the tracing thread (ptrace belongs to it). x86_64.
 */
public final class ProcessCopies {
    /** Runs of white space, as /proc's files separate their fields (compiled once: String.split would at every call). */
    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("\\s+");
    private static final int SYSCALL_STOP = Signals.SIGTRAP | 0x80;
    private static final long CLONE_PARENT = 0x00008000;
    private static final long SIGCHLD = 17;

    private ProcessCopies() {
    }

    /**
     * Why {@code pid} cannot be copied now, or empty: it has a pending signal (fork drops pending
     * signals) other than those of {@code droppable} (a mask, bit n-1 for signal n: signals the run
     * drops anyway, such as a replay's real SIGCHLDs, which a blocked handler keeps pending). (Writable
     * shared memory is copied by {@link #sharedContents}.) The message names the process {@code name}
     * (a replayer's recorded pid).
     *
     * <p>A copy is forked with CLONE_PARENT: it is a child of the process's parent, as a sibling. A parent
     * that is a process of the run could take it with a wait for any child; the caller sees to it that no
     * such wait runs for real (a replay's real waits name the child they reaped when recorded).
     */
    public static Optional<String> refusal(int pid, String name, long droppable) {
        long pending = pendingSignals(pid) & ~droppable;
        if (pending != 0) {
            List<String> names = new ArrayList<>();
            for (int signo = 1; signo <= 64; signo++) {
                if ((pending & (1L << (signo - 1))) != 0) names.add(dev.deja.device.syscall.Signals.name(signo));
            }
            return Optional.of(String.join(", ", names) + " is pending for " + name + " (a forked copy would lose it)");
        }
        return Optional.empty();
    }

    /**
     * The signals pending for the process or any of its threads, blocked or not (SigPnd, ShdPnd of each
     * thread's status), as a mask (bit n-1 for signal n).
     */
    private static long pendingSignals(int pid) {
        long pending = 0;
        for (int tid : ProcFs.threads(pid)) {
            ProcFs.SignalState signals = ProcFs.signals(pid, tid);
            if (signals != null) pending |= signals.pending(); // else it ended meanwhile: nothing of it to lose
        }
        return pending;
    }

    /**
     * The bytes of a writable shared mapping ({@code range} and path as /proc/PID/maps names it) at a
     * checkpoint: a forked copy shares the mapping with the running replay, whose writes would change it
     * under the checkpoint, so a restore puts these bytes back ({@link #putBack}).
     */
    public record SharedBytes(long start, byte[] bytes, String range) {
    }

    /** The most shared memory one checkpoint keeps the bytes of (they are kept in deja's heap). */
    static final long SHARED_LIMIT = 16L << 20;

    /**
     * The contents of every writable MAP_SHARED mapping of {@code pid} (its threads stopped), read through
     * /proc/PID/mem. Throws {@link DeviceException} naming {@code name} when they are more than
     * {@link #SHARED_LIMIT} or one cannot be read.
     */
    public static List<SharedBytes> sharedContents(int pid, String name) {
        List<SharedBytes> found = new ArrayList<>();
        long total = 0;
        try (java.nio.channels.FileChannel mem = java.nio.channels.FileChannel.open(ProcFs.proc(pid).resolve("mem"),
                java.nio.file.StandardOpenOption.READ)) {
            for (ProcFs.Mapping m : ProcFs.writableSharedMappings(pid)) {
                String range = Long.toHexString(m.start()) + "-" + Long.toHexString(m.end())
                        + (m.path().isEmpty() ? "" : " " + m.path());
                total += m.end() - m.start();
                if (total > SHARED_LIMIT) {
                    throw new DeviceException(name + " has more than " + (SHARED_LIMIT >> 20) + " MiB of writable shared"
                            + " memory (" + range + "): a checkpoint keeps a copy of its bytes, as a forked copy would share it"
                            + " with the running replay");
                }
                java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate((int) (m.end() - m.start()));
                while (bytes.hasRemaining()) {
                    if (mem.read(bytes, m.start() + bytes.position()) <= 0) break;
                }
                if (bytes.hasRemaining()) {
                    throw new DeviceException(name + " has a writable shared mapping (" + range + ") deja cannot read"
                            + " whole: a forked copy would share it with the running replay");
                }
                found.add(new SharedBytes(m.start(), bytes.array(), range));
            }
        } catch (IOException e) {
            throw new DeviceException(name + " has a writable shared mapping deja cannot read (" + e.getMessage()
                    + "): a forked copy would share it with the running replay", e);
        }
        return found;
    }

    /** Writes the bytes of {@link #sharedContents} back into the shared mappings, through {@code pid}'s (a copy's) memory. */
    public static void putBack(int pid, List<SharedBytes> shared) {
        if (shared.isEmpty()) return;
        try (java.nio.channels.FileChannel mem = java.nio.channels.FileChannel.open(ProcFs.proc(pid).resolve("mem"),
                java.nio.file.StandardOpenOption.WRITE)) {
            for (SharedBytes b : shared) {
                java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(b.bytes());
                while (bytes.hasRemaining()) {
                    if (mem.write(bytes, b.start() + bytes.position()) <= 0) {
                        throw new IOException("short write at 0x" + Long.toHexString(b.start() + bytes.position()));
                    }
                }
            }
        } catch (IOException e) {
            throw new DeviceException("cannot put back the shared memory of the checkpoint's copy " + pid + ": "
                    + e.getMessage(), e);
        }
    }

    /** A copy made by {@link #fork(int, int, Image)}: its pid, and the tid of each re-created thread by the tid it was imaged from. */
    public record Copy(int pid, Map<Integer, Integer> tids) {
        public Copy {
            tids = Map.copyOf(tids);
        }
    }

    /**
     * Forks thread {@code tid} (in a syscall-entry stop) and returns the copy's pid. {@code tid} is left
     * as it was: in the entry stop of its own call, its registers untouched. With {@code atEntry} the
     * copy is brought to the same entry stop (a checkpoint kept to be copied again); without, it stays
     * in its first stop with the registers to issue the same call when resumed (PTRACE_SYSCALL then
     * reports that entry: the copy a new session adopts).
     */
    public static int fork(int tid, int nrClone, boolean atEntry) {
        try {
            return forkRetrying(tid, nrClone, atEntry, null, null).pid();
        } finally {
            giveBackSignals(tid);
        }
    }

    /**
     * As {@link #fork(int, int, boolean)} with {@code atEntry}, the copy left at its entry stop with
     * {@code copyRegs} instead of {@code tid}'s (another call's entry: the call a thread brought out of it
     * by an interrupt was in, where {@code tid} is at its restart).
     */
    public static int fork(int tid, int nrClone, long[] copyRegs) {
        try {
            return forkRetrying(tid, nrClone, true, copyRegs.clone(), null).pid();
        } finally {
            giveBackSignals(tid);
        }
    }

    /**
     * A copy of a process for a checkpoint ({@link Tracee#copyProcess}): {@code pid}, forked from the
     * process's first thread, which was in a call that runs for real when {@code leaderInCall} (it issues
     * that call again), its CLONE_CHILD_CLEARTID word and robust futex list (head, length: fork carries
     * neither), and the images of the other threads. When the first thread was held at a call's exit or in
     * user code, {@code leaderHeld} is its image (the copy then waits at the entry of a call of its own, and
     * a restore puts its copy where the image says); else null (the copy waits at the entry of the first
     * thread's call).
     */
    public record Image(int pid, boolean leaderInCall, long leaderClearTidWord, long[] leaderRobustList,
                        ThreadImage leaderHeld, List<ThreadImage> threads) {
        public Image {
            leaderRobustList = leaderRobustList.clone();
            threads = List.copyOf(threads);
        }

        @Override
        public long[] leaderRobustList() {
            return leaderRobustList.clone();
        }
    }

    /**
     * Forks thread {@code tid} (a checkpoint's copy of {@code image}'s process) as {@link #fork(int, int,
     * boolean)} without {@code atEntry}, gives the copy's first thread the leader's clear-tid word and robust
     * list, and re-creates the image's other threads in it, each in the stop its {@link ThreadImage.Stop}
     * names: at the entry stop of its call, issued again (ENTRY, IN_CALL), at the exit stop of a call of
     * its own with the image's registers (EXIT), or in its first stop with them (START, USER). The first
     * thread too, when the leader was held at an exit or in user code ({@link Image#leaderHeld}).
     */
    public static Copy fork(int tid, int nrClone, Image image) {
        try {
            return forkRetrying(tid, nrClone, false, null, image);
        } finally {
            giveBackSignals(tid);
        }
    }

    /**
     * Forks {@code tid}, stopped outside any call's entry (at a call's exit, or in user code), through the
     * syscall instruction at {@code syscallInsn}, and puts its registers back. The copy waits at the entry of
     * a getpid of its own at that instruction, to be forked again ({@link #fork(int, int, Image)} with the
     * thread's image).
     */
    public static int forkFromStop(int tid, int nrClone, long syscallInsn) {
        try (Ptrace ptrace = new Ptrace(); Wait wait = new Wait()) {
            return forkFromStop(ptrace, wait, tid, nrClone, syscallInsn);
        } finally {
            giveBackSignals(tid);
        }
    }

    /**
     * As {@link #forkFromStop(int, int, long)}, {@code tid} imaged as {@code held} where it stands. At a masked
     * exit ({@link ThreadImage#atMaskedExit}: make's pselect6, which the replay makes an rt_sigsuspend), the
     * way back to user mode for the injected clone put the outside mask back and took the pending signal:
     * {@code tid} is put back in that exit stop, the signal pending again.
     */
    public static int forkFromStop(int tid, int nrClone, long syscallInsn, ThreadImage held) {
        try (Ptrace ptrace = new Ptrace(); Wait wait = new Wait()) {
            int child = forkFromStop(ptrace, wait, tid, nrClone, syscallInsn);
            if (held.maskedExit()) {
                giveBackSignals(tid);
                if ((ProcFs.signalsOfLive(tid, tid).pending() & bit(held.endingSignal())) == 0) {
                    kill(List.of(child));
                    throw new DeviceException("signal " + held.endingSignal() + ", which ended the call pid " + tid
                            + " is at the exit of, was lost while it was forked");
                }
                toMaskedExit(ptrace, wait, tid, tid, syscallInsn, held.callMask(), held.registers());
            }
            return child;
        } finally {
            giveBackSignals(tid);
        }
    }

    static long bit(int signo) {
        return 1L << (signo - 1);
    }

    /**
     * Puts {@code thread} of process {@code pid}, stopped outside any call with a signal pending that
     * {@code callMask} lets through and its own mask blocks, at the exit stop of an rt_sigsuspend under
     * {@code callMask}: the kernel then holds the mask it had (put back once the signal is delivered) and
     * reports the call ended by the signal. {@code regs} are set there. The mask is passed through
     * {@link #withScratch}.
     */
    private static void toMaskedExit(Ptrace ptrace, Wait wait, int pid, int thread, long syscallInsn, long callMask,
                                     long[] regs) {
        byte[] mask = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, callMask).array();
        long result = withScratch(ptrace, wait, pid, thread, syscallInsn, regs[X86Regs.RSP], mask,
                at -> new long[] {number("rt_sigsuspend"), at, 8});
        if (!Errno.restartResult(result)) {
            throw new DeviceException("the rt_sigsuspend that puts tid " + thread + " back under its call's mask"
                    + " returned " + result + ", not a signal's restart code");
        }
        ptrace.setRegs(thread, regs); // at its exit stop: the kernel's mask state stays as the call left it
    }

    private static int forkFromStop(Ptrace ptrace, Wait wait, int tid, int nrClone, long syscallInsn) {
        long[] got = inject(ptrace, wait, tid, syscallInsn, nrClone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        int child = (int) got[1];
        if (got[0] <= 0 || child <= 0) {
            if (child > 0) kill(List.of(child));
            throw new DeviceException("cannot fork pid " + tid + " for a checkpoint: clone returned " + got[0]);
        }
        firstStop(wait, child);
        toEntryOfOwnCall(ptrace, wait, child, syscallInsn);
        return child;
    }

    /**
     * Signals the injected calls took from the threads they ran in, by tid: a signal pending and not
     * blocked is delivered on the way back from a call (and makes clone fail with ERESTARTNOINTR), and
     * deja resumes such a delivery stop without it. {@link #giveBackSignals} sends them again.
     */
    private static final ThreadLocal<List<int[]>> TAKEN = ThreadLocal.withInitial(ArrayList::new);

    /** A stop on the way through an injected call: a signal's delivery stop is noted, to be given back. */
    private static void noteSignal(int tid, int status) {
        if (Wait.stopped(status) && Wait.ptraceEvent(status) == 0 && Wait.stopSignal(status) != SYSCALL_STOP) {
            TAKEN.get().add(new int[] {tid, Wait.stopSignal(status)});
        }
    }

    /**
     * Sends thread {@code tid} (a process's first thread: its tid is its pid) the signals its injected calls
     * took from it, pending again as they were; the others noted (a copy's) are dropped.
     */
    private static void giveBackSignals(int tid) {
        List<int[]> taken = TAKEN.get();
        for (int[] t : taken) if (t[0] == tid) Signals.tgkill(tid, tid, t[1]);
        taken.clear();
    }

    private static void firstStop(Wait wait, int child) {
        int first = wait.waitpid(child, Wait.WALL);
        if (first != child || !Wait.stopped(wait.status())) {
            throw new DeviceException("the checkpoint copy " + child + " did not stop at its start (wait status 0x"
                    + Integer.toHexString(wait.status()) + ")");
        }
    }

    private static Copy forkRetrying(int tid, int nrClone, boolean atEntry, long[] copyRegs, Image image) {
        // A signal pending in the process (a terminal's Ctrl-C reaches a stopped copy too) makes clone
        // fail with ERESTARTNOINTR; the signal is dropped on the way back into the call: once more.
        for (int attempt = 1; ; attempt++) {
            try {
                return forkOnce(tid, nrClone, atEntry, copyRegs, image);
            } catch (Interrupted e) {
                if (attempt == 3) throw new DeviceException("cannot fork pid " + tid + ": signals keep interrupting its clone");
            }
        }
    }

    /** clone failed with ERESTARTNOINTR: a signal was pending; the process is back in its call. */
    private static final class Interrupted extends Exception {
        private static final long serialVersionUID = 1L;

        Interrupted() {
            super(null, null, false, false);
        }
    }

    private static final long ERESTARTNOINTR = -513;
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private static final long CLONE_THREAD_FLAGS = 0x00000100 /* VM */ | 0x00000200 /* FS */ | 0x00000400 /* FILES */
            | 0x00000800 /* SIGHAND */ | 0x00010000 /* THREAD */ | 0x00040000 /* SYSVSEM */;
    private static final long CLONE_CHILD_CLEARTID = 0x00200000;
    private static final int PR_SET_NAME = 15;

    private static Copy forkOnce(int tid, int nrClone, boolean atEntry, long[] copyRegs, Image image) throws Interrupted {
        try (Ptrace ptrace = new Ptrace(); Wait wait = new Wait()) {
            long[] saved = ptrace.getRegsArray(tid);
            long[] regs = saved.clone();
            regs[X86Regs.ORIG_RAX] = nrClone;
            regs[X86Regs.RAX] = nrClone;
            long[] args = {CLONE_PARENT | SIGCHLD, 0, 0, 0, 0, 0};
            for (int i = 0; i < args.length; i++) regs[X86Regs.ARGS[i]] = args[i];
            ptrace.setRegs(tid, regs);
            int child = (int) toExit(ptrace, wait, tid, "the injected clone");
            long result = ptrace.getRegsArray(tid)[X86Regs.RAX];
            // The original call issued again, as RemoteSyscall does.
            long[] again = saved.clone();
            again[X86Regs.RAX] = saved[X86Regs.ORIG_RAX];
            again[X86Regs.RIP] = saved[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH;
            ptrace.setRegs(tid, again);
            toEntry(ptrace, wait, tid);
            ptrace.setRegs(tid, saved);
            if (result == ERESTARTNOINTR && child <= 0) throw new Interrupted();
            if (result <= 0 || child <= 0) {
                if (child > 0) kill(List.of(child));
                throw new DeviceException("cannot fork pid " + tid + " for a checkpoint: clone returned " + result);
            }
            // The copy's first stop (PTRACE_EVENT_STOP: it is seized as its parent is).
            firstStop(wait, child);
            Map<Integer, Integer> tids = new LinkedHashMap<>();
            try {
                // The call the copy was forked at is a syscall instruction of the process: the injected calls go through it.
                long syscallInsn = saved[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH;
                if (image != null) {
                    if (image.leaderClearTidWord() != 0) {
                        inject(ptrace, wait, child, syscallInsn, number("set_tid_address"), image.leaderClearTidWord());
                    }
                    if (image.leaderRobustList()[0] != 0) {
                        inject(ptrace, wait, child, syscallInsn, number("set_robust_list"), image.leaderRobustList()[0],
                                image.leaderRobustList()[1]);
                    }
                    for (ThreadImage t : image.threads()) {
                        tids.put(t.tid(), recreate(ptrace, wait, child, syscallInsn, nrClone, t));
                    }
                    ThreadImage held = image.leaderHeld();
                    if (held != null) {
                        place(ptrace, wait, child, child, syscallInsn, held);
                        return new Copy(child, tids);
                    }
                }
            } catch (DeviceException e) {
                List<Integer> made = new ArrayList<>(tids.values());
                made.add(child);
                kill(made);
                throw new DeviceException("cannot re-create the threads of pid " + tid + "'s copy: " + e.getMessage(), e);
            }
            long[] own = copyRegs != null ? copyRegs : saved;
            ptrace.setRegs(child, issuingAgain(own));
            if (atEntry) {
                toEntry(ptrace, wait, child);
                ptrace.setRegs(child, own);
            }
            return new Copy(child, tids);
        }
    }

    /**
     * One thread of the copy {@code child} made again from {@code image}: a clone of the copy's first thread
     * (same memory, descriptors, handlers), which is then given the image's extended state, signal mask, name
     * and registers, in the stop the image's kind asks for. Returns its tid.
     */
    private static int recreate(Ptrace ptrace, Wait wait, int child, long syscallInsn, int nrClone, ThreadImage image) {
        long word = image.clearTidWord();
        long flags = CLONE_THREAD_FLAGS | (word != 0 ? CLONE_CHILD_CLEARTID : 0);
        // clone(flags, stack 0: the parent's, never used, parent_tid, child_tid, tls: set with the registers)
        long[] got = inject(ptrace, wait, child, syscallInsn, nrClone, flags, 0, 0, word, 0);
        int thread = (int) got[1];
        if (got[0] <= 0 || thread <= 0) throw new DeviceException("the clone for thread " + image.tid() + " returned " + got[0]);
        int first = wait.waitpid(thread, Wait.WALL);
        if (first != thread || !Wait.stopped(wait.status())) {
            throw new DeviceException("the copy of thread " + image.tid() + " did not stop at its start (wait status 0x"
                    + Integer.toHexString(wait.status()) + ")");
        }
        if (image.robustHead() != 0) {
            inject(ptrace, wait, thread, syscallInsn, number("set_robust_list"), image.robustHead(), image.robustLength());
        }
        ThreadFacts.AltStack alt = image.altStack();
        if (alt != null) {
            byte[] stackT = new byte[24]; // stack_t: ss_sp, ss_flags (int, padded), ss_size
            java.nio.ByteBuffer.wrap(stackT).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, alt.base())
                    .putInt(8, alt.flags()).putLong(16, alt.size());
            long r = withScratch(ptrace, wait, child, thread, syscallInsn, image.registers()[X86Regs.RSP], stackT,
                    at -> new long[] {number("sigaltstack"), at, 0});
            if (r != 0) throw new DeviceException("the copy of thread " + image.tid() + " refused its alternate signal stack (" + r + ")");
        }
        place(ptrace, wait, child, thread, syscallInsn, image);
        return thread;
    }

    /**
     * Gives {@code thread} of a copy the image's name, extended state, signal mask and registers, in the stop
     * the image's kind asks for.
     */
    private static void place(Ptrace ptrace, Wait wait, int child, int thread, long syscallInsn, ThreadImage image) {
        nameThread(ptrace, wait, child, thread, syscallInsn, image.registers()[X86Regs.RSP], image.name());
        ptrace.setXstate(thread, image.xstate());
        ptrace.setSigMask(thread, image.signalMask());
        long[] regs = image.registers();
        switch (image.stop()) {
            case ENTRY, IN_CALL -> {
                // At the entry stop of the call it was at (or in), issued again: at an entry stop, or at the exit
                // stop of the interrupted call, rip is past the syscall instruction and orig_rax its number.
                ptrace.setRegs(thread, issuingAgain(regs));
                toEntry(ptrace, wait, thread);
            }
            case EXIT -> {
                if (image.maskedExit()) {
                    Signals.tgkill(child, thread, image.endingSignal());
                    toMaskedExit(ptrace, wait, child, thread, syscallInsn, image.callMask(), regs);
                    return;
                }
                // An exit stop of a call of its own (getpid), where the thread gets the registers of the one it had.
                toEntryOfOwnCall(ptrace, wait, thread, syscallInsn);
                resume(ptrace, thread, "its call's exit");
                int status = stop(wait, thread, "its call's exit");
                if (Wait.stopSignal(status) != SYSCALL_STOP || !exitStop(ptrace, thread)) {
                    throw new DeviceException("the copy of thread " + image.tid() + " did not reach a call's exit (wait status 0x"
                            + Integer.toHexString(status) + ")");
                }
                ptrace.setRegs(thread, regs);
            }
            case START, USER, RUNNING -> ptrace.setRegs(thread, regs);
        }
    }

    /**
     * Names the copy's {@code thread} as its original was (prctl PR_SET_NAME). A name that cannot be put
     * in the scratch place ({@link #withScratch}) is left out: it is cosmetic (gdb's thread list), the
     * replay answers the program's own reads of it from the recording.
     */
    private static void nameThread(Ptrace ptrace, Wait wait, int child, int thread, long syscallInsn, long stackPointer,
                                   String name) {
        if (name == null || name.isEmpty()) return;
        byte[] text = java.util.Arrays.copyOf(name.getBytes(StandardCharsets.UTF_8), 16);
        text[15] = 0;
        try {
            withScratch(ptrace, wait, child, thread, syscallInsn, stackPointer, text,
                    at -> new long[] {number("prctl"), PR_SET_NAME, at});
        } catch (DeviceException e) {
            // not mapped there: unnamed (see above)
        }
    }

    /**
     * Runs a call in {@code thread} of copy {@code child} that reads {@code bytes} from memory: they are put
     * below the red zone of the stack at {@code stackPointer} (the imaged thread's: mapped, and unused
     * there), the call ({@code call} gives its number and arguments from their address) is injected, and
     * the bytes that were there are put back. Returns the call's result.
     */
    private static long withScratch(Ptrace ptrace, Wait wait, int child, int thread, long syscallInsn, long stackPointer,
                                    byte[] bytes, java.util.function.LongFunction<long[]> call) {
        long at = (stackPointer - 512) & ~15L;
        try (java.nio.channels.FileChannel mem = java.nio.channels.FileChannel.open(ProcFs.proc(child).resolve("mem"),
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer before = java.nio.ByteBuffer.allocate(bytes.length);
            if (mem.read(before, at) != bytes.length) throw new IOException("short read at 0x" + Long.toHexString(at));
            mem.write(java.nio.ByteBuffer.wrap(bytes), at);
            try {
                long[] nrAndArgs = call.apply(at);
                return inject(ptrace, wait, thread, syscallInsn, (int) nrAndArgs[0],
                        java.util.Arrays.copyOfRange(nrAndArgs, 1, nrAndArgs.length))[0];
            } finally {
                mem.write(before.flip(), at);
            }
        } catch (IOException e) {
            throw new DeviceException("cannot use the stack of the copy of a thread at 0x" + Long.toHexString(at) + ": "
                    + e.getMessage(), e);
        }
    }

    private static int number(String name) {
        return TABLE.number(name).orElseThrow(() -> new DeviceException("no syscall " + name + " on x86_64"));
    }

    /**
     * Makes {@code tid}, in a stop outside any call, run syscall {@code nr(args)} through the syscall
     * instruction at {@code insn}, and puts its registers back. Returns the result and the event message of a
     * clone event met on the way (the new thread's tid; 0 when none).
     */
    private static long[] inject(Ptrace ptrace, Wait wait, int tid, long insn, int nr, long... args) {
        long[] saved = RemoteSyscall.atSyscallInsn(ptrace, tid, insn, nr, args);
        toEntry(ptrace, wait, tid);
        long message = toExit(ptrace, wait, tid, "an injected " + TABLE.name(nr));
        long result = ptrace.getRegsArray(tid)[X86Regs.RAX];
        ptrace.setRegs(tid, saved);
        return new long[] {result, message};
    }

    /**
     * From the entry stop of a call deja injected, on to its exit stop; returns the event message of a fork or
     * clone event met on the way (the new task's id; 0 when none). A signal from outside (a terminal's Ctrl-C
     * reaches the whole process group) is dropped on the way: the replay does not deliver those.
     */
    private static long toExit(Ptrace ptrace, Wait wait, int tid, String what) {
        long message = 0;
        while (true) {
            resume(ptrace, tid, what);
            int status = stop(wait, tid, what);
            int event = Wait.ptraceEvent(status);
            if (event == Ptrace.EVENT_FORK || event == Ptrace.EVENT_CLONE) {
                message = ptrace.eventMessage(tid);
                continue;
            }
            if (event == Ptrace.EVENT_SECCOMP) continue;
            if (Wait.stopSignal(status) == SYSCALL_STOP && exitStop(ptrace, tid)) return message;
            if (event == 0 && Wait.stopSignal(status) != SYSCALL_STOP) {
                noteSignal(tid, status);
                continue;
            }
            throw new DeviceException("tid " + tid + " stopped unexpectedly in " + what + " (wait status 0x"
                    + Integer.toHexString(status) + ")");
        }
    }

    /**
     * Registers that issue the call of syscall-stop registers {@code regs} again when the thread resumes:
     * back over the syscall instruction with the call's number in rax, and not in a syscall (no restart
     * applies to it).
     */
    private static long[] issuingAgain(long[] regs) {
        long[] again = regs.clone();
        again[X86Regs.RAX] = regs[X86Regs.ORIG_RAX];
        again[X86Regs.ORIG_RAX] = -1;
        again[X86Regs.RIP] = regs[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH;
        return again;
    }

    /** Takes {@code tid}, stopped outside any call, to the entry stop of a getpid of its own at {@code syscallInsn}. */
    private static void toEntryOfOwnCall(Ptrace ptrace, Wait wait, int tid, long syscallInsn) {
        RemoteSyscall.atSyscallInsn(ptrace, tid, syscallInsn, number("getpid"));
        toEntry(ptrace, wait, tid);
    }

    /**
     * Resumes {@code tid} to its next syscall stop until that is an entry (a new task may first report an
     * exit; a signal from outside, which the replay never delivers, is dropped on the way).
     */
    private static void toEntry(Ptrace ptrace, Wait wait, int tid) {
        List<String> seen = new ArrayList<>();
        for (int tries = 0; tries < 8; tries++) {
            resume(ptrace, tid, "re-entry of its call");
            int status = stop(wait, tid, "re-entry of its call");
            if (Wait.ptraceEvent(status) == Ptrace.EVENT_SECCOMP) return; // a filtered call's entry
            if (Wait.stopSignal(status) == SYSCALL_STOP && !exitStop(ptrace, tid)) return;
            noteSignal(tid, status);
            seen.add("0x" + Integer.toHexString(status));
        }
        throw new DeviceException("tid " + tid + " did not re-enter its call (wait statuses " + String.join(", ", seen) + ")");
    }

    private static boolean exitStop(Ptrace ptrace, int tid) {
        return ptrace.syscallInfo(tid).get(ValueLayout.JAVA_BYTE, 0) == Ptrace.SYSCALL_INFO_EXIT;
    }

    private static void resume(Ptrace ptrace, int tid, String what) {
        if (!ptrace.resumeToSyscall(tid, 0)) throw new DeviceException("tid " + tid + " vanished during " + what);
    }

    private static int stop(Wait wait, int tid, String what) {
        int got = wait.waitpid(tid, Wait.WALL);
        int status = wait.status();
        if (got != tid || !Wait.stopped(status)) {
            throw new DeviceException("tid " + tid + " ended during " + what + " (wait status 0x"
                    + Integer.toHexString(status) + ")");
        }
        return status;
    }

    /**
     * SIGKILLs the given tasks and reaps them (on the tracing thread: their tracer must wait for
     * them), so that none is left behind as a zombie. Tasks already gone are skipped.
     */
    public static void kill(Collection<Integer> tids) {
        for (int tid : tids) Signals.kill(tid, Signals.SIGKILL);
        reap(tids);
    }

    /**
     * Waits for the given (killed) tasks to end, resuming any that still reports a stop on its way
     * out. Each is waited for by its own id: a run may go on meanwhile (a checkpoint dropped while the
     * replay runs), and a wait for any task would take its stops from it. A thread group's leader is
     * reported only after its other threads: the tasks are polled in turn until every one has ended.
     * Gives up after 10 s (a task deja never traced).
     */
    public static void reap(Collection<Integer> tids) {
        java.util.Set<Integer> left = new java.util.LinkedHashSet<>(tids);
        long until = System.nanoTime() + 10_000_000_000L;
        try (Ptrace ptrace = new Ptrace(); Wait wait = new Wait()) {
            while (!left.isEmpty() && System.nanoTime() < until) {
                for (java.util.Iterator<Integer> it = left.iterator(); it.hasNext(); ) {
                    int tid = it.next();
                    int got = wait.waitpid(tid, Wait.WALL | Wait.WNOHANG);
                    if (got < 0) {
                        it.remove(); // gone already, or never deja's to wait for
                    } else if (got == tid) {
                        if (Wait.stopped(wait.status())) ptrace.resume(tid, 0); // a stop on the way out: on to the end
                        else it.remove();
                    }
                }
                if (!left.isEmpty()) java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
        }
    }

    /** What a process's memory costs: /proc/PID/smaps_rollup's Rss and Pss in bytes, or -1 each when unknown. */
    public record Footprint(long rssBytes, long pssBytes) {
    }

    public static Footprint footprint(int pid) {
        long rss = -1;
        long pss = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "smaps_rollup"))) {
                if (line.startsWith("Rss:")) rss = kib(line);
                else if (line.startsWith("Pss:")) pss = kib(line);
            }
        } catch (IOException | NumberFormatException e) {
            return new Footprint(-1, -1);
        }
        return new Footprint(rss, pss);
    }

    private static long kib(String line) {
        String[] f = SPACES.split(line.trim());
        return Long.parseLong(f[1]) * 1024;
    }
}
