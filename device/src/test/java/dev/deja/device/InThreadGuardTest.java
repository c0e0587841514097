package dev.deja.device;

import org.junit.jupiter.api.Test;

import dev.deja.device.syscall.TraceeMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which points a guard can take, as recording asks before it steps a preempted thread on: in a
 * module's code that has no function bounds (V8's builtins in node's text have no .eh_frame), the
 * point's one instruction is patched alone, as in a JIT's code.
 */
class InThreadGuardTest {
    private static final long MODULE = 0x400000;
    private static final long POINT = 0x1000520;
    private static final String MAPS = """
            00400000-00401000 r--p 00000000 08:01 42 /usr/bin/node
            00401000-02000000 r-xp 00001000 08:01 42 /usr/bin/node
            02000000-02100000 rw-p 01c00000 08:01 42 /usr/bin/node
            7ffff7a00000-7ffff7c00000 r-xp 00000000 08:01 43 /usr/lib/x86_64-linux-gnu/libc.so.6
            """;

    /** The module's header (an ELF with no program headers: no .eh_frame_hdr to find) and {@code code} at the point. */
    private static TraceeMemory memory(byte[] code) {
        byte[] header = new byte[64];
        header[0] = 0x7f;
        header[1] = 'E';
        header[2] = 'L';
        header[3] = 'F';
        header[4] = 2;
        return (address, dst, off, len) -> {
            byte[] from;
            long base;
            if (address >= MODULE && address < MODULE + header.length) {
                from = header;
                base = MODULE;
            } else if (address >= POINT && address < POINT + code.length) {
                from = code;
                base = POINT;
            } else {
                return 0;
            }
            int n = (int) Math.min(len, from.length - (address - base));
            System.arraycopy(from, (int) (address - base), dst, off, n);
            return n;
        };
    }

    @Test
    void aModulesBaseIsItsMappingAtOffsetZero() {
        String maps = """
                00400000-00401000 r--p 00000000 08:01 42                                 /usr/bin/node
                00401000-02000000 r-xp 00001000 08:01 42                                 /usr/bin/node
                02000000-02100000 rw-p 01c00000 08:01 42                                 /usr/bin/node
                02100000-02200000 rw-p 00000000 00:00 0                                  [heap]
                7ffff79f0000-7ffff7a00000 rw-p 00000000 00:00 0\s
                7ffff7a00000-7ffff7a20000 r--p 00000000 08:01 43                         /usr/lib/x86_64-linux-gnu/libc.so.6
                7ffff7a20000-7ffff7c00000 r-xp 00020000 08:01 43                         /usr/lib/x86_64-linux-gnu/libc.so.6
                7ffff7c00000-7ffff7c10000 r-xp 00000000 08:01 44                         /usr/lib/x86_64-linux-gnu/libc.so.6.old
                7ffff7ff0000-7ffff7ff2000 r-xp 00000000 00:00 0                          [vdso]
                """;
        assertEquals(0x400000L, InThreadGuard.moduleBase(maps, 0x1000520));
        assertEquals(0x400000L, InThreadGuard.moduleBase(maps, 0x2000000), "the data, too");
        assertEquals(0x7ffff7a00000L, InThreadGuard.moduleBase(maps, 0x7ffff7b00000L));
        assertEquals(0x7ffff7c00000L, InThreadGuard.moduleBase(maps, 0x7ffff7c00010L), "not the path it begins with");
        assertEquals(0L, InThreadGuard.moduleBase(maps, 0x2100010), "the heap: no file");
        assertEquals(0L, InThreadGuard.moduleBase(maps, 0x7ffff79f0010L), "anonymous");
        assertEquals(0L, InThreadGuard.moduleBase(maps, 0x7ffff7ff0010L), "the vDSO");
        assertEquals(0L, InThreadGuard.moduleBase(maps, 0x10), "nothing mapped");
        assertEquals(MODULE, InThreadGuard.moduleBase(MAPS, POINT), "single spaces before the path");
    }

    @Test
    void aLongInstructionInAModuleWithoutFunctionBoundsIsGuardedAlone() {
        // mov rax, [rbx+0x10] (7 bytes, a displacement, no immediate), then padding
        byte[] code = {0x48, (byte) 0x8b, (byte) 0x83, 0x10, 0, 0, 0, (byte) 0x90, (byte) 0x90, (byte) 0x90,
                (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90};
        assertTrue(InThreadGuard.guardable(MAPS, memory(code), POINT));
    }

    @Test
    void aBranchOrAShortInstructionThereIsNot() {
        byte[] jump = {(byte) 0xeb, (byte) 0xfe, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90,
                (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90};
        assertFalse(InThreadGuard.guardable(MAPS, memory(jump), POINT));
        byte[] add = {0x48, 0x01, (byte) 0xd8, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90,
                (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90, (byte) 0x90}; // add rax, rbx
        assertFalse(InThreadGuard.guardable(MAPS, memory(add), POINT));
    }
}
