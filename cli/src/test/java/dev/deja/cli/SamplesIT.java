package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One C sample per family of syscalls, recorded through the launcher: each prints the values it got
 * from the kernel, and the recording must hold exactly those (results, output bytes, order).
 */
class SamplesIT {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.current());

    @TempDir
    Path home;

    private record Run(String stdout, List<Event> events) {
        List<SyscallEvent> calls(String name) {
            int nr = TABLE.number(name).orElseThrow();
            return events.stream().filter(e -> e instanceof SyscallEvent s && s.nr() == nr).map(e -> (SyscallEvent) e)
                    .sorted((a, b) -> Long.compare(a.seq(), b.seq())).toList();
        }

        /** The first group of {@code regex} in the program's output. */
        String printed(String regex) {
            Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(stdout);
            assertTrue(m.find(), "the program printed no line matching " + regex + ":\n" + stdout);
            return m.group(1);
        }
    }

    private Run record(String sample, String... args) throws Exception {
        Path rec = home.resolve(sample + "-rec");
        String[] cmd = new String[5 + 1 + args.length];
        cmd[0] = "record";
        cmd[1] = "-q";
        cmd[2] = "-o";
        cmd[3] = rec.toString();
        cmd[4] = "--";
        cmd[5] = Samples.path(sample);
        System.arraycopy(args, 0, cmd, 6, args.length);
        Runs.Result r = Runs.deja(home, cmd);
        assertEquals(0, r.status(), sample + " failed under deja: " + r.stderr());
        return new Run(r.stdout(), Runs.events(rec));
    }

    private static byte[] output(SyscallEvent e) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (MemoryBlock m : e.outputs()) b.writeBytes(m.data());
        return b.toByteArray();
    }

    /** The output block hanging off argument {@code arg}. */
    private static byte[] output(SyscallEvent e, int arg) {
        return e.outputs().stream().filter(m -> m.arg() == arg).findFirst().orElseThrow(
                () -> new AssertionError("no output of argument " + arg + " in " + e)).data();
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void randomBytesAreTheRecordedOutputs() throws Exception {
        Run run = record("random");
        // glibc's malloc takes 8 random bytes of its own; the program's call asks for 16.
        SyscallEvent getrandom = run.calls("getrandom").stream().filter(e -> e.arg(1) == 16).findFirst().orElseThrow();
        assertEquals(16, getrandom.result());
        assertEquals(run.printed("^getrandom bytes -> ([0-9a-f]{32})$"), HexFormat.of().formatHex(output(getrandom)));
        int fd = Integer.parseInt(run.printed("^open /dev/urandom -> fd (\\d+)"));
        SyscallEvent read = run.calls("read").stream().filter(e -> e.arg(0) == fd && e.arg(2) == 16).findFirst()
                .orElseThrow();
        assertEquals(run.printed("^urandom bytes -> ([0-9a-f]{32})$"), HexFormat.of().formatHex(output(read)));
    }

    @Test
    void clocksAreTheRecordedTimespecs() throws Exception {
        Run run = record("time");
        SyscallEvent realtime = run.calls("clock_gettime").stream().filter(e -> e.arg(0) == 0).findFirst().orElseThrow();
        ByteBuffer ts = le(output(realtime));
        assertEquals(run.printed("^clock_gettime CLOCK_REALTIME -> (\\d+\\.\\d{9})$"),
                String.format("%d.%09d", ts.getLong(0), ts.getLong(8)));
        ByteBuffer tv = le(output(run.calls("gettimeofday").getFirst()));
        assertEquals(run.printed("^gettimeofday -> (\\d+\\.\\d{6})$"), String.format("%d.%06d", tv.getLong(0), tv.getLong(8)));
        assertEquals(run.printed("^time -> (\\d+)$"), Long.toString(run.calls("time").getFirst().result()));
        assertEquals(0, run.calls("clock_nanosleep").getFirst().result());
    }

    @Test
    void fileCallsResultsAndBuffersAreRecorded(@TempDir Path dir) throws Exception {
        Run run = record("files", dir.toString());
        SyscallEvent read = run.calls("read").stream().filter(e -> e.result() == 15).findFirst().orElseThrow();
        assertEquals("recorded world", new String(output(read), StandardCharsets.US_ASCII).substring(0, 14));
        SyscallEvent readlink = run.calls("readlink").stream().filter(e -> e.result() == 8).findFirst().orElseThrow();
        assertEquals("data.txt", new String(output(readlink), StandardCharsets.US_ASCII));
        String names = run.printed("^getdents64 \\. -> \\d+ entries: (.*)$");
        String dents = run.calls("getdents64").stream().filter(e -> e.result() > 0)
                .map(e -> new String(output(e), StandardCharsets.ISO_8859_1)).reduce("", String::concat);
        for (String n : names.split(" ")) assertTrue(dents.contains(n), n + " not in the recorded entries");
        SyscallEvent missing = run.calls("newfstatat").stream().filter(e -> e.result() == -2).findFirst().orElseThrow();
        assertTrue(missing.outputs().isEmpty(), "a failed stat writes nothing");
        int dup = Integer.parseInt(run.printed("^dup3 4 40 O_CLOEXEC -> fd (\\d+)$"));
        assertEquals(dup, run.calls("dup3").getFirst().result());
        SyscallEvent statx = run.calls("statx").getFirst();
        assertEquals(Long.parseLong(run.printed("^statx data.txt -> size (\\d+)")), le(output(statx, 4)).getLong(40),
                "stx_size in the recorded struct statx");
    }

    @Test
    void pipesPollAndEpollOutputsAreRecorded() throws Exception {
        Run run = record("pipes");
        Matcher fds = Pattern.compile("^pipe2 O_CLOEXEC -> fds (\\d+) (\\d+)$", Pattern.MULTILINE).matcher(run.stdout());
        assertTrue(fds.find());
        ByteBuffer pair = le(output(run.calls("pipe2").getFirst()));
        assertEquals(Integer.parseInt(fds.group(1)), pair.getInt(0));
        assertEquals(Integer.parseInt(fds.group(2)), pair.getInt(4));
        SyscallEvent poll = run.calls("poll").stream().filter(e -> e.result() == 2).findFirst().orElseThrow();
        ByteBuffer pfds = le(output(poll, 0));
        assertEquals(1, pfds.getShort(6), "read end revents POLLIN");
        assertEquals(4, pfds.getShort(14), "write end revents POLLOUT");
        assertEquals(Integer.parseInt(run.printed("^epoll_create1 -> fd (\\d+)$")),
                run.calls("epoll_create1").getFirst().result());
    }

    @Test
    void socketAddressesAndMessagesAreRecorded(@TempDir Path dir) throws Exception {
        Run run = record("sockets", dir.toString());
        SyscallEvent recvmsg = run.calls("recvmsg").getFirst();
        assertEquals(9, recvmsg.result());
        String data = new String(output(recvmsg), StandardCharsets.ISO_8859_1);
        assertTrue(data.contains("hea") && data.contains("d-tail"), data);
        int port = Integer.parseInt(run.printed("^bind 127\\.0\\.0\\.1:0, getsockname -> len 16 127\\.0\\.0\\.1 port (\\d+)$"));
        byte[] sin = run.calls("getsockname").stream().map(e -> output(e, 1))
                .filter(o -> o.length >= 4 && o[0] == 2 && o[1] == 0) // AF_INET
                .findFirst().orElseThrow();
        assertEquals(port, ((sin[2] & 0xff) << 8) | (sin[3] & 0xff), "sin_port in the recorded sockaddr");
        SyscallEvent accept = run.calls("accept4").getFirst();
        assertEquals(Integer.parseInt(run.printed("^accept4 -> fd (\\d+)$")), accept.result());
    }

    @Test
    void ioctlSizesFollowTheRequest() throws Exception {
        Run run = record("ioctl");
        List<SyscallEvent> ioctls = run.calls("ioctl");
        SyscallEvent fionread = ioctls.stream().filter(e -> e.arg(1) == 0x541B && e.result() == 0)
                .filter(e -> le(output(e)).getInt(0) == 5).findFirst().orElseThrow();
        assertEquals(4, output(fionread).length, "FIONREAD writes an int");
        SyscallEvent unknown = ioctls.stream().filter(e -> e.arg(1) == 0xdead).findFirst().orElseThrow();
        assertEquals(-25, unknown.result());
        assertTrue((unknown.flags() & SyscallEvent.UNKNOWN_WRITES) != 0, "an ioctl of unknown direction is flagged");
    }

    @Test
    void unameAndLimitsAreTheRecordedStructs() throws Exception {
        Run run = record("uname");
        byte[] uts = output(run.calls("uname").getFirst(), 0);
        String release = new String(uts, 65 * 2, 65, StandardCharsets.US_ASCII).replace("\0", "");
        assertTrue(run.stdout().contains("release " + release + " "), release);
        assertArrayEquals(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim().getBytes(StandardCharsets.US_ASCII),
                release.getBytes(StandardCharsets.US_ASCII));
    }
}
