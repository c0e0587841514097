package dev.deja.device;

import dev.deja.device.syscall.TraceeMemory;

/** A stopped thread of the traced tree, valid during a {@link Tracer} callback. */
public interface Tracee {
    int pid();

    int tid();

    /** Reads the thread's memory (process_vm_readv). */
    TraceeMemory memory();
}
