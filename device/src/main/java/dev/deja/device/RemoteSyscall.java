package dev.deja.device;

import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Wait;

/**
 * Remote syscall injection: makes a thread stopped at a syscall entry execute a syscall of the
 * device's choosing, then puts its registers back so that its own syscall runs as if nothing had
 * happened (rr's AutoRemoteSyscalls, for the entry-stop case). x86_64.
 */
final class RemoteSyscall {
    private static final int SYSCALL_STOP = 5 | 0x80;
    private static final int SECCOMP_STOP = 5 | (Ptrace.EVENT_SECCOMP << 8);
    /** Every signal (SIGKILL and SIGSTOP stay deliverable whatever the mask says). */
    private static final long ALL_SIGNALS = -1L;

    private RemoteSyscall() {
    }

    /**
     * Executes {@code nr(args)} in {@code tid}, which must be in a syscall-entry stop, and returns
     * the raw result (negative errno on failure). On return the thread is again in the entry stop
     * of its original syscall, with its original registers.
     */
    static long atEntry(Ptrace ptrace, Wait wait, int tid, int nr, long... args) {
        long mask = blockSignals(ptrace, tid);
        try {
            return atEntryBlocked(ptrace, wait, tid, nr, args);
        } finally {
            ptrace.setSigMask(tid, mask);
        }
    }

    /**
     * Blocks every signal in {@code tid} for an injection and returns its mask before: a signal arriving
     * meanwhile (a child's SIGCHLD) would stop the thread on the way to the injected call's stop. It stays
     * pending and reaches the program once the mask is back.
     */
    private static long blockSignals(Ptrace ptrace, int tid) {
        long mask = ptrace.sigMask(tid);
        ptrace.setSigMask(tid, ALL_SIGNALS);
        return mask;
    }

    private static long atEntryBlocked(Ptrace ptrace, Wait wait, int tid, int nr, long... args) {
        long[] saved = ptrace.getRegsArray(tid);
        long[] regs = saved.clone();
        regs[X86Regs.ORIG_RAX] = nr;
        regs[X86Regs.RAX] = nr;
        for (int i = 0; i < args.length; i++) regs[X86Regs.ARGS[i]] = args[i];
        ptrace.setRegs(tid, regs);
        stepToSyscallStop(ptrace, wait, tid, "exit of the injected syscall " + nr);
        long result = ptrace.getRegsArray(tid)[X86Regs.RAX];
        // Back up over the `syscall` instruction so the original call is issued again.
        long[] restore = saved.clone();
        restore[X86Regs.RAX] = saved[X86Regs.ORIG_RAX];
        restore[X86Regs.RIP] = saved[X86Regs.RIP] - X86Regs.SYSCALL_INSN_LENGTH;
        ptrace.setRegs(tid, restore);
        stepToSyscallStop(ptrace, wait, tid, "re-entry of the original syscall");
        ptrace.setRegs(tid, saved);
        return result;
    }

    /**
     * Executes {@code nr(args)} in {@code tid}, stopped anywhere but at a syscall entry (a signal or
     * event stop, a syscall's exit), through the {@code syscall} instruction at {@code syscallInsn}
     * (any executable 0f 05 in the process), and returns the raw result. The thread's registers are
     * put back; a signal it was stopped for is not delivered.
     */
    static long through(Ptrace ptrace, Wait wait, int tid, long syscallInsn, int nr, long... args) {
        long mask = blockSignals(ptrace, tid);
        try {
            long[] saved = atSyscallInsn(ptrace, tid, syscallInsn, nr, args);
            stepToSyscallStop(ptrace, wait, tid, "entry of the injected syscall " + nr);
            stepToSyscallStop(ptrace, wait, tid, "exit of the injected syscall " + nr);
            long result = ptrace.getRegsArray(tid)[X86Regs.RAX];
            ptrace.setRegs(tid, saved);
            return result;
        } finally {
            ptrace.setSigMask(tid, mask);
        }
    }

    /** Puts {@code tid} at the {@code syscall} instruction with {@code nr(args)} loaded; returns its registers before. */
    static long[] atSyscallInsn(Ptrace ptrace, int tid, long syscallInsn, int nr, long... args) {
        long[] saved = ptrace.getRegsArray(tid);
        long[] regs = saved.clone();
        regs[X86Regs.RIP] = syscallInsn;
        regs[X86Regs.RAX] = nr;
        regs[X86Regs.ORIG_RAX] = -1; // not in a syscall: no restart applies
        for (int i = 0; i < args.length; i++) regs[X86Regs.ARGS[i]] = args[i];
        ptrace.setRegs(tid, regs);
        return saved;
    }

    /**
     * As {@link #through}, in one stop instead of two: the thread single-steps the {@code syscall}
     * instruction (PTRACE_SINGLESTEP reports no syscall stops; the call runs and the step ends after it).
     * Only from a signal stop (a store's fault, a step's trap): from a syscall stop the kernel's restart of
     * the thread's own call would see the injected registers. The thread is left in the step's SIGTRAP
     * stop, which resuming it with no signal suppresses.
     */
    static long stepping(Ptrace ptrace, Wait wait, int tid, long syscallInsn, int nr, long... args) {
        long[] saved = atSyscallInsn(ptrace, tid, syscallInsn, nr, args);
        if (!ptrace.singleStep(tid, 0)) throw new DeviceException("tid " + tid + " vanished before the injected syscall " + nr);
        int got = wait.waitpid(tid, Wait.WALL);
        int status = wait.status();
        if (got != tid || !Wait.stopped(status) || (status >> 8) != 5 /* SIGTRAP, no event */) {
            throw new DeviceException("tid " + tid + " did not step over the injected syscall " + nr + " (wait status 0x"
                    + Integer.toHexString(status) + ")");
        }
        long result = ptrace.getRegsArray(tid)[X86Regs.RAX];
        ptrace.setRegs(tid, saved);
        return result;
    }

    private static void stepToSyscallStop(Ptrace ptrace, Wait wait, int tid, String what) {
        if (!ptrace.resumeToSyscall(tid, 0)) throw new DeviceException("tid " + tid + " vanished before the " + what);
        int got = wait.waitpid(tid, Wait.WALL);
        int status = wait.status();
        // Under the device's seccomp filter a filtered call also stops after its entry: go on to its exit.
        while (got == tid && Wait.stopped(status) && (status >> 8) == SECCOMP_STOP) {
            if (!ptrace.resumeToSyscall(tid, 0)) throw new DeviceException("tid " + tid + " vanished before the " + what);
            got = wait.waitpid(tid, Wait.WALL);
            status = wait.status();
        }
        if (got != tid || !Wait.stopped(status) || Wait.stopSignal(status) != SYSCALL_STOP) {
            throw new DeviceException("tid " + tid + " did not reach the " + what + " (wait status 0x"
                    + Integer.toHexString(status) + ")");
        }
    }
}
