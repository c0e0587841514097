package dev.deja.cli;

import static dev.deja.cli.GdbReplays.GDB;
import static dev.deja.cli.GdbReplays.assertFound;
import static dev.deja.cli.GdbReplays.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deja.samples.Samples;
import dev.deja.cli.GdbReplays.Session;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gdb's {@code watch}, {@code rwatch} and {@code awatch} on {@code deja replay --gdb}, with the real gdb in
 * batch mode: deja has no debug registers to offer, it makes the watched pages read-only (for reads:
 * inaccessible) and steps each store (load) into them. The program
 * (samples/c/gdb_watch.c) sets a header's len from two places, stores the same value once more, reads the
 * header from a file over it (a recorded read), stores into the same page in a loop and sums the magic in a
 * stack local. Each stop must come at the right line with gdb's old and new values, the read's at that call,
 * and the replay must end as recorded.
 */
class GdbWatchIT {

    @TempDir
    Path dir;

    /** Records gdb_watch reading the 12-byte header DEJA/16/7, with {@code loops} stores into the watched page. */
    private Path record(String loops) throws Exception {
        Path input = dir.resolve("hdr.bin");
        Files.write(input, new byte[] {'D', 'E', 'J', 'A', 16, 0, 0, 0, 7, 0, 0, 0});
        Path rec = dir.resolve("rec");
        GdbReplays.record(dir, rec, 7, Samples.path("gdb_watch"), input.toString(), loops);
        Files.writeString(input, "XXXXXXXXXXXX"); // the replay must not read it again
        return rec;
    }

    @Test
    void watchLocationStopsAtEachStoreThatChangesTheFieldAndAtTheRecordedRead() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = record("300");
        Session s = debug(rec, """
                break load
                continue
                watch -l hdr->len
                continue
                continue
                continue
                bt 2
                print the_header.len
                continue
                """);
        String g = s.gdb();
        // set_len's store, then add_len's (add_len(hdr, 0) stores the same value: no stop), each reported after the
        // storing instruction, on the line that follows it, as a hardware watchpoint is.
        assertTrue(g.contains("""
                Hardware watchpoint 2: -location hdr->len

                Old value = 0
                New value = 8
                set_len (hdr=0x"""), g);
        assertTrue(g.contains("len=8) at gdb_watch.c:25\n25\t}\n"), g);
        assertTrue(g.contains("""
                Hardware watchpoint 2: -location hdr->len

                Old value = 8
                New value = 12
                add_len (hdr=0x"""), g);
        assertTrue(g.contains("more=4) at gdb_watch.c:29\n29\t}\n"), g);
        // The recorded read wrote len: a hit at that call's return, in read, called from load.
        assertFound(g, "Old value = 12\nNew value = 16\n0x[0-9a-f]+ in \\S*read \\(");
        assertFound(g, "(?m)^#1  0x[0-9a-f]+ in load \\(.*\\) at gdb_watch\\.c:37$");
        assertTrue(g.contains("$1 = 16\n"), g);
        assertEquals(3, count(g, "Hardware watchpoint 2: -location hdr->len\n\nOld value"), "no other stop: " + g);
        // 300 stores into the watched page that leave len alone: none stops; the run ends as recorded.
        assertTrue(g.matches("(?s).*\\[Inferior 1 \\(process \\d+\\) exited with code 07\\].*"), g);
        assertEquals(7, s.deja().status(), s.deja().stderr());
        assertEquals("read 12 len 16 version 7 sum 276\n", s.deja().stdout(), s.deja().stderr());
    }

    @Test
    void aStackLocalSeveralWatchesAtOnceABreakpointOnTheStoreAndStepiOntoItThenDelete() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = record("0");
        Session s = debug(rec, """
                break load
                continue
                watch -l hdr->version
                watch -l hdr->magic[0]
                break *set_len+18
                continue
                x/i $pc
                stepi
                x/i $pc
                delete 4
                continue
                continue
                delete
                break checksum
                continue
                watch sum
                continue
                continue
                continue
                continue
                continue
                rwatch the_header.len
                continue
                """);
        String g = s.gdb();
        // The breakpoint on set_len's store: the store is stepped with its own byte, and stepi onto it is
        // reported as the step it is (len is not watched now).
        assertFound(g, "=> 0x[0-9a-f]+ <set_len\\+18>:\tmov    %edx,0x4\\(%rax\\)\n");
        assertFound(g, "=> 0x[0-9a-f]+ <set_len\\+21>:\tnop\n");
        // Two watches changed by one read: one stop each.
        assertTrue(g.contains("Hardware watchpoint 3: -location hdr->magic[0]\n\nOld value = 0 '\\000'\nNew value = 68 'D'\n"), g);
        assertTrue(g.contains("Hardware watchpoint 2: -location hdr->version\n\nOld value = 0\nNew value = 7\n"), g);
        // A local on the stack: every push faults, only the stores into sum stop.
        assertTrue(g.contains("Hardware watchpoint 6: sum\n\nOld value = 0\nNew value = 68\n"), g);
        assertTrue(g.contains("Old value = 68\nNew value = 137\n"), g);
        assertTrue(g.contains("Old value = 137\nNew value = 211\n"), g);
        assertTrue(g.contains("Old value = 211\nNew value = 276\n"), g);
        assertFound(g, "New value = 276\n0x[0-9a-f]+ in checksum \\(hdr=0x[0-9a-f]+ <the_header>\\) at gdb_watch\\.c:48\n");
        assertTrue(g.contains("Watchpoint 6 deleted because the program has left the block"), g);
        // A read watchpoint set late: printf's argument is the next load of len.
        assertFound(g, "Hardware read watchpoint 7: the_header.len\n\nValue = 16\n0x[0-9a-f]+ in main \\(.*\\) at gdb_watch\\.c:65\n");
        assertEquals(GdbReplay.KILLED_BY_GDB, s.deja().status(), s.deja().stderr());
    }

    @Test
    void readAndAccessWatchpointsStopAtLoadsAndGoingBackFindsThem() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = record("300");
        Session s = debug(rec, """
                break load
                continue
                rwatch -l hdr->len
                awatch -l hdr->version
                continue
                continue
                continue
                reverse-continue
                reverse-continue
                continue
                continue
                continue
                continue
                """);
        String g = s.gdb();
        String read = "Hardware read watchpoint 2: -location hdr->len\n\n";
        String access = "Hardware access (read/write) watchpoint 3: -location hdr->version\n\n";
        // set_len's store is no read; each add_len's += loads len (its store is no read, the same value or not).
        assertTrue(g.contains(read + "Value = 8\nadd_len (hdr=0x"), g);
        assertTrue(g.contains(read + "Value = 12\nadd_len (hdr=0x"), g);
        // The recorded read writes version: an access; it writes len too, which is no read of it.
        assertFound(g, Pattern.quote(access) + "Old value = 0\nNew value = 7\n0x[0-9a-f]+ in \\S*read \\(");
        // Going back from there: before the recorded read (its entry), then before add_len(0)'s load.
        assertFound(g, Pattern.quote(access) + "Old value = 7\nNew value = 0\n0x[0-9a-f]+ in \\S*read \\(");
        assertFound(g, Pattern.quote(read) + "Value = 12\n0x[0-9a-f]+ in add_len \\(.*more=0\\) at gdb_watch\\.c:28\n");
        // Forward again: the same load, the read, then main's loads for printf (version first, then len),
        // and none of the 300 stores touch makes into the page.
        assertFound(g, Pattern.quote(access) + "Value = 7\n0x[0-9a-f]+ in main \\(.*\\) at gdb_watch\\.c:65\n");
        assertFound(g, Pattern.quote(read) + "Value = 16\n0x[0-9a-f]+ in main \\(.*\\) at gdb_watch\\.c:65\n");
        assertEquals(3, count(g, read + "Value = 12\n"), "forward, back, forward again: " + g);
        assertEquals(0, count(g, read + "Old value"), g);
        assertEquals(GdbReplay.KILLED_BY_GDB, s.deja().status(), s.deja().stderr());
    }

    @Test
    void watchpointsSetAtACallsEntryStopCatchTheReadThatFollows() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = record("0");
        // At a catch syscall stop the thread is inside the call's entry: deja protects the pages from there.
        Session s = debug(rec, """
                catch syscall openat
                continue
                continue
                continue
                continue
                continue
                print (char *) $rsi
                watch -l the_header.len
                watch -l the_header.version
                delete 1
                continue
                continue
                continue
                """);
        String g = s.gdb();
        // The loader's two opens (entry and return each), then the program's: the watch is set at that entry.
        assertFound(g, "\\$1 = 0x[0-9a-f]+ \".*/hdr.bin\"\n");
        assertFound(g, "Hardware watchpoint 2: -location the_header.len\n\nOld value = 12\nNew value = 16\n"
                + "0x[0-9a-f]+ in \\S*read \\(");
        assertFound(g, "Hardware watchpoint 3: -location the_header.version\n\nOld value = 0\nNew value = 7\n"
                + "0x[0-9a-f]+ in \\S*read \\(");
        assertTrue(g.matches("(?s).*\\[Inferior 1 \\(process \\d+\\) exited with code 07\\].*"), g);
        assertEquals(7, s.deja().status(), s.deja().stderr());
        assertEquals("read 12 len 16 version 7 sum 276\n", s.deja().stdout(), s.deja().stderr());
    }

    @Test
    void callsTheReplayRunsForRealSeeTheProgramsProtectionsAndTheWatchOutlivesItsOwnMprotect() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = dir.resolve("rec");
        String exe = Samples.path("gdb_watch_maps");
        GdbReplays.record(dir, rec, 0, exe);
        // sigprocmask writes the old mask into the watched page (EFAULT if it stayed read-only), the program
        // makes the page read-only and writable again, a forked child writes its own copy.
        Session s = debug(rec, exe, """
                break main
                continue
                watch -l page[8]
                continue
                continue
                continue
                continue
                """);
        String g = s.gdb();
        assertTrue(g.contains("Old value = 0 '\\000'\nNew value = 1 '\\001'\nmain () at gdb_watch_maps.c:18\n"), g);
        assertTrue(g.contains("Old value = 1 '\\001'\nNew value = 2 '\\002'\nmain () at gdb_watch_maps.c:27\n"), g);
        assertTrue(g.contains("Old value = 2 '\\002'\nNew value = 4 '\\004'\nmain () at gdb_watch_maps.c:35\n"), g);
        assertEquals(3, count(g, "Hardware watchpoint 2: -location page[8]\n\nOld value"), "the child's store is its own: " + g);
        assertTrue(g.matches("(?s).*\\[Inferior 1 \\(process \\d+\\) exited normally\\].*"), g);
        assertEquals(0, s.deja().status(), s.deja().stderr());
        assertEquals("child 3 page 4\n", s.deja().stdout(), s.deja().stderr());
    }

    private Session debug(Path rec, String script) throws IOException, InterruptedException {
        return debug(rec, Samples.path("gdb_watch"), script);
    }

    private Session debug(Path rec, String exe, String script) throws IOException, InterruptedException {
        return GdbReplays.run(dir, rec, exe, script);
    }
}
