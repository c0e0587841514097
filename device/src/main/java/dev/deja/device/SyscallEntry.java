package dev.deja.device;

import dev.deja.formats.event.MemoryBlock;
import java.util.List;

/**
 * A syscall as it enters: numbered, with its raw arguments and the input buffers its schema names.
 * What a deciding tracer sees before it answers.
 */
public record SyscallEntry(long seq, int pid, int tid, long timeNs, int nr, long[] args, List<MemoryBlock> inputs) {
    public SyscallEntry {
        args = args.clone();
        inputs = List.copyOf(inputs);
    }

    @Override
    public long[] args() {
        return args.clone();
    }

    public long arg(int i) {
        return args[i];
    }
}
