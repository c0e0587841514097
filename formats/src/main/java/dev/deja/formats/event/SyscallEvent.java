package dev.deja.formats.event;

import java.util.Arrays;
import java.util.List;

/**
 * One system call: what the program asked at entry and what the kernel answered at exit.
 *
 * @param nr         the syscall number in the recording's architecture
 * @param args       the six raw argument registers at entry
 * @param inputs     input buffers read at entry (paths, data written, sockaddrs, iovec contents)
 * @param result     the raw return value: a negative errno on failure
 * @param outputs    memory the kernel wrote, read at exit and sized by the call's schema and result
 * @param exitTimeNs wall-clock time at exit; equal to {@code timeNs} when the call never returned
 * @param flags      {@link #NO_EXIT}, {@link #UNKNOWN_WRITES}, {@link #SKIPPED}, {@link #REWRITTEN}
 */
public record SyscallEvent(long seq, int pid, int tid, long timeNs, long exitTimeNs, int nr, long[] args,
                           List<MemoryBlock> inputs, long result, List<MemoryBlock> outputs, int flags)
        implements Event {

    /** The thread left the call without returning from it (it exited, was killed, or exec replaced it). */
    public static final int NO_EXIT = 1;
    /** The kernel may have written memory that deja could not size (an ioctl of unknown direction). */
    public static final int UNKNOWN_WRITES = 2;
    /** A tracer answered the call in place of the kernel (skip-ok / skip-fail): it never ran. */
    public static final int SKIPPED = 4;
    /** A tracer changed the call's number or arguments before it ran; {@code nr} and {@code args} are what ran. */
    public static final int REWRITTEN = 8;

    public SyscallEvent {
        if (args.length != 6) throw new IllegalArgumentException("a syscall has six argument registers, got " + args.length);
        args = args.clone();
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    @Override
    public long[] args() {
        return args.clone();
    }

    public long arg(int i) {
        return args[i];
    }

    public boolean returned() {
        return (flags & NO_EXIT) == 0;
    }

    /** True when the result is an error return (-4095..-1). */
    public boolean failed() {
        return returned() && result < 0 && result >= -4095;
    }

    @Override
    public String kind() {
        return "syscall";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyscallEvent e && e.seq == seq && e.pid == pid && e.tid == tid && e.timeNs == timeNs
                && e.exitTimeNs == exitTimeNs && e.nr == nr && Arrays.equals(e.args, args) && e.inputs.equals(inputs)
                && e.result == result && e.outputs.equals(outputs) && e.flags == flags;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq) * 31 + Arrays.hashCode(args);
    }

    @Override
    public String toString() {
        return "SyscallEvent[seq=" + seq + ", pid=" + pid + ", tid=" + tid + ", nr=" + nr + ", args="
                + Arrays.toString(args) + ", result=" + result + ", inputs=" + inputs + ", outputs=" + outputs
                + ", flags=" + flags + "]";
    }
}
