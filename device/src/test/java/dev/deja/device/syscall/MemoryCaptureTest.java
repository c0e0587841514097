package dev.deja.device.syscall;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryCaptureTest {

    static final MemoryCapture X86 = MemoryCapture.of(Arch.X86_64);
    static final SyscallTable T = SyscallTable.of(Arch.X86_64);

    static int nr(String name) {
        return T.number(name).orElseThrow();
    }

    static long[] args(long... a) {
        long[] r = new long[6];
        System.arraycopy(a, 0, r, 0, a.length);
        return r;
    }

    static String str(MemoryBlock b) {
        return new String(b.data(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void callsWithoutMemoryCostNothing() {
        FakeMemory m = new FakeMemory(64);
        assertSame(List.of(), X86.inputs(nr("getppid"), args(), m));
        assertSame(List.of(), X86.outputs(nr("getppid"), args(), 42, List.of(), m));
        assertEquals(0, m.reads);
        assertEquals(0, X86.flags(nr("getppid"), args()));
    }

    @Test
    void readOutputIsLimitedByTheResult() {
        FakeMemory m = new FakeMemory(256);
        long buf = m.alloc(100);
        m.fill(buf, "vm\nXXXXXXXX");
        long[] a = args(3, buf, 100);
        assertEquals(List.of(), X86.inputs(nr("read"), a, m));
        List<MemoryBlock> out = X86.outputs(nr("read"), a, 3, List.of(), m);
        assertEquals(1, out.size());
        assertEquals(1, out.get(0).arg());
        assertEquals(buf, out.get(0).address());
        assertEquals("vm\n", str(out.get(0)));
        assertEquals(List.of(), X86.outputs(nr("read"), a, -9, List.of(), m), "a failed call writes nothing");
        assertEquals(List.of(), X86.outputs(nr("read"), a, 0, List.of(), m), "EOF writes nothing");
    }

    /**
     * get_mempolicy writes its mode word and a node mask of whole longs for maxnode - 1 bits (libnuma under
     * ZGC passes 1025: 128 bytes); without a schema neither was kept, and a replay left them unwritten.
     */
    @Test
    void numaNodeMasksAreWholeLongsOfMaxnodeMinusOneBits() {
        assertEquals(0, MemoryCapture.nodeMaskBytes(0));
        assertEquals(0, MemoryCapture.nodeMaskBytes(1));
        assertEquals(8, MemoryCapture.nodeMaskBytes(2));
        assertEquals(8, MemoryCapture.nodeMaskBytes(65));
        assertEquals(16, MemoryCapture.nodeMaskBytes(66));
        assertEquals(128, MemoryCapture.nodeMaskBytes(1024));
        assertEquals(128, MemoryCapture.nodeMaskBytes(1025));
        assertEquals(4096, MemoryCapture.nodeMaskBytes(-1), "at most a page, as the kernel takes");
        FakeMemory m = new FakeMemory(1024);
        long mode = m.alloc(4);
        long mask = m.alloc(128);
        long[] a = args(mode, mask, 1025, 0, 0);
        List<MemoryBlock> out = X86.outputs(nr("get_mempolicy"), a, 0, List.of(), m);
        assertEquals(2, out.size());
        assertEquals(0, out.get(0).arg());
        assertEquals(4, out.get(0).data().length);
        assertEquals(1, out.get(1).arg());
        assertEquals(mask, out.get(1).address());
        assertEquals(128, out.get(1).data().length);
        assertEquals(0, X86.flags(nr("get_mempolicy"), a), "a schema'd call is no longer flagged UNKNOWN_WRITES");
        assertEquals(List.of(), X86.outputs(nr("get_mempolicy"), a, -22, List.of(), m), "EINVAL writes nothing");
        assertEquals(1, X86.outputs(nr("get_mempolicy"), args(mode, 0, 0, 0x1000, 3), 0, List.of(), m).size(),
                "MPOL_F_NODE|MPOL_F_ADDR: the node in the mode word, no mask");
        assertEquals(128, X86.inputs(nr("set_mempolicy"), args(5, mask, 1024), m).getFirst().data().length);
        assertEquals(16, X86.inputs(nr("mbind"), args(0x1000, 4096, 2, mask, 129, 0), m).getFirst().data().length);
    }

    @Test
    void writeInputIsBoundedByTheCount() {
        FakeMemory m = new FakeMemory(64);
        long buf = m.put("hello world".getBytes(StandardCharsets.US_ASCII));
        List<MemoryBlock> in = X86.inputs(nr("write"), args(1, buf, 5), m);
        assertEquals(1, in.size());
        assertEquals("hello", str(in.get(0)));
    }

    @Test
    void pathsStopAtNulOrAFault() {
        FakeMemory m = new FakeMemory(8192);
        long p = m.cstr("/etc/hosts");
        List<MemoryBlock> in = X86.inputs(nr("openat"), args(-100, p, 0), m);
        assertEquals(1, in.size());
        assertArrayEquals("/etc/hosts\0".getBytes(StandardCharsets.US_ASCII), in.get(0).data());
        // a string running into unmapped memory keeps its readable prefix, without NUL
        long tail = m.end() - 5;
        m.fill(tail, "abcde");
        in = X86.inputs(nr("openat"), args(-100, tail, 0), m);
        assertEquals("abcde", str(in.get(0)));
        // an unreadable pointer yields nothing
        assertEquals(List.of(), X86.inputs(nr("openat"), args(-100, 0xdead0000L, 0), m));
        // a string longer than PATH_MAX is cut at PATH_MAX
        FakeMemory big = new FakeMemory(3 * 4096);
        long s = big.alloc(3 * 4096);
        for (int i = 0; i < 3 * 4096; i++) big.bytes[i] = 'a';
        in = X86.inputs(nr("openat"), args(-100, s, 0), big);
        assertEquals(MemoryCapture.PATH_MAX, in.get(0).length());
    }

    @Test
    void readvIovecsAreFilledInOrderUpToTheResult() {
        FakeMemory m = new FakeMemory(256);
        long b1 = m.alloc(3);
        long b2 = m.alloc(10);
        long b3 = m.alloc(10);
        m.fill(b1, "abc");
        m.fill(b2, "defXXXXXXX");
        long iov = m.iovecs(b1, 3, b2, 10, b3, 10);
        long[] a = args(3, iov, 3);
        List<MemoryBlock> in = X86.inputs(nr("readv"), a, m);
        assertEquals(1, in.size(), "the iovec array, not the buffers");
        assertEquals(48, in.get(0).length());
        List<MemoryBlock> out = X86.outputs(nr("readv"), a, 6, in, m);
        assertEquals(2, out.size());
        assertEquals("abc", str(out.get(0)));
        assertEquals(-1, out.get(0).arg());
        assertEquals("def", str(out.get(1)));
    }

    @Test
    void writevCapturesElementBuffersAtEntry() {
        FakeMemory m = new FakeMemory(256);
        long b1 = m.put("ab".getBytes(StandardCharsets.US_ASCII));
        long b2 = m.put("cdef".getBytes(StandardCharsets.US_ASCII));
        long iov = m.iovecs(b1, 2, b2, 4);
        List<MemoryBlock> in = X86.inputs(nr("writev"), args(4, iov, 2), m);
        assertEquals(3, in.size());
        assertEquals(1, in.get(0).arg());
        assertEquals("ab", str(in.get(1)));
        assertEquals("cdef", str(in.get(2)));
    }

    @Test
    void recvmsgFillsIovecsUpToTheResultAndNameByTheUpdatedLength() {
        FakeMemory m = new FakeMemory(1024);
        long b1 = m.alloc(4);
        long b2 = m.alloc(16);
        long name = m.alloc(128);
        long iov = m.iovecs(b1, 4, b2, 16);
        long msg = m.alloc(56);
        m.i64(msg, name);
        m.i32(msg + 8, 128);
        m.i64(msg + 16, iov);
        m.i64(msg + 24, 2);
        long[] a = args(6, msg, 0);
        List<MemoryBlock> in = X86.inputs(nr("recvmsg"), a, m);
        assertEquals(2, in.size(), "msghdr and iovec array");
        // the kernel receives 6 bytes from 127.0.0.1:80 and shrinks msg_namelen to 16
        m.fill(b1, "abcd");
        m.fill(b2, "ef");
        m.u16(name, 2);
        m.i32(msg + 8, 16);
        List<MemoryBlock> out = X86.outputs(nr("recvmsg"), a, 6, in, m);
        assertEquals(4, out.size(), out.toString());
        assertEquals(msg, out.get(0).address());
        assertEquals(1, out.get(0).arg());
        assertEquals(name, out.get(1).address());
        assertEquals(16, out.get(1).length());
        assertEquals("abcd", str(out.get(2)));
        assertEquals("ef", str(out.get(3)));
    }

    @Test
    void getsocknameIsSizedByTheLengthWord() {
        FakeMemory m = new FakeMemory(512);
        long addr = m.alloc(128);
        long len = m.alloc(4);
        m.i32(len, 128);
        long[] a = args(6, addr, len);
        List<MemoryBlock> in = X86.inputs(nr("getsockname"), a, m);
        assertEquals(1, in.size());
        assertEquals(len, in.get(0).address());
        m.i32(len, 16); // the kernel wrote a 16-byte sockaddr_in
        List<MemoryBlock> out = X86.outputs(nr("getsockname"), a, 0, in, m);
        assertEquals(2, out.size());
        assertEquals(16, out.get(0).length());
        assertEquals(1, out.get(0).arg());
        assertEquals(4, out.get(1).length());
        assertEquals(2, out.get(1).arg());
        // a kernel length larger than the buffer (truncated address) is bounded by the entry length
        m.i32(len, 8);
        in = X86.inputs(nr("getsockname"), a, m);
        m.i32(len, 110);
        assertEquals(8, X86.outputs(nr("getsockname"), a, 0, in, m).get(0).length());
    }

    @Test
    void pipe2WritesTwoInts() {
        FakeMemory m = new FakeMemory(64);
        long fds = m.alloc(8);
        m.i32(fds, 3);
        m.i32(fds + 4, 4);
        List<MemoryBlock> out = X86.outputs(nr("pipe2"), args(fds, 0), 0, List.of(), m);
        assertEquals(1, out.size());
        assertEquals(8, out.get(0).length());
        assertEquals(0, out.get(0).arg());
    }

    @Test
    void pollReadsPollfdsAtEntryAndRevenstAtExit() {
        FakeMemory m = new FakeMemory(64);
        long fds = m.alloc(16);
        m.i32(fds, 3);
        m.u16(fds + 4, 1);
        m.i32(fds + 8, 4);
        m.u16(fds + 12, 4);
        long[] a = args(fds, 2, 100);
        List<MemoryBlock> in = X86.inputs(nr("poll"), a, m);
        assertEquals(16, in.get(0).length());
        m.u16(fds + 14, 4);
        List<MemoryBlock> out = X86.outputs(nr("poll"), a, 1, in, m);
        assertEquals(16, out.get(0).length());
        assertEquals(4, out.get(0).byteAt(14));
    }

    @Test
    void ioctlSizesComeFromTheKnownTableOrTheIocEncoding() {
        FakeMemory m = new FakeMemory(256);
        long p = m.alloc(64);
        int ioctl = nr("ioctl");
        // known old-style requests
        assertEquals(8, X86.outputs(ioctl, args(1, 0x5413, p), 0, List.of(), m).get(0).length()); // TIOCGWINSZ
        assertEquals(4, X86.outputs(ioctl, args(3, 0x541B, p), 0, List.of(), m).get(0).length()); // FIONREAD
        assertEquals(36, X86.outputs(ioctl, args(0, 0x5401, p), 0, List.of(), m).get(0).length()); // TCGETS
        assertEquals(36, X86.inputs(ioctl, args(0, 0x5402, p), m).get(0).length()); // TCSETS
        assertEquals(List.of(), X86.outputs(ioctl, args(3, 0x5451, 0), 0, List.of(), m)); // FIOCLEX
        assertEquals(0, X86.flags(ioctl, args(3, 0x5451, 0)));
        // _IOR('x', 1, 24 bytes): the kernel writes 24 bytes
        long ior = 2L << 30 | 24L << 16 | 'x' << 8 | 1;
        assertEquals(24, X86.outputs(ioctl, args(3, ior, p), 0, List.of(), m).get(0).length());
        assertEquals(List.of(), X86.inputs(ioctl, args(3, ior, p), m));
        // _IOW('x', 2, 12 bytes): an input of 12 bytes
        long iow = 1L << 30 | 12L << 16 | 'x' << 8 | 2;
        assertEquals(12, X86.inputs(ioctl, args(3, iow, p), m).get(0).length());
        assertEquals(List.of(), X86.outputs(ioctl, args(3, iow, p), 0, List.of(), m));
        // _IOWR: both
        long iowr = 3L << 30 | 16L << 16 | 'x' << 8 | 3;
        assertEquals(16, X86.inputs(ioctl, args(3, iowr, p), m).get(0).length());
        assertEquals(16, X86.outputs(ioctl, args(3, iowr, p), 0, List.of(), m).get(0).length());
        assertEquals(0, X86.flags(ioctl, args(3, iowr, p)));
        // an unknown request whose direction says nothing: flagged
        assertEquals(SyscallEvent.UNKNOWN_WRITES, X86.flags(ioctl, args(3, 0x1234, p)));
        assertEquals(List.of(), X86.outputs(ioctl, args(3, 0x1234, p), 0, List.of(), m));
    }

    @Test
    void ioUringSetupAndSchemaLessCallsAreFlagged() {
        assertEquals(SyscallEvent.UNKNOWN_WRITES, X86.flags(nr("io_uring_setup"), args(8, 0)));
        assertEquals(SyscallEvent.UNKNOWN_WRITES, X86.flags(nr("kexec_load"), args()));
        assertEquals(0, X86.flags(nr("read"), args()));
    }

    @Test
    void execveCapturesArgvStrings() {
        FakeMemory m = new FakeMemory(512);
        long path = m.cstr("/bin/ls");
        long s0 = m.cstr("ls");
        long s1 = m.cstr("-la");
        long argv = m.alloc(24);
        m.i64(argv, s0);
        m.i64(argv + 8, s1);
        long envp = m.alloc(8);
        List<MemoryBlock> in = X86.inputs(nr("execve"), args(path, argv, envp), m);
        assertEquals(5, in.size(), in.toString());
        assertEquals(0, in.get(0).arg());
        assertEquals(24, in.get(1).length());
        assertEquals("ls\0", str(in.get(2)));
        assertEquals("-la\0", str(in.get(3)));
        assertEquals(-1, in.get(3).arg());
        assertEquals(8, in.get(4).length());
    }

    @Test
    void structsAreSizedPerArch() {
        FakeMemory m = new FakeMemory(512);
        long st = m.alloc(144);
        assertEquals(144, X86.outputs(nr("fstat"), args(1, st), 0, List.of(), m).get(0).length());
        MemoryCapture arm = MemoryCapture.of(Arch.AARCH64);
        int fstat = SyscallTable.of(Arch.AARCH64).number("fstat").orElseThrow();
        assertEquals(128, arm.outputs(fstat, args(1, st), 0, List.of(), m).get(0).length());
        int epollWait = SyscallTable.of(Arch.AARCH64).number("epoll_pwait").orElseThrow();
        assertEquals(32, arm.outputs(epollWait, args(7, st, 8, -1, 0, 8), 2, List.of(), m).get(0).length());
        assertEquals(24, X86.outputs(nr("epoll_wait"), args(7, st, 8, -1), 2, List.of(), m).get(0).length());
    }

    @Test
    void absurdSizesAreCapped() {
        FakeMemory m = new FakeMemory(64);
        long buf = m.alloc(16);
        List<MemoryBlock> in = X86.inputs(nr("write"), args(1, buf, -1L), m);
        assertTrue(in.get(0).length() <= 64, "only the readable prefix of a huge buffer");
        assertEquals(List.of(), X86.inputs(nr("write"), args(1, buf, 0), m));
        assertEquals(List.of(), X86.inputs(99999, args(), m));
        assertEquals(SyscallEvent.UNKNOWN_WRITES, X86.flags(99999, args()));
    }

    @Test
    void futexWaitTimeoutIsAnInputOnlyForWaitOps() {
        FakeMemory m = new FakeMemory(64);
        long ts = m.alloc(16);
        assertEquals(16, X86.inputs(nr("futex"), args(0x1000, 128, 2, ts), m).get(0).length());
        assertEquals(List.of(), X86.inputs(nr("futex"), args(0x1000, 129, 1, ts), m));
    }
}
