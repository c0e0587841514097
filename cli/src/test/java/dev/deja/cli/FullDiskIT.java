package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.SyscallEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up while deja records: the journal is a memory-mapped file, and a page the file
 * system cannot back used to end deja in "InternalError: a fault occurred in an unsafe memory access
 * operation" (status 1). Recorded on an 8 MiB tmpfs mounted in a private mount namespace
 * ({@code unshare -m}, as root): the blobs of head and libc fit, the journal of 60 MB of random
 * input does not.
 */
class FullDiskIT {

    @TempDir
    Path tmp;

    @Test
    void aFullDiskEndsTheRecordingInOneLineAndKeepsWhatWasRecorded() throws Exception {
        assumeTrue(Host.uid() == 0, "mounting a tmpfs in a mount namespace needs root");
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path script = tmp.resolve("full.sh");
        Files.writeString(script, """
                set -u
                mnt=$1; out=$2; deja=$3
                mount -t tmpfs -o size=8m tmpfs "$mnt" || exit 90
                "$deja" record -o "$mnt/rec" -- head -c 60000000 /dev/urandom >/dev/null 2>"$out/record.err"
                echo $? >"$out/record.status"
                "$deja" info "$mnt/rec" >"$out/info.txt" 2>&1
                echo $? >"$out/info.status"
                cp -a --sparse=always "$mnt/rec" "$out/rec"
                """);
        Runs.Result r = Runs.run(tmp, List.of("unshare", "-m", "--propagation", "private", "/bin/sh", script.toString(),
                mnt.toString(), out.toString(), Runs.launcher().toString()), Duration.ofSeconds(120));
        assumeTrue(r.status() != 90 && !r.stderr().contains("unshare: "), "no private tmpfs here: " + r.stderr());
        assertEquals(0, r.status(), r.stderr());

        String err = Files.readString(out.resolve("record.err"));
        assertEquals(String.valueOf(ExitCodes.DEJA_FAILURE), Files.readString(out.resolve("record.status")).strip(), err);
        assertEquals(1, err.lines().count(), err);
        Matcher m = Pattern.compile("deja: recording failed: cannot write event \\d+ into the journal in \\S+/journal: no space"
                + " left on its file system \\(\\d+ bytes free\\); the (\\d+) events before it are kept \\(the recording"
                + " stays incomplete, and readable\\)").matcher(err.strip());
        assertTrue(m.matches(), err);
        long kept = Long.parseLong(m.group(1));
        assertTrue(kept > 100, err);

        assertEquals("0", Files.readString(out.resolve("info.status")).strip(), Files.readString(out.resolve("info.txt")));
        assertTrue(Files.readString(out.resolve("info.txt")).contains("status:    incomplete"));
        try (Recording rec = Recording.open(out.resolve("rec"))) {
            assertEquals(RecordingStatus.INCOMPLETE, rec.status());
        }
        List<Event> events = Runs.events(out.resolve("rec"));
        assertEquals(kept, events.size(), "every event appended before the disk filled is readable");
        Runs.Result dump = Runs.deja(tmp, "dump", out.resolve("rec").toString());
        assertEquals(0, dump.status(), dump.stderr());
        assertTrue(dump.stdout().contains("read(3, "), dump.stdout().lines().limit(5).toList().toString());
    }

    /**
     * A long recording's replay index is in files mapped from the replay's directory: a temporary
     * directory on a full file system used to fault there too. Now one line, status 125, and the replay
     * directory gone. The recording is a million getppid events written directly (its index needs about
     * 19 MB while it is built); the replay's directory is on a 4 MiB tmpfs (java.io.tmpdir).
     */
    @Test
    void aFullDiskUnderTheReplaysIndexEndsTheReplayInOneLine() throws Exception {
        assumeTrue(Host.uid() == 0, "mounting a tmpfs in a mount namespace needs root");
        Path rec = tmp.resolve("rec");
        int n = 1_000_000;
        long start = 1_700_000_000_000_000_000L;
        try (RecordingWriter w = RecordingWriter.create(rec, RecordingHeader.forCommand(List.of("/bin/prog"),
                Map.of("PATH", "/usr/bin:/bin"), "/", 0, 0, "6.8.0-test", "x86_64", "host", start))) {
            for (int i = 1; i <= n; i++) {
                w.append(new SyscallEvent(i, 4242, 4242, start + i * 1000L, start + i * 1000L + 700, 110, new long[6],
                        List.of(), 4241, List.of(), 0));
            }
            w.finish(new RecordingSummary(RecordingStatus.COMPLETE, start + n * 1000L + 1000, 0, n, 1));
        }
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path script = tmp.resolve("full.sh");
        Files.writeString(script, """
                set -u
                mnt=$1; out=$2; deja=$3; rec=$4
                mount -t tmpfs -o size=4m tmpfs "$mnt" || exit 90
                JAVA_TOOL_OPTIONS="-Djava.io.tmpdir=$mnt" "$deja" replay -q "$rec" >/dev/null 2>"$out/replay.err"
                echo $? >"$out/replay.status"
                ls -A "$mnt" >"$out/left.txt"
                """);
        Runs.Result r = Runs.run(tmp, List.of("unshare", "-m", "--propagation", "private", "/bin/sh", script.toString(),
                mnt.toString(), out.toString(), Runs.launcher().toString(), rec.toString()), Duration.ofSeconds(180));
        assumeTrue(r.status() != 90 && !r.stderr().contains("unshare: "), "no private tmpfs here: " + r.stderr());
        assertEquals(0, r.status(), r.stderr());

        // The JVM's own note on JAVA_TOOL_OPTIONS aside, deja says one line.
        List<String> err = Files.readString(out.resolve("replay.err")).lines().filter(l -> !l.startsWith("Picked up ")).toList();
        assertEquals(String.valueOf(ExitCodes.DEJA_FAILURE), Files.readString(out.resolve("replay.status")).strip(), err.toString());
        assertEquals(1, err.size(), err.toString());
        assertTrue(Pattern.compile("deja: cannot replay: cannot write replay's index into \\S+/deja-replay-\\d+-\\d+-\\d+: a write to its"
                + " memory-mapped file failed, the file system is probably full \\(\\d+ bytes free\\)").matcher(err.getFirst()).matches(),
                err.getFirst());
        assertEquals("", Files.readString(out.resolve("left.txt")), "the replay's directory is removed");
    }
}
