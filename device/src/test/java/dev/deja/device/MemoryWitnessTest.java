package dev.deja.device;

import dev.deja.device.syscall.TraceeMemory;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which memory the witness hashes, and what tells two turns of a loop that counts in the heap apart. */
class MemoryWitnessTest {
    private static final String MAPS = """
            555555554000-555555556000 r--p 00000000 08:01 131 /usr/bin/python3.11
            555555556000-555555558000 r-xp 00002000 08:01 131 /usr/bin/python3.11
            555555558000-55555555a000 rw-p 00004000 08:01 131 /usr/bin/python3.11
            55555555a000-55555557b000 rw-p 00000000 00:00 0 [heap]
            7ffff7000000-7ffff7100000 rw-p 00000000 00:00 0
            7ffff7100000-7ffff7200000 rw-s 00000000 00:01 77 /dev/shm/ring
            7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0 [vvar]
            7ffff7fc5000-7ffff7fc7000 r-xp 00000000 00:00 0 [vdso]
            7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]
            """;
    private static final List<MemoryWitness.Range> RANGES = MemoryWitness.ranges(MAPS);

    /** Memory readable where the maps say, each byte its address's low byte unless written. */
    private static final class Memory implements TraceeMemory {
        final Map<Long, Byte> written = new HashMap<>();

        Memory put(long address, long word) {
            byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(word).array();
            for (int i = 0; i < 8; i++) written.put(address + i, b[i]);
            return this;
        }

        Memory copy() {
            Memory m = new Memory();
            m.written.putAll(written);
            return m;
        }

        @Override
        public int read(long address, byte[] dst, int off, int len) {
            for (int i = 0; i < len; i++) {
                long a = address + i;
                if (RANGES.stream().noneMatch(r -> a >= r.start() && a < r.end())) return i;
                dst[off + i] = written.getOrDefault(a, (byte) 0);
            }
            return len;
        }
    }

    private static long[] regs() {
        long[] r = new long[X86Regs.COUNT];
        for (int i = 0; i < r.length; i++) r[i] = i; // small numbers: no pointers
        r[X86Regs.RSP] = 0x7ffffffef000L;
        r[X86Regs.RIP] = 0x555555556100L;
        return r;
    }

    @Test
    void onlyRegistersIntoPrivateWritableMemoryOffTheStackAreHashed() {
        long[] r = regs();
        r[X86Regs.RAX] = 0x55555555a100L;   // heap
        r[X86Regs.RBX] = 0x555555558010L;   // the executable's data
        r[X86Regs.R12] = 0x7ffff7000800L;   // an anonymous mapping (an arena, a thread's stack)
        r[X86Regs.RBP] = 0x7ffffffef100L;   // the stack the stack hashes cover
        r[X86Regs.RCX] = 0x555555556200L;   // code, where replay plants breakpoints
        r[X86Regs.RDX] = 0x7ffff7100000L;   // shared memory another process may write
        r[X86Regs.RSI] = 0x7ffff7fc1010L;   // [vvar], the kernel's clock
        r[X86Regs.RDI] = 0x5555ffff0000L;   // unmapped
        MemoryWitness w = MemoryWitness.of(r, RANGES, new Memory());
        assertEquals((1 << X86Regs.RAX) | (1 << X86Regs.RBX) | (1 << X86Regs.R12), w.mask());
        assertNotEquals(0, w.hash());
        assertEquals(0, w.pointers().length, "the windows hold no pointers");
        assertEquals(MemoryWitness.NONE, MemoryWitness.of(regs(), RANGES, new Memory()));
        assertTrue(MemoryWitness.NONE.matches(r, new Memory()), "no witness: nothing to check");
    }

    @Test
    void aCountInTheObjectARegisterPointsAtTellsTurnsApart() {
        long[] r = regs();
        long frame = 0x55555555a100L;
        r[X86Regs.R13] = frame;
        Memory turn = new Memory().put(frame + 72, 1000);
        MemoryWitness recorded = MemoryWitness.of(r, RANGES, turn);
        assertTrue(recorded.matches(r, turn));
        assertFalse(recorded.matches(r, turn.copy().put(frame + 72, 999)));
        assertFalse(recorded.matches(r, turn.copy().put(frame - MemoryWitness.BEFORE, 7)), "the header before it counts");
        Memory outside = turn.copy().put(frame + MemoryWitness.AFTER, 7).put(frame - MemoryWitness.BEFORE - 8, 7);
        assertTrue(recorded.matches(r, outside), "bytes outside the window do not count");
    }

    @Test
    void aCountOneObjectFurtherIsFollowedFromThePointerInTheWindow() {
        // python keeps x in a dict's entry: the frame points at the dict, whose entry points at an int
        // object that alternates between two addresses, the value in the object.
        long[] r = regs();
        long frame = 0x55555555a100L;
        long intA = 0x7ffff7000400L;
        r[X86Regs.R13] = frame;
        Memory turn = new Memory().put(frame + 40, intA).put(intA + 24, 1002);
        MemoryWitness recorded = MemoryWitness.of(r, RANGES, turn);
        assertArrayEquals(new long[] {intA}, recorded.pointers());
        assertTrue(recorded.matches(r, turn));
        Memory twoTurnsBefore = turn.copy().put(intA + 24, 1000); // the same address, the value two less
        assertEquals(MemoryWitness.hash(r, recorded.mask(), twoTurnsBefore, true), recorded.hash(), "the first level cannot tell");
        assertFalse(recorded.matches(r, twoTurnsBefore));
    }

    /**
     * HotSpot's VM_Version keeps cpuid leaf 1 (the flaky-cache sample's C2 compiler thread, JDK 25: its point in
     * Assembler::init_attributes had rax there); the recorded JVM's EBX was 0xcffe0800, the replayed one's
     * 0x25fe0800: the CPU's APIC ID, which these VMs answer from the host. The witness leaves it out.
     */
    @Test
    void cpuidsApicIdInMemoryIsLeftOut() {
        long[] r = regs();
        long features = 0x555555558040L;   // a library's data
        r[X86Regs.RAX] = features;
        Memory recordedRun = new Memory().put(features, 0x0000000d_00000000L).put(features + 16, 0xcffe0800_00b00f21L);
        // The recorder now leaves such a window out (cpuidAnswersAreLeftOutWhole): the hashes of one it kept.
        MemoryWitness recorded = new MemoryWitness(1 << X86Regs.RAX, new long[0],
                MemoryWitness.hash(r, 1 << X86Regs.RAX, recordedRun, true), 0, true);
        Memory replayed = recordedRun.copy().put(features + 16, 0x25fe0800_00b00f21L);
        assertTrue(recorded.matches(r, replayed), "another APIC ID in the high half");
        assertTrue(recorded.matches(r, recordedRun.copy().put(features + 16, 0x00fe0800_00b00f21L)));
        assertFalse(recorded.matches(r, recordedRun.copy().put(features + 16, 0xcffe0801_00b00f21L)), "the rest of EBX counts");
        assertFalse(recorded.matches(r, recordedRun.copy().put(features + 16, 0xcffe0800_00b10f21L)), "and the other half");
        Memory lowHalf = new Memory().put(features + 8, 0x12345678_6dfe0800L);
        MemoryWitness low = new MemoryWitness(1 << X86Regs.RAX, new long[0], MemoryWitness.hash(r, 1 << X86Regs.RAX, lowHalf, true), 0, true);
        assertTrue(low.matches(r, lowHalf.copy().put(features + 8, 0x12345678_e1fe0800L)), "an APIC ID in the low half");
        assertFalse(low.matches(r, lowHalf.copy().put(features + 8, 0x13345678_6dfe0800L)));
        // A version-5 witness was hashed with the IDs in: replay must hash it so.
        MemoryWitness v5 = new MemoryWitness(recorded.mask(), recorded.pointers(),
                MemoryWitness.hash(r, recorded.mask(), recordedRun, false), recorded.deepHash(), false);
        assertTrue(v5.matches(r, recordedRun));
        assertFalse(v5.matches(r, replayed));
    }

    /**
     * HotSpot's VM_Version::_cpuid_info (JDK 25) keeps leaf 0xB's EDX, the x2APIC ID of the CPU its cpuid ran on,
     * after leaf 0 (the vendor's name) and leaf 1: 0 or 1 here, whichever CPU the JVM's start ran on. A window
     * holding such a dump, or within the look-back after its leaf 1, is not hashed: not from a register, not as a
     * pointee; the other windows are.
     */
    @Test
    void cpuidAnswersAreLeftOutWhole() {
        long features = 0x555555558040L;                 // VM_Version::_features, in a library's data
        long cpuidInfo = features + 0x30;                // VM_Version::_cpuid_info
        Memory recordedRun = new Memory().put(features, 0x0000000d_00000000L)
                .put(cpuidInfo, 0x756e6547_00000024L)       // leaf 0: EAX, then the vendor's name, "Genu"
                .put(cpuidInfo + 8, 0x49656e69_6c65746eL)   // "ntel", "ineI"
                .put(cpuidInfo + 16, 0x00020800_00b00f21L)  // leaf 1: EAX, EBX (APIC ID 0)
                .put(cpuidInfo + 88, 0x00000000_00000100L)  // leaf 0xB, 0: ECX, EDX (x2APIC ID 0)
                .put(cpuidInfo + 104, 0x00000000_00000201L) // leaf 0xB, 1
                .put(cpuidInfo + 120, 0x00000000_00000000L);
        Memory replayed = recordedRun.copy().put(cpuidInfo + 16, 0x01020800_00b00f21L).put(cpuidInfo + 88, 0x00000001_00000100L)
                .put(cpuidInfo + 104, 0x00000001_00000201L).put(cpuidInfo + 120, 0x00000001_00000000L);
        long heap = 0x55555555a100L;
        long[] r = regs();
        r[X86Regs.RAX] = features;
        r[X86Regs.RBX] = cpuidInfo + 100;                // past leaf 1's window, on the topology leaves
        r[X86Regs.RCX] = heap;
        recordedRun.put(heap, cpuidInfo + 100).put(heap + 8, heap + 0x200);  // a pointer to them, and another
        replayed.put(heap, cpuidInfo + 100).put(heap + 8, heap + 0x200);
        MemoryWitness recorded = MemoryWitness.of(r, RANGES, recordedRun);
        assertEquals(1 << X86Regs.RCX, recorded.mask(), "only the heap's window");
        assertArrayEquals(new long[] {heap + 0x200}, recorded.pointers());
        assertTrue(recorded.matches(r, replayed), "replayed on the other CPU");
        assertFalse(recorded.matches(r, replayed.copy().put(heap + 0x200, 7)), "the heap still counts");
        // Leaf 1 without leaf 0 before it (glibc's cpu_features, signal_in_cpuid_loop's samples): hashed, APIC IDs out.
        Memory leaf1Alone = recordedRun.copy().put(cpuidInfo, 0).put(cpuidInfo + 8, 0);
        assertEquals(1 << X86Regs.RAX | 1 << X86Regs.RBX | 1 << X86Regs.RCX, MemoryWitness.of(r, RANGES, leaf1Alone).mask());
        // Without leaf 1 in reach, the same window is hashed.
        Memory noCpuid = new Memory().put(heap, features + 0x400);
        r[X86Regs.RBX] = features + 0x400;
        assertEquals(1 << X86Regs.RBX | 1 << X86Regs.RCX, MemoryWitness.of(r, RANGES, noCpuid).mask() & (1 << X86Regs.RBX | 1 << X86Regs.RCX));
    }

    @Test
    void onlyWordsShapedAsCpuidLeaf1EbxLoseTheirTopByte() {
        assertEquals(0x00fe0800_00b00f21L, dev.deja.device.x86.CpuidLeaf1.withoutApicIds(0xcffe0800_00b00f21L));
        assertEquals(0x00b00f21_00fe0800L, dev.deja.device.x86.CpuidLeaf1.withoutApicIds(0x00b00f21_cffe0800L));
        assertEquals(0x00020800_00fe0800L, dev.deja.device.x86.CpuidLeaf1.withoutApicIds(0xff020800_6dfe0800L));
        for (long other : new long[] {0, -1, 0xcffe0801_00b00f21L, 0xcffe0900_12345678L, 0x7ffff7001800L, 0xcffe1800_cffe0808L}) {
            assertEquals(other, dev.deja.device.x86.CpuidLeaf1.withoutApicIds(other), Long.toHexString(other));
        }
    }

    @Test
    void windowsStopAtThePageSoReplayReadsWhatTheRecorderDid() {
        assertEquals(0x55555555a000L, MemoryWitness.windowStart(0x55555555a010L));
        assertEquals(0x55555555a010L + MemoryWitness.AFTER, MemoryWitness.windowEnd(0x55555555a013L));
        assertEquals(0x55555555b000L, MemoryWitness.windowEnd(0x55555555aff8L));
        assertEquals(0x55555555aff8L - MemoryWitness.BEFORE, MemoryWitness.windowStart(0x55555555afffL));
        assertEquals(0x55555555b000L, MemoryWitness.pointeeEnd(0x55555555afe0L));
        // A window that cannot be read whole is no match (and its hash is never the recorded one).
        long[] r = regs();
        r[X86Regs.RAX] = 0x55555555a100L;
        MemoryWitness w = MemoryWitness.of(r, RANGES, new Memory());
        assertFalse(w.matches(r, (a, d, o, l) -> 0));
    }

    @Test
    void theSecondLevelStopsAtItsBound() {
        long[] r = regs();
        Memory m = new Memory();
        for (int reg = 0; reg <= X86Regs.RDI; reg++) {
            long window = 0x55555555a000L + 0x400L * reg + 0x100;
            if (reg == X86Regs.RBP || reg == X86Regs.RBX) continue;
            r[reg] = window;
            for (long w = window - MemoryWitness.BEFORE; w < window + MemoryWitness.AFTER; w += 8) m.put(w, 0x7ffff7000000L + w % 4096);
        }
        MemoryWitness w = MemoryWitness.of(r, RANGES, m);
        assertEquals(MemoryWitness.MAX_POINTERS, w.pointers().length);
        assertTrue(w.matches(r, m));
    }
}
