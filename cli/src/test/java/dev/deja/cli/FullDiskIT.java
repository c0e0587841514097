package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.event.Event;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
}
