package dev.deja.cli;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * What a recorded run wrote to its standard output and error, read back from the recording: the
 * bytes every process of the tree passed to write(2) and writev(2) on descriptors 1 and 2, and those
 * sendfile, copy_file_range and splice moved there from a file (as many
 * as the kernel took). Read after the run, so that deja never runs a second reader beside the trace.
 */
record RecordedOutput(String stdout, String stderr) {

    static RecordedOutput of(Path recording) throws RecordingException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (Recording rec = Recording.open(recording); EventReader events = rec.events()) {
            SyscallTable table = SyscallTable.of(Arch.parse(rec.header().arch()));
            int write = table.number("write").orElse(-1);
            int writev = table.number("writev").orElse(-1);
            int sendfile = table.number("sendfile").orElse(-1);
            int copyFileRange = table.number("copy_file_range").orElse(-1);
            int splice = table.number("splice").orElse(-1);
            Event e;
            while ((e = events.next()) != null) {
                if (!(e instanceof SyscallEvent s) || !s.returned() || s.failed() || s.result() <= 0) continue;
                long fd;
                byte[] data;
                if (s.nr() == write || s.nr() == writev) {
                    fd = s.arg(0);
                    // write's buffer is argument 1; writev's buffers are the blocks the iovecs point at (argument -1).
                    data = bytes(s, s.nr() == write ? 1 : -1);
                } else if (s.nr() == sendfile) {
                    fd = s.arg(0);
                    data = bytes(s, 3); // what a kernel copy moved, kept under its count argument
                } else if (s.nr() == copyFileRange || s.nr() == splice) {
                    fd = s.arg(2);
                    data = bytes(s, 4);
                } else {
                    continue;
                }
                if (fd != 1 && fd != 2) continue;
                int n = (int) Math.min(data.length, s.result());
                (fd == 1 ? out : err).write(data, 0, n);
            }
        }
        return new RecordedOutput(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static byte[] bytes(SyscallEvent s, int arg) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (MemoryBlock m : s.inputs()) if (m.arg() == arg) b.writeBytes(m.data());
        return b.toByteArray();
    }
}
