package dev.deja.device.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The answer stub run for real, in this process: a small syscall wrapper is written to a page of our
 * own, patched, and called through FFM. Answered calls never reach the kernel (their results are the
 * entries', not the kernel's); the others, and every call once the buffer is used up, do.
 */
@SuppressWarnings("restricted")
class AnswerStubTest {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final long REGION = 1 << 20;
    private static final int NR_GETPID = 39;
    private static final int NR_FSTAT = 5;
    private static final int NR_NEWFSTATAT = 262;
    /** {@code mov eax, 39; syscall; mov rax, rcx; ret}: getpid, giving back what rcx held after the call. */
    private static final byte[] GETPID_RCX = bytes("b8 27 00 00 00 0f 05 48 89 c8 c3");
    /** {@code mov eax, 39; syscall; ret}. */
    private static final byte[] GETPID = bytes("b8 27 00 00 00 0f 05 c3");
    /** {@code mov eax, 5; syscall; ret}: fstat(rdi, rsi). */
    private static final byte[] FSTAT = bytes("b8 05 00 00 00 0f 05 c3");
    /** {@code mov eax, 262; mov r10, rcx; syscall; ret}: newfstatat(rdi, rsi, rdx, rcx as the fourth argument). */
    private static final byte[] NEWFSTATAT = bytes("b8 06 01 00 00 49 89 ca 0f 05 c3");

    private long region;
    /** The data page and buffer: after the code pages, as deja maps them. */
    private long data;

    @BeforeEach
    void map() throws Throwable {
        region = (long) MMAP.invokeExact(0L, REGION, 7, 0x22, -1, 0L); // rwx, MAP_PRIVATE|MAP_ANONYMOUS
        assertTrue(region > 0, "mmap");
        data = region + 0x20000;
    }

    @AfterEach
    void unmap() throws Throwable {
        int r = (int) MUNMAP.invokeExact(region, REGION);
        assertEquals(0, r);
    }

    private AnswerStub install(byte[] function, List<AnswerStub.Entry> entries) throws GuardStub.Refused {
        long syscall = region + indexOf(function);
        AnswerStub s = AnswerStub.build(function, region, syscall, region + 0x10000, data);
        write(region, function);
        write(s.codeAddress(), s.code());
        write(data, AnswerStub.data(data, entries));
        write(s.patchAddress(), s.patch());
        return s;
    }

    private static int indexOf(byte[] code) {
        for (int i = 0; i + 1 < code.length; i++) if (code[i] == 0x0f && code[i + 1] == 0x05) return i;
        throw new IllegalArgumentException("no syscall");
    }

    private static void write(long address, byte[] data) {
        MemorySegment.ofAddress(address).reinterpret(data.length).copyFrom(MemorySegment.ofArray(data));
    }

    private static long[] args(long... a) {
        return Arrays.copyOf(a, 6);
    }

    @Test
    void answeredCallsGetTheEntriesResultsAndTheRestGoToTheKernel() throws Throwable {
        List<AnswerStub.Entry> entries = List.of(
                new AnswerStub.Entry(NR_GETPID, args(), 0, List.of(), 4242, List.of()),
                new AnswerStub.Entry(NR_GETPID, args(), 0, List.of(), 4343, List.of()));
        AnswerStub s = install(GETPID, entries);
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        assertEquals(4242L, (long) f.invokeExact());
        assertEquals(4343L, (long) f.invokeExact());
        assertEquals(ProcessHandle.current().pid(), (long) f.invokeExact(), "past the buffer: the kernel's answer");
        assertEquals(2, AnswerStub.taken(data, cursor(), entries));
    }

    @Test
    void rcxIsTheAddressAfterTheProgramsSyscallWhetherAnsweredOrNot() throws Throwable {
        install(GETPID_RCX, List.of(new AnswerStub.Entry(NR_GETPID, args(), 0, List.of(), 1, List.of())));
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        long after = region + indexOf(GETPID_RCX) + 2;
        assertEquals(after, (long) f.invokeExact(), "answered");
        assertEquals(after, (long) f.invokeExact(), "made by the stub's own syscall instruction");
    }

    @Test
    void theProgramsStackIsNotWrittenBelowItsPointer() throws Throwable {
        // mov qword [rsp-136], 0x1234; mov eax, 39; syscall; mov rax, [rsp-136]; ret: a word below the red
        // zone, where a point's stack window reaches once the program calls deeper, comes back as it was.
        byte[] code = bytes("48 c7 84 24 78 ff ff ff 34 12 00 00 b8 27 00 00 00 0f 05 48 8b 84 24 78 ff ff ff c3");
        install(code, List.of(new AnswerStub.Entry(NR_GETPID, args(), 0, List.of(), 1, List.of())));
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        assertEquals(0x1234L, (long) f.invokeExact(), "answered");
        assertEquals(0x1234L, (long) f.invokeExact(), "made by the stub's own syscall instruction");
    }

    @Test
    void outputsAreWrittenAtThePointerArgumentAndComparedArgumentsMustMatch() throws Throwable {
        byte[] stat = new byte[144];
        for (int i = 0; i < stat.length; i++) stat[i] = (byte) (i * 7 + 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(160);
            // fstat(7, buf): fd compared, the buffer's address not (bit 0 only), its 144 bytes at offset 0 of argument 1
            List<AnswerStub.Entry> entries = List.of(
                    new AnswerStub.Entry(NR_FSTAT, args(7, 0xdead), 0b1, List.of(), 0, List.of(new AnswerStub.Block(1, 0, stat))),
                    new AnswerStub.Entry(NR_FSTAT, args(7, 0xdead), 0b1, List.of(), 0, List.of(new AnswerStub.Block(1, 8, new byte[] {9}))));
            AnswerStub s = install(FSTAT, entries);
            MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
            assertEquals(0L, (long) f.invokeExact(7L, buf));
            assertArrayEquals(stat, buf.asSlice(0, 144).toArray(ValueLayout.JAVA_BYTE));
            assertEquals(0, buf.get(ValueLayout.JAVA_BYTE, 144), "nothing past the recorded bytes");
            // Another descriptor: not the entry's call; the kernel's answer (no such descriptor), the entry still next.
            assertEquals(-9L, (long) f.invokeExact(1_000_000L, buf));
            assertEquals(1, AnswerStub.taken(data, cursor(), entries));
            assertEquals(0L, (long) f.invokeExact(7L, buf));
            assertEquals(9, buf.get(ValueLayout.JAVA_BYTE, 8));
            assertEquals(2, AnswerStub.taken(data, cursor(), entries));
        }
    }

    @Test
    void theBytesAPointerArgumentPointsToMustBeTheEntrysInputs() throws Throwable {
        byte[] stat = new byte[144];
        Arrays.fill(stat, (byte) 0x5a);
        byte[] path = "/etc/passwd\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(64);
            MemorySegment buf = arena.allocate(144);
            // newfstatat(AT_FDCWD, path, buf, 0): its path compared byte for byte, NUL included
            List<AnswerStub.Entry> entries = List.of(new AnswerStub.Entry(NR_NEWFSTATAT, args(-100, 0, 0, 0), 0b1001,
                    List.of(new AnswerStub.Block(1, 0, path)), 0, List.of(new AnswerStub.Block(2, 0, stat))));
            AnswerStub s = install(NEWFSTATAT, entries);
            MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            // A longer path with the same beginning is another call: the kernel answers it (no such file).
            name.setString(0, "/etc/passwd.none");
            assertEquals(-2L, (long) f.invokeExact(-100L, name, buf, 0L));
            assertEquals(0, AnswerStub.taken(data, cursor(), entries));
            name.setString(0, "/etc/passwd");
            assertEquals(0L, (long) f.invokeExact(-100L, name, buf, 0L));
            assertArrayEquals(stat, buf.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(1, AnswerStub.taken(data, cursor(), entries));
        }
    }

    @Test
    void aPerformedCallIsMadeForRealAndAnotherResultIsMadeAgainAtTheStubsOwnSyscall() throws Throwable {
        // mov r9, 0x77; mov eax, 11; syscall; mov rax, r9; ret: munmap(rdi, rsi), giving back r9 after the call
        byte[] code = bytes("49 c7 c1 77 00 00 00 b8 0b 00 00 00 0f 05 4c 89 c8 c3");
        long page = region + 0x40000;
        long[] call = args(page, 4096);
        // compared: the address and the length; the second entry says the call failed, as it will not
        List<AnswerStub.Entry> entries = List.of(
                new AnswerStub.Entry(11, call, 0b11, List.of(), 0, List.of(), true),
                new AnswerStub.Entry(11, call, 0b11, List.of(), -22, List.of(), true));
        long syscall = region + indexOf(code);
        AnswerStub s = AnswerStub.build(code, region, syscall, region + 0x10000, data);
        write(region, code);
        write(s.codeAddress(), s.code());
        write(data, AnswerStub.data(data, entries, 0x1234_5678_9abc_def0L));
        write(s.patchAddress(), s.patch());
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        assertEquals(0x77L, (long) f.invokeExact(page, 4096L), "the program's r9 back after the marked call");
        assertEquals(1, AnswerStub.taken(data, cursor(), entries));
        // Made for real: the page is gone, so a fixed mapping that must not replace anything fits there again
        long again = (long) MMAP.invokeExact(page, 4096L, 3, 0x22 | 0x100000, -1, 0L);
        assertEquals(page, again, "the page was unmapped by the performed call");
        // The kernel's 0 is not the entry's -22: the stub makes the call again at its own syscall (the kernel's
        // answer, 0 again as a second munmap of the page), and the entry stays next, for deja to see at a stop.
        assertEquals(0x77L, (long) f.invokeExact(page, 4096L));
        assertEquals(1, AnswerStub.taken(data, cursor(), entries));
        assertTrue(s.realSyscall() > s.codeAddress());
    }

    @Test
    void aPerformedCallWithArgumentsOfItsOwnIsMadeWithThemAndTheProgramsRegistersComeBack() throws Throwable {
        // mov r10, rcx; mov eax, 9; syscall; mov rdx, r8; ret (rax: the result, rdx: r8 after the call)
        byte[] code = bytes("49 89 ca b8 09 00 00 00 0f 05 4c 89 c2 c3");
        java.nio.file.Path file = java.nio.file.Files.createTempFile("deja-answer-stub", ".bin");
        long marker = 0x1234_5678_9abc_def0L;
        try (Arena arena = Arena.ofConfined(); java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            byte[] text = "the recorded copy's bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            raf.write(text);
            int fd = openForTest(arena, file);
            long filePage = region + 0x40000;
            long anonPage = region + 0x50000;
            MemorySegment.ofAddress(anonPage).reinterpret(4096).fill((byte) 0x5a);
            // The program asks for mappings anywhere; the stub makes them at the recorded address, of the
            // copy's descriptor (its high half the marker's), and the entry's result is that address.
            List<AnswerStub.Entry> entries = List.of(
                    new AnswerStub.Entry(9, args(0, 4096, 1, 0x02, 77, 0), 0b111110, List.of(), filePage, List.of(), true,
                            args(filePage, 4096, 1, 0x12, fd, 0)),
                    new AnswerStub.Entry(9, args(0, 4096, 3, 0x22, -1, 0), 0b111110, List.of(), anonPage, List.of(), true,
                            args(anonPage, 4096, 3, 0x22 | 0x10, 0xffff_ffffL, 0)),
                    new AnswerStub.Entry(9, args(0, 4096, 3, 0x22, -1, 0), 0b111110, List.of(), 0x1000, List.of(), true,
                            args(anonPage, 4096, 3, 0x22 | 0x10, 0xffff_ffffL, 0)));
            long syscall = region + indexOf(code);
            AnswerStub s = AnswerStub.build(code, region, syscall, region + 0x10000, data);
            write(region, code);
            write(s.codeAddress(), s.code());
            write(data, AnswerStub.data(data, entries, marker));
            write(s.patchAddress(), s.patch());
            java.lang.foreign.StructLayout pair = java.lang.foreign.MemoryLayout.structLayout(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
            MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(pair,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            MemorySegment r = (MemorySegment) f.invokeExact((java.lang.foreign.SegmentAllocator) arena, 0L, 4096L, 1L, 0x02L, 77L, 0L);
            assertEquals(filePage, r.get(ValueLayout.JAVA_LONG, 0), "the file mapped at the recorded address");
            assertEquals(77L, r.get(ValueLayout.JAVA_LONG, 8), "the program's r8 back");
            byte[] seen = MemorySegment.ofAddress(filePage).reinterpret(text.length).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(text, seen, "the copy's bytes, through its descriptor with the marker in the high half");
            r = (MemorySegment) f.invokeExact((java.lang.foreign.SegmentAllocator) arena, 0L, 4096L, 3L, 0x22L, -1L, 0L);
            assertEquals(anonPage, r.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(-1L, r.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(0, MemorySegment.ofAddress(anonPage).reinterpret(4096).get(ValueLayout.JAVA_BYTE, 100), "a new anonymous page");
            assertEquals(2, AnswerStub.taken(data, cursor(), entries));
            // Another result than the entry's: made again with the program's own arguments, the kernel's answer
            r = (MemorySegment) f.invokeExact((java.lang.foreign.SegmentAllocator) arena, 0L, 4096L, 3L, 0x22L, -1L, 0L);
            long elsewhere = r.get(ValueLayout.JAVA_LONG, 0);
            assertTrue(elsewhere > 0 && elsewhere != anonPage && elsewhere != 0x1000, "0x" + Long.toHexString(elsewhere));
            assertEquals(2, AnswerStub.taken(data, cursor(), entries));
            int u = (int) MUNMAP.invokeExact(elsewhere, 4096L);
            assertEquals(0, u);
            MethodHandle close = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int c = (int) close.invokeExact(fd);
            assertEquals(0, c);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    private static int openForTest(Arena arena, java.nio.file.Path file) throws Throwable {
        MethodHandle open = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        int fd = (int) open.invokeExact(arena.allocateFrom(file.toString()), 0x80000); // O_RDONLY | O_CLOEXEC
        assertTrue(fd >= 0, "open");
        return fd;
    }

    @Test
    void stubsOfTwoSyscallInstructionsShareTheBufferInTheCallsOrder() throws Throwable {
        long getpidAt = region;
        long fstatAt = region + 0x100;
        AnswerStub g = AnswerStub.build(GETPID, getpidAt, getpidAt + 5, region + 0x10000, data);
        AnswerStub f = AnswerStub.build(FSTAT, fstatAt, fstatAt + 5, region + 0x11000, data);
        byte[] stat = new byte[144];
        Arrays.fill(stat, (byte) 3);
        List<AnswerStub.Entry> entries = List.of(
                new AnswerStub.Entry(NR_GETPID, args(), 0, List.of(), 11, List.of()),
                new AnswerStub.Entry(NR_FSTAT, args(4), 0b1, List.of(), 0, List.of(new AnswerStub.Block(1, 0, stat))),
                new AnswerStub.Entry(NR_GETPID, args(), 0, List.of(), 12, List.of()));
        write(getpidAt, GETPID);
        write(fstatAt, FSTAT);
        for (AnswerStub s : List.of(g, f)) {
            write(s.codeAddress(), s.code());
            write(s.patchAddress(), s.patch());
        }
        write(data, AnswerStub.data(data, entries));
        MethodHandle getpid = LINKER.downcallHandle(MemorySegment.ofAddress(getpidAt), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        MethodHandle fstat = LINKER.downcallHandle(MemorySegment.ofAddress(fstatAt),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(144);
            // getpid first: the fstat entry is next, so getpid's stub lets the kernel answer a second getpid
            assertEquals(11L, (long) getpid.invokeExact());
            assertEquals(ProcessHandle.current().pid(), (long) getpid.invokeExact());
            assertEquals(0L, (long) fstat.invokeExact(4L, buf));
            assertArrayEquals(stat, buf.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(12L, (long) getpid.invokeExact());
            assertEquals(3, AnswerStub.taken(data, cursor(), entries));
        }
    }

    @Test
    void anotherCallNumberIsNotAnswered() throws Throwable {
        List<AnswerStub.Entry> entries = List.of(new AnswerStub.Entry(NR_GETPID + 1, args(), 0, List.of(), 4242, List.of()));
        AnswerStub s = install(GETPID, entries);
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        assertEquals(ProcessHandle.current().pid(), (long) f.invokeExact());
        assertEquals(0, AnswerStub.taken(data, cursor(), entries));
    }

    @Test
    void thePatchStartsBeforeTheSyscallWhenTheFunctionEndsSoonAfterIt() throws Throwable {
        AnswerStub s = AnswerStub.build(GETPID, region, region + 5, region + 0x10000, region + 0x20000);
        assertEquals(region, s.patchAddress(), "mov eax, 39 moves into the stub with the syscall");
        assertEquals(7, s.patch().length);
        assertEquals((byte) 0xE9, s.patch()[0]);
    }

    @Test
    void aBranchIntoThePatchIsRefused() {
        // 0: xor eax,eax  2: jmp 9  4: mov eax,39  9: syscall  11: nop  12: ret: the jump lands on the syscall,
        // inside any patch that starts at the mov, and the function ends too soon for one that starts at the syscall
        byte[] code = bytes("31 c0 eb 05 b8 27 00 00 00 0f 05 90 c3");
        assertThrows(GuardStub.Refused.class, () -> AnswerStub.build(code, region, region + 9, region + 0x10000, region + 0x20000));
    }

    /** The cursor word of the stub's data page, read from this process's memory. */
    private long cursor() {
        return MemorySegment.ofAddress(AnswerStub.cursorAddress(data)).reinterpret(8).get(ValueLayout.JAVA_LONG, 0);
    }

    private static byte[] bytes(String hex) {
        String[] p = hex.trim().split("\\s+");
        byte[] b = new byte[p.length];
        for (int i = 0; i < p.length; i++) b[i] = (byte) Integer.parseInt(p[i], 16);
        return b;
    }
}
