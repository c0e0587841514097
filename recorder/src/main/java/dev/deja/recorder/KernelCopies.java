package dev.deja.recorder;

import dev.deja.device.Tracee;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.MemoryCapture;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes sendfile, copy_file_range and splice move inside the kernel to deja's own standard
 * output or error (the descriptors the program inherited from deja): no user buffer ever holds them,
 * so they are read back from the source file at the call's exit and kept as an input block hanging
 * off the call's count argument (address 0), which replay writes out as the recorded output.
 * A source that is not a regular file (a pipe, a socket) cannot be read again without taking its
 * data: those copies stay a documented limit.
 */
final class KernelCopies {
    private final int sendfile;
    private final int copyFileRange;
    private final int splice;
    /** deja's own stdout and stderr, by file identity (dev and inode). */
    private final Object stdout;
    private final Object stderr;

    KernelCopies() {
        SyscallTable table = SyscallTable.of(Arch.current());
        sendfile = table.number("sendfile").orElse(-1);
        copyFileRange = table.number("copy_file_range").orElse(-1);
        splice = table.number("splice").orElse(-1);
        stdout = identity(Path.of("/proc/self/fd/1"));
        stderr = identity(Path.of("/proc/self/fd/2"));
    }

    /** The index of the count argument under which the moved bytes are kept, or -1 for other calls. */
    static int countArg(String name) {
        return switch (name) {
            case "sendfile" -> 3;
            case "copy_file_range", "splice" -> 4;
            default -> -1;
        };
    }

    /** {@code event}, with the bytes it moved to deja's stdout or stderr added when they can be read again. */
    SyscallEvent withMovedBytes(SyscallEvent event, Tracee tracee) {
        int nr = event.nr();
        if (nr < 0 || (nr != sendfile && nr != copyFileRange && nr != splice)) return event;
        // Up to the recorder's largest block: a bigger copy stays unrecorded (replay warns) rather than fill the heap.
        if (!event.returned() || event.failed() || event.result() <= 0 || event.result() > MemoryCapture.MAX_BLOCK) return event;
        boolean isSendfile = nr == sendfile;
        int inFd = (int) event.arg(isSendfile ? 1 : 0);
        int outFd = (int) event.arg(isSendfile ? 0 : 2);
        long offsetPtr = event.arg(isSendfile ? 2 : 1);
        Path proc = Path.of("/proc", Integer.toString(event.pid()));
        Object out = identity(proc.resolve("fd/" + outFd));
        if (out == null || !(out.equals(stdout) || out.equals(stderr))) return event;
        Path source = proc.resolve("fd/" + inFd);
        if (!Files.isRegularFile(source)) return event;
        long end = offsetPtr != 0 ? offsetAt(tracee, offsetPtr) : position(proc.resolve("fdinfo/" + inFd));
        long start = end - event.result();
        if (end < 0 || start < 0) return event;
        byte[] data = readAt(source, start, (int) event.result());
        if (data.length == 0) return event;
        List<MemoryBlock> inputs = new ArrayList<>(event.inputs());
        inputs.add(new MemoryBlock(countArg(isSendfile ? "sendfile" : "splice"), 0, data));
        return new SyscallEvent(event.seq(), event.pid(), event.tid(), event.timeNs(), event.exitTimeNs(), event.nr(),
                event.args(), inputs, event.result(), event.outputs(), event.flags());
    }

    /** The offset the kernel left in the caller's loff_t (it adds what it moved), -1 when unreadable. */
    private static long offsetAt(Tracee tracee, long address) {
        byte[] b = new byte[8];
        if (tracee.memory().read(address, b, 0, 8) != 8) return -1;
        return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getLong();
    }

    /** The descriptor's file position from /proc/PID/fdinfo/FD, -1 when unreadable. */
    private static long position(Path fdinfo) {
        try {
            for (String line : Files.readAllLines(fdinfo)) {
                if (line.startsWith("pos:")) return Long.parseLong(line.substring(4).trim());
            }
        } catch (IOException | NumberFormatException e) {
            return -1; // the process or descriptor is gone: nothing to read again
        }
        return -1;
    }

    /** Up to {@code length} bytes of the file at {@code start} (fewer if it shrank since). */
    private static byte[] readAt(Path source, long start, int length) {
        try (FileChannel ch = FileChannel.open(source, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(length);
            long at = start;
            while (buf.hasRemaining()) {
                int n = ch.read(buf, at);
                if (n <= 0) break;
                at += n;
            }
            byte[] data = new byte[buf.position()];
            buf.flip().get(data);
            return data;
        } catch (IOException e) {
            return new byte[0]; // unreadable now: replay warns that these bytes are missing, as before
        }
    }

    private static Object identity(Path fd) {
        try {
            return Files.readAttributes(fd, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }
}
