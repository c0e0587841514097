package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * ptrace(2). ptrace is per OS thread: one instance belongs to the one thread that traces, and its
 * scratch memory is owned by that thread's confined arena. Failures throw {@link NativeCallException};
 * ESRCH (the tracee died under us) is returned as {@code false} where a caller can expect it.
 */
public final class Ptrace implements AutoCloseable {
    public static final int O_TRACESYSGOOD = 1;
    public static final int O_TRACEFORK = 2;
    public static final int O_TRACEVFORK = 4;
    public static final int O_TRACECLONE = 8;
    public static final int O_TRACEEXEC = 0x10;
    public static final int O_TRACEEXIT = 0x40;
    public static final int O_TRACESECCOMP = 0x80;
    public static final int O_EXITKILL = 0x100000;

    public static final int EVENT_FORK = 1;
    public static final int EVENT_VFORK = 2;
    public static final int EVENT_CLONE = 3;
    public static final int EVENT_EXEC = 4;
    public static final int EVENT_VFORK_DONE = 5;
    public static final int EVENT_EXIT = 6;
    public static final int EVENT_SECCOMP = 7;
    public static final int EVENT_STOP = 128;

    /** ptrace_syscall_info.op values. */
    public static final int SYSCALL_INFO_NONE = 0;
    public static final int SYSCALL_INFO_ENTRY = 1;
    public static final int SYSCALL_INFO_EXIT = 2;
    public static final int SYSCALL_INFO_SECCOMP = 3;

    private static final int CONT = 7;
    private static final int SINGLESTEP = 9;
    private static final int GETREGS = 12;
    private static final int SETREGS = 13;
    private static final int GETFPREGS = 14;
    private static final int DETACH = 17;
    private static final int SYSCALL = 24;
    private static final int SETOPTIONS = 0x4200;
    private static final int GETEVENTMSG = 0x4201;
    private static final int GETSIGINFO = 0x4202;
    private static final int SETSIGINFO = 0x4203;
    private static final int GETSIGMASK = 0x420a;
    private static final int SETSIGMASK = 0x420b;
    private static final int GETREGSET = 0x4204;
    private static final int SETREGSET = 0x4205;
    private static final int SEIZE = 0x4206;
    private static final int INTERRUPT = 0x4207;
    private static final int LISTEN = 0x4208;
    private static final int GET_SYSCALL_INFO = 0x420e;
    private static final int ESRCH = 3;

    /** sizeof(struct ptrace_syscall_info) with the seccomp member, the largest. */
    public static final int SYSCALL_INFO_SIZE = 88;
    /** sizeof(struct user_regs_struct) on x86_64: 27 registers. */
    public static final int REGS_SIZE = 27 * 8;
    public static final int SIGINFO_SIZE = 128;
    /** sizeof(struct user_fpregs_struct) on x86_64: the fxsave area. */
    public static final int FPREGS_SIZE = 512;
    /** elf.h's NT_X86_XSTATE: the XSAVE area (x87, SSE, AVX and later state) through PTRACE_GETREGSET. */
    private static final int NT_X86_XSTATE = 0x202;
    /** Room for the XSAVE area of any x86_64 CPU so far (AMX tile data makes it over 8 KiB). */
    private static final int XSTATE_MAX = 16384;

    private static final MethodHandle PTRACE = Native.variadicWithErrno("ptrace",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), 1);

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = Native.callState(arena);
    private final MemorySegment info = arena.allocate(SYSCALL_INFO_SIZE, 8);
    private final MemorySegment regs = arena.allocate(REGS_SIZE, 8);
    private final MemorySegment siginfo = arena.allocate(SIGINFO_SIZE, 8);
    private final MemorySegment fpregs = arena.allocate(FPREGS_SIZE, 16);
    private final MemorySegment sigmask = arena.allocate(ValueLayout.JAVA_LONG);
    private final MemorySegment word = arena.allocate(8, 8);
    private final MemorySegment iovec = arena.allocate(16, 8);
    private MemorySegment xstate;

    private long call(int request, int tid, long addr, long data) {
        try {
            return (long) PTRACE.invokeExact(callState, request, tid, addr, data);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private NativeCallException failure(String what, int tid) {
        return new NativeCallException("ptrace(" + what + ")", Native.errno(callState), "tid " + tid);
    }

    /** PTRACE_SEIZE with options: attach without stopping. */
    public void seize(int tid, int options) {
        if (call(SEIZE, tid, 0, options) < 0) throw failure("PTRACE_SEIZE", tid);
    }

    public void setOptions(int tid, int options) {
        if (call(SETOPTIONS, tid, 0, options) < 0) throw failure("PTRACE_SETOPTIONS", tid);
    }

    /** PTRACE_SYSCALL: resume to the next syscall entry/exit, delivering {@code signal}. False when the tracee is gone. */
    public boolean resumeToSyscall(int tid, int signal) {
        return resume(SYSCALL, "PTRACE_SYSCALL", tid, signal);
    }

    /** PTRACE_CONT: resume without syscall stops. */
    public boolean resume(int tid, int signal) {
        return resume(CONT, "PTRACE_CONT", tid, signal);
    }

    public boolean singleStep(int tid, int signal) {
        return resume(SINGLESTEP, "PTRACE_SINGLESTEP", tid, signal);
    }

    /** PTRACE_LISTEN: leave a tracee in group-stop but let it report further events (SIGCONT). */
    public boolean listen(int tid) {
        return resume(LISTEN, "PTRACE_LISTEN", tid, 0);
    }

    public boolean interrupt(int tid) {
        return resume(INTERRUPT, "PTRACE_INTERRUPT", tid, 0);
    }

    public boolean detach(int tid, int signal) {
        return resume(DETACH, "PTRACE_DETACH", tid, signal);
    }

    private boolean resume(int request, String name, int tid, int signal) {
        if (call(request, tid, 0, signal) >= 0) return true;
        if (Native.errno(callState) == ESRCH) return false;
        throw failure(name, tid);
    }

    /** PTRACE_GETEVENTMSG: the new tid, the former tid, or the exit status, depending on the event. */
    public long eventMessage(int tid) {
        if (call(GETEVENTMSG, tid, 0, word.address()) < 0) throw failure("PTRACE_GETEVENTMSG", tid);
        return word.get(ValueLayout.JAVA_LONG, 0);
    }

    /**
     * PTRACE_GET_SYSCALL_INFO into the scratch segment; returns it, valid until the next call.
     * Layout: op u8 @0, arch u32 @4, ip u64 @8, sp u64 @16, then entry {nr @24, args[6] @32} or
     * exit {rval s64 @24, is_error u8 @32}.
     */
    public MemorySegment syscallInfo(int tid) {
        if (call(GET_SYSCALL_INFO, tid, SYSCALL_INFO_SIZE, info.address()) < 0) {
            throw failure("PTRACE_GET_SYSCALL_INFO", tid);
        }
        return info;
    }

    /** PTRACE_GETREGS into the scratch segment (x86_64 user_regs_struct). */
    public MemorySegment getRegs(int tid) {
        if (call(GETREGS, tid, 0, regs.address()) < 0) throw failure("PTRACE_GETREGS", tid);
        return regs;
    }

    public long[] getRegsArray(int tid) {
        return getRegs(tid).toArray(ValueLayout.JAVA_LONG);
    }

    public void setRegs(int tid, long[] values) {
        MemorySegment.copy(values, 0, regs, ValueLayout.JAVA_LONG, 0, values.length);
        if (call(SETREGS, tid, 0, regs.address()) < 0) throw failure("PTRACE_SETREGS", tid);
    }

    /** PTRACE_GETFPREGS: x86_64's struct user_fpregs_struct (the fxsave layout: x87, MXCSR, XMM0-15). */
    public byte[] getFpRegs(int tid) {
        if (call(GETFPREGS, tid, 0, fpregs.address()) < 0) throw failure("PTRACE_GETFPREGS", tid);
        return fpregs.toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * PTRACE_GETREGSET of NT_X86_XSTATE: the thread's whole extended state (x87, SSE, AVX, ...) in the
     * kernel's XSAVE layout, as long as this CPU's area is.
     */
    public byte[] xstate(int tid) {
        MemorySegment area = xstateArea();
        iovec.set(ValueLayout.JAVA_LONG, 0, area.address());
        iovec.set(ValueLayout.JAVA_LONG, 8, XSTATE_MAX);
        if (call(GETREGSET, tid, NT_X86_XSTATE, iovec.address()) < 0) throw failure("PTRACE_GETREGSET NT_X86_XSTATE", tid);
        return area.asSlice(0, iovec.get(ValueLayout.JAVA_LONG, 8)).toArray(ValueLayout.JAVA_BYTE);
    }

    /** PTRACE_SETREGSET of NT_X86_XSTATE: puts back what {@link #xstate} read (of this CPU, another thread). */
    public void setXstate(int tid, byte[] state) {
        MemorySegment area = xstateArea();
        MemorySegment.copy(state, 0, area, ValueLayout.JAVA_BYTE, 0, state.length);
        iovec.set(ValueLayout.JAVA_LONG, 0, area.address());
        iovec.set(ValueLayout.JAVA_LONG, 8, state.length);
        if (call(SETREGSET, tid, NT_X86_XSTATE, iovec.address()) < 0) throw failure("PTRACE_SETREGSET NT_X86_XSTATE", tid);
    }

    private MemorySegment xstateArea() {
        if (xstate == null) xstate = arena.allocate(XSTATE_MAX, 64);
        return xstate;
    }

    /** PTRACE_GETSIGINFO: the raw siginfo_t of the signal the tracee is stopped for. */
    public byte[] siginfo(int tid) {
        if (call(GETSIGINFO, tid, 0, siginfo.address()) < 0) throw failure("PTRACE_GETSIGINFO", tid);
        return siginfo.toArray(ValueLayout.JAVA_BYTE);
    }

    /** PTRACE_SETSIGINFO: the siginfo_t the signal of the current signal-delivery stop is delivered with. */
    public void setSiginfo(int tid, byte[] info) {
        if (info.length != SIGINFO_SIZE) throw new IllegalArgumentException("siginfo_t is 128 bytes, got " + info.length);
        MemorySegment.copy(info, 0, siginfo, ValueLayout.JAVA_BYTE, 0, SIGINFO_SIZE);
        if (call(SETSIGINFO, tid, 0, siginfo.address()) < 0) throw failure("PTRACE_SETSIGINFO", tid);
    }

    /** PTRACE_GETSIGMASK: the tracee thread's blocked signals (bit n-1 for signal n). */
    public long sigMask(int tid) {
        if (call(GETSIGMASK, tid, 8, sigmask.address()) < 0) throw failure("PTRACE_GETSIGMASK", tid);
        return sigmask.get(ValueLayout.JAVA_LONG, 0);
    }

    /** PTRACE_SETSIGMASK: sets the tracee thread's blocked signals (SIGKILL and SIGSTOP stay unblocked). */
    public void setSigMask(int tid, long mask) {
        sigmask.set(ValueLayout.JAVA_LONG, 0, mask);
        if (call(SETSIGMASK, tid, 8, sigmask.address()) < 0) throw failure("PTRACE_SETSIGMASK", tid);
    }

    @Override
    public void close() {
        arena.close();
    }
}
