package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.MemoryBlock;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure parts of {@link CallEmulator}: its table of calls, which paths it resolves, which clocks it reads. */
class CallEmulatorTest {
    private static final SyscallTable X86 = SyscallTable.of(Arch.X86_64);

    @Test
    void everyCallOfTheTableIsAnX86Call() {
        for (CallEmulator.Form f : CallEmulator.FORMS) {
            assertTrue(X86.number(f.name()).isPresent(), f.name());
        }
        for (String name : CallEmulator.WORLD_CHANGING) assertTrue(X86.number(name).isPresent(), name);
        for (String name : CallEmulator.DESCRIPTOR_CLOSING) assertTrue(X86.number(name).isPresent(), name);
    }

    @Test
    void noCallThatCreatesOrClosesADescriptorOrBlocksIsPerformed() {
        List<String> names = CallEmulator.FORMS.stream().map(CallEmulator.Form::name).toList();
        for (String never : List.of("open", "openat", "close", "dup", "dup2", "mmap", "write", "pwrite64", "futex",
                "nanosleep", "clock_nanosleep", "poll", "recvfrom", "execve", "getcpu", "sched_getaffinity")) {
            assertFalse(names.contains(never), never);
        }
        assertTrue(CallEmulator.DESCRIPTOR_CLOSING.containsAll(List.of("close", "dup2", "dup3", "close_range", "execve")));
    }

    @Test
    void outputsAreSizedByTheirLengthArgumentOrTheirStruct() {
        CallEmulator.Form read = form("read");
        long[] args = {3, 0x1000, 100, 0, 0, 0};
        assertEquals(100, read.outLength(args));
        assertEquals(42, read.written(42, args));
        assertEquals(0, read.written(-14, args));
        CallEmulator.Form stat = form("newfstatat");
        long[] statArgs = {-100, 0x2000, 0x3000, 0, 0, 0};
        assertEquals(144, stat.outLength(statArgs));
        assertEquals(144, stat.written(0, statArgs));
        assertEquals(0, stat.written(-2, statArgs));
        assertEquals(256, form("statx").outLength(new long[] {-100, 0x2000, 0, 0x7ff, 0x3000, 0}));
        CallEmulator.Form readlink = form("readlink");
        assertEquals(4095, readlink.outLength(new long[] {0x2000, 0x3000, 4095, 0, 0, 0}));
        // a NULL output is written nowhere
        assertEquals(0, form("clock_gettime").written(0, new long[] {1, 0, 0, 0, 0, 0}));
    }

    @Test
    void aChildOfTheSameCredentialsLivesInTheSameWorldLabelIncluded() throws Exception {
        String own = CallEmulator.world((int) ProcessHandle.current().pid());
        assertTrue(own != null && own.contains("\nlabel="), own);
        Process child = new ProcessBuilder("sleep", "5").start();
        try {
            assertEquals(own, CallEmulator.world((int) child.pid()));
        } finally {
            child.destroyForcibly().waitFor();
        }
        assertNull(CallEmulator.world(Integer.MAX_VALUE)); // no such process
    }

    @Test
    void aMountInfoLineGivesItsIdAndWhetherAServerAnswersItsCalls() {
        CallEmulator.Mount root = CallEmulator.Mount.parse(
                "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw");
        assertEquals(new CallEmulator.Mount(25, "ext4"), root);
        assertFalse(root.served());
        // optional fields before the separator, a FUSE subtype, network and automount types
        assertTrue(CallEmulator.Mount.parse("812 25 0:91 / /tmp/m rw,nosuid,nodev shared:7 master:2 - fuse.sshfs host:/ rw")
                .served());
        assertTrue(CallEmulator.Mount.parse("90 25 0:50 / /mnt/n rw - nfs4 srv:/x rw,vers=4.2").served());
        assertTrue(CallEmulator.Mount.parse("91 25 0:51 / /net rw - autofs systemd-1 rw").served());
        assertFalse(CallEmulator.Mount.parse("92 25 0:52 / /tmp rw - tmpfs tmpfs rw").served());
        // no separator, no number: not a mount line
        assertNull(CallEmulator.Mount.parse("25 1 254:0 / / rw"));
        assertNull(CallEmulator.Mount.parse("x 1 254:0 / / rw - ext4 /dev/vda rw"));
    }

    @Test
    void aStatxDeviceIsEncodedAsStructStatHoldsIt() {
        // new_encode_dev: minor's low byte, major above it, minor's high bits above bit 20 (glibc's makedev alike)
        assertEquals(0x801, CallEmulator.encodeDevice(8, 1));
        assertEquals(0x100023, CallEmulator.encodeDevice(0, 0x123));
        assertEquals(0x16, CallEmulator.encodeDevice(0, 0x16));
        assertEquals(0xfff00, CallEmulator.encodeDevice(0xfff, 0));
    }

    @Test
    void pathsThroughProcAndTheDescriptorLinksAreLeftToTheKernel() {
        for (String ok : List.of("/usr/include/stdio.h", "stdio.h", "../lib/os-release", "", "a//b/", "/procedure",
                "/home/me/process.txt", "fdisk", "/dev/null", "/dev/shm/x")) {
            assertTrue(CallEmulator.pathAllowed(ok.getBytes(StandardCharsets.UTF_8)), ok);
        }
        for (String refused : List.of("/proc/self/exe", "proc/self/exe", "/proc/1/status", "/dev/fd/0", "fd/3",
                "/dev/stdin", "/dev/stdout", "/dev/stderr", "self/exe", "thread-self/comm", "/dev/tty", "../proc")) {
            assertFalse(CallEmulator.pathAllowed(refused.getBytes(StandardCharsets.UTF_8)), refused);
        }
        assertFalse(CallEmulator.pathAllowed(new byte[5000]));
    }

    @Test
    void aPathIsTakenFromItsInputBlockOnlyWhenReadWhole() {
        byte[] whole = "/etc/hostname\0".getBytes(StandardCharsets.UTF_8);
        List<MemoryBlock> inputs = List.of(new MemoryBlock(1, 0x5000, whole));
        assertArrayEquals("/etc/hostname".getBytes(StandardCharsets.UTF_8), CallEmulator.pathOf(inputs, 1, 0x5000));
        // another argument, another address, a string cut short (no NUL): none
        assertNull(CallEmulator.pathOf(inputs, 0, 0x5000));
        assertNull(CallEmulator.pathOf(inputs, 1, 0x6000));
        assertNull(CallEmulator.pathOf(List.of(new MemoryBlock(1, 0x5000, "/etc/ho".getBytes(StandardCharsets.UTF_8))), 1, 0x5000));
        assertArrayEquals(new byte[0], CallEmulator.pathOf(List.of(new MemoryBlock(1, 0x5000, new byte[1])), 1, 0x5000));
    }

    @Test
    void onlyTheClocksEveryProcessReadsAlikeAreRead() {
        for (int id : new int[] {0, 1, 4, 5, 6, 7, 11}) assertTrue(CallEmulator.clockAlike(id), "clock " + id);
        // CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, the alarm clocks, a pid's CPU clock (negative)
        for (int id : new int[] {2, 3, 8, 9, 10, -6, -2, 64}) assertFalse(CallEmulator.clockAlike(id), "clock " + id);
    }

    private static CallEmulator.Form form(String name) {
        return CallEmulator.FORMS.stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }
}
