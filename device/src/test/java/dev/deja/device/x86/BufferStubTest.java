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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The buffer stub run for real, in this process (which has no seccomp filter: the marker in r9 changes
 * nothing here): small syscall wrappers written to a page of our own, patched, and called through FFM.
 * Every call gets the kernel's answer; those the stub buffers leave an entry deja can parse.
 */
@SuppressWarnings("restricted")
class BufferStubTest {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final long REGION = 1 << 22;
    private static final long BUFFER = 1 << 21;
    private static final long MARKER = 0x6465_6a61_0000_0001L;
    private static final int NR_READ = 0;
    private static final int NR_GETPID = 39;
    private static final int NR_NEWFSTATAT = 262;
    /** {@code mov eax, 0; syscall; ret}: read(rdi, rsi, rdx). */
    private static final byte[] READ = bytes("b8 00 00 00 00 0f 05 c3");
    /** {@code mov eax, 39; syscall; mov rax, rcx; ret}: getpid, giving back what rcx held after the call. */
    private static final byte[] GETPID_RCX = bytes("b8 27 00 00 00 0f 05 48 89 c8 c3");
    /** {@code mov eax, 262; mov r10, rcx; syscall; ret}: newfstatat(rdi, rsi, rdx, rcx as the fourth argument). */
    private static final byte[] NEWFSTATAT = bytes("b8 06 01 00 00 49 89 ca 0f 05 c3");
    /** {@code mov eax, 39; mov r9, 7; syscall; mov rax, r9; ret}: r9 as the program left it, after the call. */
    private static final byte[] GETPID_R9 = bytes("b8 27 00 00 00 49 c7 c1 07 00 00 00 0f 05 4c 89 c8 c3");

    /** {@code mov eax, 257; mov r10, rcx; syscall; ret}: openat(rdi, rsi, rdx, rcx as the mode). */
    private static final byte[] OPENAT = bytes("b8 01 01 00 00 49 89 ca 0f 05 c3");
    /** {@code mov eax, 2; syscall; ret}: open(rdi, rsi, rdx). */
    private static final byte[] OPEN_FN = bytes("b8 02 00 00 00 0f 05 c3");
    /** {@code mov eax, 13; mov r10, rcx; syscall; ret}: rt_sigaction(rdi, rsi, rdx, rcx as the sigset size). */
    private static final byte[] SIGACTION = bytes("b8 0d 00 00 00 49 89 ca 0f 05 c3");
    /** {@code mov eax, 3; syscall; ret}: close(rdi). */
    private static final byte[] CLOSE_FN = bytes("b8 03 00 00 00 0f 05 c3");
    /** {@code mov eax, 1; syscall; ret}: write(rdi, rsi, rdx). */
    private static final byte[] WRITE = bytes("b8 01 00 00 00 0f 05 c3");
    /** {@code mov eax, 72; syscall; ret}: fcntl(rdi, rsi, rdx). */
    private static final byte[] FCNTL = bytes("b8 48 00 00 00 0f 05 c3");
    private static final long O_NONBLOCK = 04000;
    private static final BufferStub.Plan OPENAT_PLAN = new BufferStub.Plan(257, 1, -1, 0, -1, false, false, -1, List.of(),
            2, O_NONBLOCK | 0200000, true, false);
    private static final BufferStub.Plan OPEN_PLAN = new BufferStub.Plan(2, 0, -1, 0, -1, false, false, -1, List.of(),
            1, O_NONBLOCK | 0200000, true, false);
    private static final BufferStub.Plan SIGACTION_PLAN = new BufferStub.Plan(13, -1, 2, 32, -1, false, false, 3, List.of(8L),
            -1, 0, false, false, 1, 32);
    private static final BufferStub.Plan CLOSE_PLAN = new BufferStub.Plan(3, -1, -1, 0, -1, true, true, -1, List.of(), -1, 0,
            false, false);
    private static final BufferStub.Plan WRITE_PLAN = new BufferStub.Plan(1, -1, 1, 0, 2, true, false, -1, List.of(), -1, 0,
            false, true);
    private static final BufferStub.Plan FCNTL_PLAN = new BufferStub.Plan(72, -1, -1, 0, -1, false, false, 1,
            List.of(1L, 2L, 3L), -1, 0, false, false);
    private static final BufferStub.Plan READ_PLAN = new BufferStub.Plan(NR_READ, -1, 1, 0, 2, true);
    private static final BufferStub.Plan GETPID_PLAN = new BufferStub.Plan(NR_GETPID, -1, -1, 0, -1, false);
    private static final BufferStub.Plan STAT_PLAN = new BufferStub.Plan(NR_NEWFSTATAT, 1, 2, 144, -1, false);

    private long region;
    private long data;

    @TempDir
    Path dir;

    @BeforeEach
    void map() throws Throwable {
        region = (long) MMAP.invokeExact(0L, REGION, 7, 0x22, -1, 0L); // rwx, MAP_PRIVATE|MAP_ANONYMOUS
        assertTrue(region > 0, "mmap");
        data = region + 0x20000;
        write(data, BufferStub.dataPage(data, BUFFER));
    }

    @AfterEach
    void unmap() throws Throwable {
        int r = (int) MUNMAP.invokeExact(region, REGION);
        assertEquals(0, r);
    }

    private BufferStub install(byte[] function, List<BufferStub.Plan> plans) throws GuardStub.Refused {
        BufferStub s = BufferStub.build(function, region, region + indexOf(function), region + 0x10000, data, plans, MARKER);
        write(region, function);
        write(s.codeAddress(), s.code());
        write(s.patchAddress(), s.patch());
        return s;
    }

    private List<BufferStub.Entry> entries() {
        long cursor = word(BufferStub.cursorAddress(data));
        long start = BufferStub.bufferStart(data);
        return BufferStub.entries(MemorySegment.ofAddress(start).reinterpret(cursor - start).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void aCallItBuffersGetsTheKernelsAnswerAndLeavesAnEntry() throws Throwable {
        BufferStub s = install(GETPID_RCX, List.of(GETPID_PLAN));
        assertEquals(region, s.patchAddress(), "the mov before the syscall moves: nothing after it runs in the stub");
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        long after = region + indexOf(GETPID_RCX) + 2;
        assertEquals(after, (long) f.invokeExact(), "rcx as the kernel leaves it");
        List<BufferStub.Entry> e = entries();
        assertEquals(1, e.size());
        assertEquals(NR_GETPID, e.getFirst().nr());
        assertEquals(ProcessHandle.current().pid(), e.getFirst().result());
    }

    @Test
    void theSixthArgumentRegisterComesBackAsTheProgramLeftIt() throws Throwable {
        install(GETPID_R9, List.of(GETPID_PLAN));
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        assertEquals(7L, (long) f.invokeExact());
        assertEquals(7L, entries().getFirst().args()[5], "the call's sixth argument as the program made it");
    }

    @Test
    void aReadIsBufferedOnlyOnAMarkedDescriptorWithItsBytes() throws Throwable {
        Path file = dir.resolve("f");
        byte[] content = new byte[10_000];
        for (int i = 0; i < content.length; i++) content[i] = (byte) (i * 13);
        Files.write(file, content);
        install(READ, List.of(READ_PLAN));
        MethodHandle read = LINKER.downcallHandle(MemorySegment.ofAddress(region),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), 0);
            assertTrue(fd > 0);
            MemorySegment buf = arena.allocate(8192);
            assertEquals(4000L, (long) read.invokeExact((long) fd, buf, 4000L));
            assertEquals(0, entries().size(), "not marked: the stub's traced call");
            setWord(BufferStub.fdWordAddress(data, fd), BufferStub.fdBit(fd));
            assertEquals(4000L, (long) read.invokeExact((long) fd, buf, 4000L));
            assertEquals(2000L, (long) read.invokeExact((long) fd, buf, 8192L));
            assertEquals(0L, (long) read.invokeExact((long) fd, buf, 8192L));
            List<BufferStub.Entry> e = entries();
            assertEquals(3, e.size());
            assertArrayEquals(Arrays.copyOfRange(content, 4000, 8000), e.get(0).blocks().getFirst().data());
            assertEquals(1, e.get(0).blocks().getFirst().arg());
            assertEquals(buf.address(), e.get(0).args()[1]);
            assertArrayEquals(Arrays.copyOfRange(content, 8000, 10_000), e.get(1).blocks().getFirst().data());
            assertEquals(0, e.get(2).result());
            assertEquals(List.of(), e.get(2).blocks(), "nothing read, nothing kept");
            // Larger than a buffered call's output may be: the traced call.
            assertEquals(0L, (long) read.invokeExact((long) fd, buf, (long) BufferStub.MAX_OUT + 1));
            assertEquals(3, entries().size());
            int r = (int) CLOSE.invokeExact(fd);
            assertEquals(0, r);
        }
    }

    @Test
    void aStatKeepsItsPathWithTheNulAndTheStructOnlyWhenItSucceeded() throws Throwable {
        install(NEWFSTATAT, List.of(GETPID_PLAN, STAT_PLAN));
        MethodHandle stat = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(144);
            MemorySegment name = arena.allocateFrom(dir.toString());
            assertEquals(0L, (long) stat.invokeExact(-100L, name, buf, 0L));
            MemorySegment missing = arena.allocateFrom(dir + "/none");
            assertEquals(-2L, (long) stat.invokeExact(-100L, missing, buf, 0L));
            List<BufferStub.Entry> e = entries();
            assertEquals(2, e.size());
            assertEquals(2, e.get(0).blocks().size());
            assertArrayEquals((dir + "\0").getBytes(StandardCharsets.UTF_8), e.get(0).blocks().get(0).data());
            assertEquals(2, e.get(0).blocks().get(1).arg());
            assertArrayEquals(buf.toArray(ValueLayout.JAVA_BYTE), e.get(0).blocks().get(1).data());
            assertEquals(1, e.get(1).blocks().size(), "the path only");
            assertEquals(-100L, e.get(1).args()[0]);
        }
    }

    @Test
    void offOrFullTheStubMakesTheCallWithoutBuffering() throws Throwable {
        install(GETPID_RCX, List.of(GETPID_PLAN));
        MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        setWord(BufferStub.enabledAddress(data), 0);
        long after = region + indexOf(GETPID_RCX) + 2;
        assertEquals(after, (long) f.invokeExact());
        assertEquals(0, entries().size());
        setWord(BufferStub.enabledAddress(data), 1);
        for (int i = 0; i < 3; i++) assertEquals(after, (long) f.invokeExact());
        assertEquals(3, entries().size());
        // The limit: no entry starts past it.
        setWord(data + 16, word(BufferStub.cursorAddress(data)));
        assertEquals(after, (long) f.invokeExact());
        assertEquals(3, entries().size());
    }

    /** Builds each function's stub at its own place of the region: function i at region + 0x100 * i, its stub a page of its own. */
    private MethodHandle[] installAll(List<byte[]> functions, List<BufferStub.Plan> plans, FunctionDescriptor... shapes)
            throws GuardStub.Refused {
        MethodHandle[] out = new MethodHandle[functions.size()];
        for (int i = 0; i < functions.size(); i++) {
            byte[] f = functions.get(i);
            long at = region + 0x100L * i;
            BufferStub s = BufferStub.build(f, at, at + indexOf(f), region + 0x10000 + 0x1000L * i, data,
                    List.of(plans.get(i)), MARKER);
            write(at, f);
            write(s.codeAddress(), s.code());
            write(s.patchAddress(), s.patch());
            out[i] = LINKER.downcallHandle(MemorySegment.ofAddress(at), shapes[i]);
        }
        return out;
    }

    private boolean marked(int fd) {
        return (word(BufferStub.fdWordAddress(data, fd)) & BufferStub.fdBit(fd)) != 0;
    }

    @Test
    void anOpenThatCannotWaitIsBufferedAndItsFileMarkedWhileNoFileSystemIsServed() throws Throwable {
        Path file = dir.resolve("g");
        Files.writeString(file, "hello, buffer\n");
        FunctionDescriptor four = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        FunctionDescriptor one = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        FunctionDescriptor three = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG);
        MethodHandle[] f = installAll(List.of(OPENAT, CLOSE_FN, WRITE), List.of(OPENAT_PLAN, CLOSE_PLAN, WRITE_PLAN),
                four, one, three);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(file.toString());
            long fd = (long) f[0].invokeExact(-100L, name, 0L, 0L);
            assertTrue(fd > 0);
            assertEquals(0, entries().size(), "an open that may wait (a FIFO): the traced call");
            assertEquals(0, (long) f[1].invokeExact(fd));
            assertEquals(0, entries().size(), "a close of a descriptor not marked: the traced call");
            fd = (long) f[0].invokeExact(-100L, name, O_NONBLOCK, 0L);
            assertEquals(1, entries().size());
            assertTrue(!marked((int) fd), "a file system may be served: deja marks it at the next stop, or not");
            assertEquals(0, (long) f[1].invokeExact(fd));
            setWord(BufferStub.noneServedAddress(data), 1);
            long fd2 = (long) f[0].invokeExact(-100L, name, O_NONBLOCK | 01 /* O_WRONLY */, 0L);
            assertTrue(marked((int) fd2), "a regular file, none served: marked by the stub's own fstat");
            MemorySegment text = arena.allocateFrom("written");
            assertEquals(7L, (long) f[2].invokeExact(fd2, text, 7L));
            assertEquals(0, (long) f[1].invokeExact(fd2));
            assertTrue(!marked((int) fd2), "the close takes its mark");
            List<BufferStub.Entry> e = entries();
            // the first close was of a descriptor not marked: the traced call
            assertEquals(List.of(257, 257, 1, 3), e.stream().map(BufferStub.Entry::nr).toList());
            assertArrayEquals((file + "\0").getBytes(StandardCharsets.UTF_8), e.get(0).blocks().getFirst().data());
            assertArrayEquals("written".getBytes(StandardCharsets.UTF_8), e.get(2).blocks().getFirst().data(),
                    "a write keeps the bytes the kernel took");
            assertEquals(fd2, e.get(1).result());
        }
    }

    @Test
    void anOpenThatMayWaitIsBufferedWhenTheStubsStatFindsAFileOrADirectory() throws Throwable {
        Path file = dir.resolve("h");
        Files.writeString(file, "plain\n");
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        Path link = dir.resolve("link");
        Files.createSymbolicLink(link, file);
        FunctionDescriptor four = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        FunctionDescriptor openDesc = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG);
        MethodHandle[] f = installAll(List.of(OPENAT, OPEN_FN), List.of(OPENAT_PLAN, OPEN_PLAN), four, openDesc);
        setWord(BufferStub.noneServedAddress(data), 1);
        try (Arena arena = Arena.ofConfined()) {
            long fd = (long) f[0].invokeExact(-100L, arena.allocateFrom(file.toString()), 0L, 0L);
            assertTrue(fd > 0 && marked((int) fd), "a regular file: buffered, and marked");
            close(fd);
            fd = (long) f[1].invokeExact(arena.allocateFrom(dir.toString()), 0L, 0L);
            assertTrue(fd > 0 && marked((int) fd), "open(2) of a directory: its path is argument 0");
            close(fd);
            assertEquals(2, entries().size());
            fd = (long) f[0].invokeExact(-100L, arena.allocateFrom(fifo.toString()), 02L /* O_RDWR: no wait here */, 0L);
            assertTrue(fd > 0, "the traced call, with the program's registers: " + fd);
            close(fd);
            long created = (long) f[0].invokeExact(-100L, arena.allocateFrom(dir.resolve("new").toString()),
                    0101L /* O_CREAT|O_WRONLY */, 0600L);
            assertTrue(created > 0 && Files.exists(dir.resolve("new")), "no such file yet: the traced call creates it");
            close(created);
            long loop = (long) f[0].invokeExact(-100L, arena.allocateFrom(link.toString()), 0400000L /* O_NOFOLLOW */, 0L);
            assertEquals(-40L, loop, "a symlink under O_NOFOLLOW: the traced call, ELOOP");
            assertEquals(2, entries().size(), "a FIFO, a file to create and a symlink not followed are not buffered");
            fd = (long) f[0].invokeExact(-100L, arena.allocateFrom(link.toString()), 0L, 0L);
            assertTrue(fd > 0, "a symlink followed to a file: buffered");
            close(fd);
            assertEquals(-2L, (long) f[1].invokeExact(arena.allocateFrom(dir.resolve("missing").toString()), 0L, 0L),
                    "nothing there and nothing to create: buffered, ENOENT");
            List<BufferStub.Entry> e = entries();
            assertEquals(List.of(257, 2, 257, 2), e.stream().map(BufferStub.Entry::nr).toList());
            assertArrayEquals((link + "\0").getBytes(StandardCharsets.UTF_8), e.get(2).blocks().getFirst().data());
            assertEquals(-2L, e.get(3).result());
            setWord(BufferStub.noneServedAddress(data), 0);
            fd = (long) f[0].invokeExact(-100L, arena.allocateFrom(file.toString()), 0L, 0L);
            close(fd);
            assertEquals(4, entries().size(), "a file system may be served: an open that may wait is traced");
        }
    }

    @Test
    void rtSigactionKeepsTheActionItWasGivenAndTheOneItGaveBack() throws Throwable {
        MethodHandle f = installAll(List.of(SIGACTION), List.of(SIGACTION_PLAN), FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG))[0];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(32);
            MemorySegment again = arena.allocate(32);
            long sigusr2 = 12;
            assertEquals(0L, (long) f.invokeExact(sigusr2, 0L, old.address(), 8L));
            again.copyFrom(old);
            assertEquals(0L, (long) f.invokeExact(sigusr2, again.address(), old.address(), 8L), "the same action again");
            assertEquals(0L, (long) f.invokeExact(sigusr2, again.address(), again.address(), 8L));
            assertEquals(-22L, (long) f.invokeExact(sigusr2, again.address(), old.address(), 16L));
            List<BufferStub.Entry> e = entries();
            assertEquals(2, e.size(), "one pointer for both, or another sigset size: the traced call");
            assertEquals(List.of(2), e.get(0).blocks().stream().map(BufferStub.Block::arg).toList(), "no action given");
            assertEquals(List.of(1, 2), e.get(1).blocks().stream().map(BufferStub.Block::arg).toList());
            assertArrayEquals(old.toArray(ValueLayout.JAVA_BYTE), e.get(1).blocks().get(0).data());
            assertArrayEquals(old.toArray(ValueLayout.JAVA_BYTE), e.get(1).blocks().get(1).data());
        }
    }

    private static void close(long fd) throws Throwable {
        int r = (int) CLOSE.invokeExact((int) fd);
        assertEquals(0, r);
    }

    @Test
    void fcntlIsBufferedForTheCommandsThatNeitherWaitNorTouchMemory() throws Throwable {
        MethodHandle fcntl = installAll(List.of(FCNTL), List.of(FCNTL_PLAN), FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG))[0];
        assertTrue((long) fcntl.invokeExact(1L, 3L /* F_GETFL */, 0L) >= 0);
        assertEquals(1, entries().size());
        long dup = (long) fcntl.invokeExact(1L, 0L /* F_DUPFD */, 100L);
        assertTrue(dup >= 100);
        assertEquals(1, entries().size(), "F_DUPFD makes a descriptor: the traced call");
        int r = (int) CLOSE.invokeExact((int) dup);
        assertEquals(0, r);
    }

    @Test
    void aPrivateAnonymousMappingIsBufferedWithTheProgramsRegistersBackAndASharedOneIsNot() throws Throwable {
        // mov r10, rcx; mov eax, 9; syscall; mov rdx, r8; ret: mmap(rdi, rsi, rdx, rcx, r8, r9), giving back r8 after it
        byte[] code = bytes("49 89 ca b8 09 00 00 00 0f 05 4c 89 c2 c3");
        BufferStub s = install(code, List.of(BufferStub.Plan.privateMapping(9)));
        assertTrue(s.mappingTrap() > s.codeAddress(), "a trap for files mapped");
        try (Arena arena = Arena.ofConfined()) {
            java.lang.foreign.StructLayout pair = java.lang.foreign.MemoryLayout.structLayout(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
            MethodHandle f = LINKER.downcallHandle(MemorySegment.ofAddress(region), FunctionDescriptor.of(pair,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            // The kernel ignores an anonymous mapping's descriptor, the marker's high half over its -1 included
            MemorySegment r = (MemorySegment) f.invokeExact((java.lang.foreign.SegmentAllocator) arena, 0L, 8192L, 3L, 0x22L, -1L, 0L);
            long at = r.get(ValueLayout.JAVA_LONG, 0);
            assertTrue(at > 0 && at < 1L << 47, "mapped at 0x" + Long.toHexString(at));
            assertEquals(-1L, r.get(ValueLayout.JAVA_LONG, 8), "the program's r8 back");
            MemorySegment.ofAddress(at).reinterpret(8192).fill((byte) 1); // writable, as asked
            List<BufferStub.Entry> e = entries();
            assertEquals(1, e.size());
            assertEquals(9, e.getFirst().nr());
            assertEquals(at, e.getFirst().result());
            assertEquals(-1L, e.getFirst().args()[4], "the descriptor as the program gave it");
            assertEquals(0, word(data + 8L * BufferStub.MAPPED_FILE), "no file mapped: no trap");
            // Shared (it could write a file): made at the stub's traced syscall, as the program's, not buffered
            r = (MemorySegment) f.invokeExact((java.lang.foreign.SegmentAllocator) arena, 0L, 4096L, 3L, 0x21L, -1L, 0L);
            long shared = r.get(ValueLayout.JAVA_LONG, 0);
            assertTrue(shared > 0, "0x" + Long.toHexString(shared));
            assertEquals(1, entries().size());
            int u = (int) MUNMAP.invokeExact(at, 8192L);
            assertEquals(0, u);
            u = (int) MUNMAP.invokeExact(shared, 4096L);
            assertEquals(0, u);
        }
    }

    @Test
    void entriesThatDoNotParseAreRefused() {
        byte[] bad = new byte[BufferStub.HEADER];
        assertThrows(IllegalArgumentException.class, () -> BufferStub.entries(bad));
        assertThrows(IllegalArgumentException.class, () -> BufferStub.entries(new byte[8]));
    }

    private static int indexOf(byte[] code) {
        for (int i = 0; i + 1 < code.length; i++) if (code[i] == 0x0f && code[i + 1] == 0x05) return i;
        throw new IllegalArgumentException("no syscall");
    }

    private static void write(long address, byte[] bytes) {
        MemorySegment.ofAddress(address).reinterpret(bytes.length).copyFrom(MemorySegment.ofArray(bytes));
    }

    private static long word(long address) {
        return MemorySegment.ofAddress(address).reinterpret(8).get(ValueLayout.JAVA_LONG, 0);
    }

    private static void setWord(long address, long value) {
        MemorySegment.ofAddress(address).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, value);
    }

    private static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }
}
