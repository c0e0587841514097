package dev.deja.device;

/**
 * A point between two syscalls where replay must stop a thread: the state a recorded preemption
 * interrupted it in. The thread is stopped at the first time its instruction pointer reaches
 * {@code registers[RIP]} with every compared register and the stack hash equal (see
 * {@link RunState#matches}).
 *
 * @param registers the user_regs_struct words at the preemption
 * @param stackHash {@link RunState#stackHash} of the stack then
 * @param runNs     CPU time the thread had run since it was let run, when recorded
 * @param label     names the point in messages ("event 1042")
 */
public record RunTarget(long[] registers, long stackHash, long runNs, String label) {
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
