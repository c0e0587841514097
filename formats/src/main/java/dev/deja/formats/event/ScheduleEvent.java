package dev.deja.formats.event;

import java.util.Arrays;

/**
 * A decision of the scheduler that runs the threads of one address space one at a time while
 * recording (format version 2). Replay enforces it: a thread runs user code only from the recorded
 * point at which it was let run, and is stopped again where it was stopped.
 *
 * <ul>
 *   <li>{@link Kind#START}: a new thread first ran user code, at {@code timeNs} (= {@code resumeNs}).</li>
 *   <li>{@link Kind#PREEMPT}: the thread ran user code too long without a syscall while others
 *       waited, and was interrupted at {@code timeNs} in the state {@code registers} (the
 *       user_regs_struct words, x86_64 order) with {@code stackHash} over the top of its stack and
 *       {@code deeperStackHash} over the few KiB above that (format version 3; {@link #NO_DEEPER_HASH}
 *       in older recordings), after {@code runNs} of CPU time since it was last let run; it ran again
 *       from {@code resumeNs}. Since format version 5 the point also carries a witness of the memory
 *       its registers point at: {@code memoryMask} has bit i set for each register i (user_regs_struct
 *       index) whose window of heap or data was hashed into {@code memoryHash} (0: none was), and
 *       {@code memoryPointers} the pointers found in those windows whose targets were hashed into
 *       {@code memoryDeepHash}.</li>
 * </ul>
 */
public record ScheduleEvent(long seq, int pid, int tid, long timeNs, Kind scheduleKind, long resumeNs, long[] registers,
                            long stackHash, long deeperStackHash, long runNs, int memoryMask, long[] memoryPointers,
                            long memoryHash, long memoryDeepHash) implements Event {

    public enum Kind { START, PREEMPT }

    /** The deeper stack hash of a start, and of a preemption recorded before format version 3: none to check. */
    public static final long NO_DEEPER_HASH = 0;

    public ScheduleEvent {
        if (scheduleKind == null) throw new IllegalArgumentException("a schedule event needs a kind");
        registers = registers.clone();
        memoryPointers = memoryPointers.clone();
    }

    /** A schedule event without a memory witness (format versions 3 and 4). */
    public ScheduleEvent(long seq, int pid, int tid, long timeNs, Kind scheduleKind, long resumeNs, long[] registers,
                         long stackHash, long deeperStackHash, long runNs) {
        this(seq, pid, tid, timeNs, scheduleKind, resumeNs, registers, stackHash, deeperStackHash, runNs, 0, new long[0], 0, 0);
    }

    @Override
    public long[] memoryPointers() {
        return memoryPointers.clone();
    }

    /** A schedule event without a deeper stack hash (format version 2). */
    public ScheduleEvent(long seq, int pid, int tid, long timeNs, Kind scheduleKind, long resumeNs, long[] registers,
                         long stackHash, long runNs) {
        this(seq, pid, tid, timeNs, scheduleKind, resumeNs, registers, stackHash, NO_DEEPER_HASH, runNs);
    }

    /** A thread's first run. */
    public static ScheduleEvent start(long seq, int pid, int tid, long timeNs) {
        return new ScheduleEvent(seq, pid, tid, timeNs, Kind.START, timeNs, new long[0], 0, 0);
    }

    @Override
    public long[] registers() {
        return registers.clone();
    }

    /** One register word without copying the array. */
    public long register(int index) {
        return registers[index];
    }

    public int registerCount() {
        return registers.length;
    }

    @Override
    public String kind() {
        return "schedule";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScheduleEvent e && e.seq == seq && e.pid == pid && e.tid == tid && e.timeNs == timeNs
                && e.scheduleKind == scheduleKind && e.resumeNs == resumeNs && Arrays.equals(e.registers, registers)
                && e.stackHash == stackHash && e.deeperStackHash == deeperStackHash && e.runNs == runNs
                && e.memoryMask == memoryMask && Arrays.equals(e.memoryPointers, memoryPointers) && e.memoryHash == memoryHash
                && e.memoryDeepHash == memoryDeepHash;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq) * 31 + scheduleKind.hashCode();
    }

    @Override
    public String toString() {
        return "ScheduleEvent[seq=" + seq + ", tid=" + tid + ", kind=" + scheduleKind + ", timeNs=" + timeNs + ", resumeNs="
                + resumeNs + ", runNs=" + runNs + "]";
    }
}
