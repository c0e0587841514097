package dev.deja.device;

/**
 * A point between two syscalls where replay must stop a thread: the state a recorded preemption
 * interrupted it in. The thread is stopped at the first time its instruction pointer reaches
 * {@code registers[RIP]} with every compared register and the stack hashes equal (see
 * {@link RunState#matches} and {@link RunState#deeperStackAndMemoryMatch}) and the memory its registers point at
 * the recorded memory ({@link MemoryWitness}).
 *
 * @param registers       the user_regs_struct words at the preemption
 * @param stackHash       {@link RunState#stackHash} of the stack then
 * @param deeperStackHash {@link RunState#deeperStackHash} of the stack then, or {@link #NO_DEEPER_HASH}
 *                        (a recording made before it was kept)
 * @param runNs           CPU time the thread had run since it was let run, when recorded
 * @param label           names the point in messages ("event 1042")
 * @param memory          the memory its registers pointed at ({@link MemoryWitness#NONE}: a recording made before it was kept);
 *                        its format is the point's ({@link #apicIdsLeftOut})
 */
public record RunTarget(long[] registers, long stackHash, long deeperStackHash, long runNs, String label, MemoryWitness memory) {
    /** No deeper stack hash to check. */
    public static final long NO_DEEPER_HASH = 0;

    /**
     * Whether the point's stack hashes are of 8-byte words without cpuid's APIC IDs ({@link RunState#stackHash}),
     * as its witness's hashes are: recorded by format version 6 and later; before, of bytes as they were.
     */
    public boolean apicIdsLeftOut() {
        return memory.apicIdsLeftOut();
    }

    /** A point with no memory witness. */
    public RunTarget(long[] registers, long stackHash, long deeperStackHash, long runNs, String label) {
        this(registers, stackHash, deeperStackHash, runNs, label, MemoryWitness.NONE);
    }

    /** A point with no deeper stack hash. */
    public RunTarget(long[] registers, long stackHash, long runNs, String label) {
        this(registers, stackHash, NO_DEEPER_HASH, runNs, label);
    }

    public RunTarget {
        registers = registers.clone();
        if (registers.length < X86Regs.COUNT) {
            throw new IllegalArgumentException("a run target needs " + X86Regs.COUNT + " registers, got " + registers.length);
        }
    }

    public long rip() {
        return registers[X86Regs.RIP];
    }

    long register(int i) {
        return registers[i];
    }
}
