package dev.deja.device.syscall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The tables agree with the kernel headers of this machine (after strace's tests/ksysent.c). */
class SyscallTableTest {

    @Test
    void x86_64TableMatchesTheKernelHeaders() throws IOException {
        Path h = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
        if (!Files.exists(h)) h = Path.of("/usr/include/asm/unistd_64.h");
        Assumptions.assumeTrue(Files.exists(h), "no x86_64 kernel headers on this machine");
        Map<String, Integer> header = new TreeMap<>();
        Matcher m = Pattern.compile("#define __NR_(\\w+)\\s+(\\d+)").matcher(Files.readString(h));
        while (m.find()) header.put(m.group(1), Integer.parseInt(m.group(2)));
        assertTrue(header.size() > 300, "parsed " + header.size());
        SyscallTable t = SyscallTable.of(Arch.X86_64);
        header.forEach((name, nr) -> {
            assertEquals(name, t.name(nr), "number " + nr);
            assertEquals(nr, t.number(name).orElse(-1), name);
        });
        // every number from 0 to the header's highest is named
        int max = header.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        for (int nr = 0; nr <= max; nr++) {
            if (header.containsValue(nr)) assertTrue(!t.name(nr).startsWith("syscall_0x"), "nr " + nr);
        }
    }

    @Test
    void x86_64SpotChecks() {
        SyscallTable t = SyscallTable.of(Arch.X86_64);
        assertEquals("read", t.name(0));
        assertEquals("write", t.name(1));
        assertEquals(257, t.number("openat").orElseThrow());
        assertEquals(435, t.number("clone3").orElseThrow());
        assertEquals(439, t.number("faccessat2").orElseThrow());
        assertEquals(462, t.number("mseal").orElseThrow());
        assertEquals("syscall_0x1ff", t.name(511));
        assertEquals("syscall_0xffffffff", t.name(-1));
    }

    @Test
    void aarch64UsesTheGenericTable() {
        SyscallTable t = SyscallTable.of(Arch.AARCH64);
        assertEquals(56, t.number("openat").orElseThrow());
        assertEquals(63, t.number("read").orElseThrow());
        assertEquals(64, t.number("write").orElseThrow());
        assertEquals(220, t.number("clone").orElseThrow());
        assertEquals(221, t.number("execve").orElseThrow());
        assertEquals(222, t.number("mmap").orElseThrow());
        assertEquals(79, t.number("newfstatat").orElseThrow());
        assertEquals(80, t.number("fstat").orElseThrow());
        assertEquals(163, t.number("getrlimit").orElseThrow());
        assertEquals(435, t.number("clone3").orElseThrow());
        assertTrue(t.number("open").isEmpty());
        assertTrue(t.number("fork").isEmpty());
        assertTrue(t.number("stat").isEmpty());
        assertTrue(t.names().size() > 300);
    }

    @Test
    void aarch64TableMatchesTheGenericHeaderWhenPresent() throws IOException {
        Path h = Path.of("/usr/include/asm-generic/unistd.h");
        Assumptions.assumeTrue(Files.exists(h));
        Matcher m = Pattern.compile("#define __NR_(\\w+)\\s+(\\d+)\\b").matcher(Files.readString(h));
        SyscallTable t = SyscallTable.of(Arch.AARCH64);
        int checked = 0;
        while (m.find()) {
            String name = m.group(1);
            if (name.equals("syscalls") || name.equals("arch_specific_syscall")) continue;
            if (name.equals("sync_file_range2")) continue; // the #else branch: aarch64 has sync_file_range
            int nr = Integer.parseInt(m.group(2));
            if (t.number(name).isEmpty() && nr >= 403 && nr <= 423) continue; // time64 calls of 32-bit ABIs only
            assertEquals(nr, t.number(name).orElse(-1), name);
            checked++;
        }
        assertTrue(checked > 250, "checked " + checked);
    }

    @Test
    void archNames() {
        assertEquals(Arch.X86_64, Arch.parse("x86_64"));
        assertEquals(Arch.X86_64, Arch.parse("amd64"));
        assertEquals(Arch.AARCH64, Arch.parse("aarch64"));
        assertEquals(Arch.AARCH64, Arch.parse("arm64"));
        assertEquals("x86_64", Arch.X86_64.unameName());
        assertEquals("aarch64", Arch.AARCH64.unameName());
        assertThrows(IllegalArgumentException.class, () -> Arch.parse("sparc"));
        assertEquals(Arch.parse(System.getProperty("os.arch")), Arch.current());
    }
}
