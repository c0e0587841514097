package dev.deja.device;

import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Signals;
import dev.deja.device.ffm.Wait;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Stopped copies of a traced process, for checkpoints (rr's fork checkpoints): the process, held at
 * a syscall-entry stop, is made to run {@code clone(CLONE_PARENT | SIGCHLD)} (see {@link
 * RemoteSyscall}); the child, traced from birth (PTRACE_O_TRACEFORK: same options, same seccomp
 * filter), is kept in a ptrace stop and never runs until it is adopted by a new
 * {@link TraceSession}. CLONE_PARENT makes the copy a sibling, not a child, of the program: a
 * {@code wait} of the program never sees it. Only a single-threaded process can be copied (fork
 * copies the calling thread alone), and none whose writable shared memory the copy would share.
 * Everything here runs on the tracing thread (ptrace belongs to it). x86_64.
 */
public final class ProcessCopies {
    private static final int SYSCALL_STOP = Signals.SIGTRAP | 0x80;
    private static final long CLONE_PARENT = 0x00008000;
    private static final long SIGCHLD = 17;

    private ProcessCopies() {
    }

    /**
     * Why {@code pid} cannot be copied now, or empty: it has more than one thread, a writable
     * shared mapping, a pending signal (fork drops pending signals), or another parent than deja.
     * The message names the process {@code name} (a replayer's recorded pid).
     */
    public static Optional<String> refusal(int pid, String name) {
        List<Integer> threads = ProcFs.threads(pid);
        if (threads.size() != 1) {
            return Optional.of(name + " has " + threads.size() + " threads: a forked copy would have only"
                    + " the forking one (checkpoints of multi-threaded programs are not supported yet)");
        }
        String shared = writableShared(pid);
        if (shared != null) {
            return Optional.of(name + " has a writable shared mapping (" + shared + "): a forked copy would"
                    + " share it with the running replay, which would change it under the checkpoint");
        }
        if (anySignalPending(pid)) {
            return Optional.of("a signal is pending for " + name + " (a forked copy would lose it)");
        }
        long self = ProcessHandle.current().pid();
        long parent = ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
        if (parent != self) {
            return Optional.of(name + " is not a child of deja (its parent is " + parent
                    + "): its copy would be its parent's child, which could wait for it");
        }
        return Optional.empty();
    }

    /** Whether a signal is pending for the process or its thread, blocked or not (SigPnd, ShdPnd of /proc/PID/status). */
    private static boolean anySignalPending(int pid) {
        try {
            for (String line : Files.readAllLines(ProcFs.proc(pid).resolve("status"), StandardCharsets.UTF_8)) {
                if ((line.startsWith("SigPnd:") || line.startsWith("ShdPnd:"))
                        && Long.parseUnsignedLong(line.substring(7).trim(), 16) != 0) {
                    return true;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    /** The first writable MAP_SHARED mapping of /proc/PID/maps, as its address range and path, or null. */
    private static String writableShared(int pid) {
        List<String> lines;
        try {
            lines = Files.readAllLines(ProcFs.proc(pid).resolve("maps"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
        for (String line : lines) {
            String[] f = line.trim().split("\\s+", 6);
            if (f.length >= 2 && f[1].length() == 4 && f[1].charAt(1) == 'w' && f[1].charAt(3) == 's') {
                return f[0] + (f.length == 6 ? " " + f[5] : "");
            }
        }
        return null;
    }

    /**
     * Forks thread {@code tid} (the only thread of its process, in a syscall-entry stop) and returns
     * the copy's pid. {@code tid} is left as it was: in the entry stop of its own call, its registers
     * untouched. With {@code atEntry} the copy is brought to the same entry stop (a checkpoint kept
     * to be copied again); without, it stays in its first stop with the registers to issue the same
     * call when resumed (PTRACE_SYSCALL then reports that entry: the copy a new session adopts).
     */
    public static int fork(int tid, int nrClone, boolean atEntry) {
        // A signal pending in the process (a terminal's Ctrl-C reaches a stopped copy too) makes clone
        // fail with ERESTARTNOINTR; the signal is dropped on the way back into the call: once more.
        for (int attempt = 1; ; attempt++) {
            try {
                return forkOnce(tid, nrClone, atEntry);
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

    private static int forkOnce(int tid, int nrClone, boolean atEntry) throws Interrupted {
        try (Ptrace ptrace = new Ptrace(); Wait wait = new Wait()) {
            long[] saved = ptrace.getRegsArray(tid);
            long[] regs = saved.clone();
            regs[X86Regs.ORIG_RAX] = nrClone;
            regs[X86Regs.RAX] = nrClone;
            long[] args = {CLONE_PARENT | SIGCHLD, 0, 0, 0, 0, 0};
            for (int i = 0; i < args.length; i++) regs[X86Regs.ARGS[i]] = args[i];
            ptrace.setRegs(tid, regs);
            int child = 0;
            // The clone's fork event (the child is traced from there), then its exit stop.
            while (true) {
                resume(ptrace, tid, "the injected clone");
                int status = stop(wait, tid, "the injected clone");
                if (Wait.ptraceEvent(status) == Ptrace.EVENT_FORK || Wait.ptraceEvent(status) == Ptrace.EVENT_CLONE) {
                    child = (int) ptrace.eventMessage(tid);
                    continue;
                }
                if (Wait.ptraceEvent(status) == Ptrace.EVENT_SECCOMP) continue;
                if (Wait.stopSignal(status) == SYSCALL_STOP && exitStop(ptrace, tid)) break;
                // A signal from outside (a terminal's Ctrl-C reaches the whole process group): the replay
                // does not deliver those, and the resume above drops it.
                if (Wait.ptraceEvent(status) == 0 && Wait.stopSignal(status) != SYSCALL_STOP) continue;
                throw new DeviceException("tid " + tid + " stopped unexpectedly in its injected clone (wait status 0x"
                        + Integer.toHexString(status) + ")");
            }
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
            int first = wait.waitpid(child, Wait.WALL);
            if (first != child || !Wait.stopped(wait.status())) {
                throw new DeviceException("the checkpoint copy " + child + " did not stop at its start (wait status 0x"
                        + Integer.toHexString(wait.status()) + ")");
            }
            long[] primed = saved.clone();
            primed[X86Regs.RAX] = saved[X86Regs.ORIG_RAX];
            primed[X86Regs.ORIG_RAX] = -1; // not in a syscall: no restart applies to it
            primed[X86Regs.RIP] = saved[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH;
            ptrace.setRegs(child, primed);
            if (atEntry) {
                toEntry(ptrace, wait, child);
                ptrace.setRegs(child, saved);
            }
            return child;
        }
    }

    /**
     * Resumes {@code tid} to its next syscall stop until that is an entry (a new task may first report an
     * exit; a signal from outside, which the replay never delivers, is dropped on the way).
     */
    private static void toEntry(Ptrace ptrace, Wait wait, int tid) {
        for (int tries = 0; tries < 8; tries++) {
            resume(ptrace, tid, "re-entry of its call");
            int status = stop(wait, tid, "re-entry of its call");
            if (Wait.ptraceEvent(status) == Ptrace.EVENT_SECCOMP) return; // a filtered call's entry
            if (Wait.stopSignal(status) == SYSCALL_STOP && !exitStop(ptrace, tid)) return;
        }
        throw new DeviceException("tid " + tid + " did not re-enter its call");
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
     * out. In any order: a thread group's leader is reported only after its other threads, so the
     * first death to come is taken, whichever it is. Gives up after 10 s (a task deja never traced).
     */
    public static void reap(Collection<Integer> tids) {
        java.util.Set<Integer> left = new java.util.HashSet<>(tids);
        long until = System.nanoTime() + 10_000_000_000L;
        try (Ptrace ptrace = new Ptrace(); Wait wait = new Wait()) {
            while (!left.isEmpty() && System.nanoTime() < until) {
                int got = wait.waitpid(-1, Wait.WALL | Wait.WNOHANG);
                if (got < 0) return; // no child or tracee left at all
                if (got == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                    continue;
                }
                if (Wait.stopped(wait.status())) {
                    if (left.contains(got)) ptrace.resume(got, 0); // a stop on the way out: on to the end
                    continue;
                }
                left.remove(got);
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
        String[] f = line.trim().split("\\s+");
        return Long.parseLong(f[1]) * 1024;
    }
}
