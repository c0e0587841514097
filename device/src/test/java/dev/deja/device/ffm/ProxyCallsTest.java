package dev.deja.device.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class ProxyCallsTest {

    private static MemorySegment text(String s) {
        return MemorySegment.ofArray(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aFieldOfFdinfoIsTheNumberAfterItsKeyAtALineStart() {
        String fdinfo = "pos:\t0\nflags:\t02100000\nmnt_id:\t27\nino:\t1234\n";
        assertEquals(27, ProxyCalls.field(text(fdinfo), "mnt_id:"));
        assertEquals(0, ProxyCalls.field(text(fdinfo), "pos:"));
        assertEquals(1234, ProxyCalls.field(text(fdinfo), "ino:"));
        // the last line without its newline, a key only inside a line, a missing key, an empty value
        assertEquals(5, ProxyCalls.field(text("pos:\t0\nmnt_id:\t5"), "mnt_id:"));
        assertEquals(-1, ProxyCalls.field(text("pos:\t0 mnt_id:\t5\n"), "mnt_id:"));
        assertEquals(-1, ProxyCalls.field(text("pos:\t0\n"), "mnt_id:"));
        assertEquals(-1, ProxyCalls.field(text("mnt_id:\t\n"), "mnt_id:"));
        assertEquals(-1, ProxyCalls.field(text(""), "mnt_id:"));
    }

    @Test
    void theMountOfADescriptorIsReadFromFdinfo() throws Exception {
        // a file of /proc opened here: its descriptor's mount is the one mountinfo lists at /proc
        long procMount = -1;
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f[4].equals("/proc")) procMount = Long.parseLong(f[0]);
        }
        Assumptions.assumeTrue(procMount >= 0, "no /proc mount listed");
        Path status = Path.of("/proc/self/status").toRealPath();
        try (ProxyCalls proxy = new ProxyCalls(); var in = new FileInputStream(status.toFile())) {
            int pid = (int) ProcessHandle.current().pid();
            int fd = -1;
            try (var fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
                for (Path link : fds) {
                    if (Files.readSymbolicLink(link).equals(status)) fd = Integer.parseInt(link.getFileName().toString());
                }
            }
            assertTrue(in.getFD().valid());
            assertEquals(procMount, proxy.descriptorMountId(pid, fd));
            assertEquals(-1, proxy.descriptorMountId(pid, 1 << 20)); // no such descriptor
        }
    }
}
