package dev.deja.device.syscall;

/** Read access to a tracee's memory (the ptrace side implements it with process_vm_readv). */
public interface TraceeMemory {
    /** Reads up to len bytes at address into dst[off..]; returns how many bytes were readable (0 when none). */
    int read(long address, byte[] dst, int off, int len);
}
