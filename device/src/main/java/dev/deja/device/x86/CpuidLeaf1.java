package dev.deja.device.x86;

/**
 * What cpuid leaf 1 leaves in a program's memory and registers that replay cannot reproduce: its EBX
 * carries, in its top byte, the initial APIC ID of the CPU the instruction ran on, and on these
 * virtual machines even the host's (one vCPU answered 3 values in 2 s). deja cannot trap cpuid (no
 * CPUID faulting here), and programs keep the answer (HotSpot's VM_Version, glibc's cpu_features, a
 * register until it is reused), so a preemption point compares such values without that byte. The
 * other 24 bits of EBX are the same on every CPU of a machine: brand index 0 and a 64-byte CLFLUSH line
 * (0x0800 in the low 16 bits, every x86-64 CPU of the last fifteen years) and the logical processor
 * count. A value of that shape is taken for one; another value of that shape loses 8 bits to the comparison.
 */
public final class CpuidLeaf1 {
    /** The low 16 bits of leaf 1's EBX: brand index 0, CLFLUSH line size 8 quadwords. */
    private static final long EBX_SHAPE = 0x0800;
    private static final long LOW_APIC_ID = 0xFF00_0000L;
    private static final long HIGH_APIC_ID = 0xFF00_0000_0000_0000L;

    private CpuidLeaf1() {
    }

    /** Whether the low 32-bit half of {@code word} has EBX's shape. */
    public static boolean lowHalfMayHoldApicId(long word) {
        return (word & 0xFFFFL) == EBX_SHAPE;
    }

    /** Whether the high 32-bit half of {@code word} has EBX's shape. */
    public static boolean highHalfMayHoldApicId(long word) {
        return ((word >>> 32) & 0xFFFFL) == EBX_SHAPE;
    }

    /** Whether either 32-bit half of {@code word} has EBX's shape. */
    public static boolean mayHoldApicId(long word) {
        return lowHalfMayHoldApicId(word) || highHalfMayHoldApicId(word);
    }

    /** {@code word} with the top byte cleared of each 32-bit half that has EBX's shape. */
    public static long withoutApicIds(long word) {
        if (lowHalfMayHoldApicId(word)) word &= ~LOW_APIC_ID;
        if (highHalfMayHoldApicId(word)) word &= ~HIGH_APIC_ID;
        return word;
    }
}
