package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The program's code in {@code deja debug} and {@code deja trace -k}, on the nested_calls sample
 * (main -> outer -> middle -> inner -> read, -O1 without frame pointers): the stack unwound through
 * the recorded copies' .eh_frame names every caller, x/i disassembles as gdb does, a call's exit
 * shows the bytes the replay wrote, and trace -k prints the stacks strace -k prints.
 */
class DebugCodeIT {
    @TempDir
    static Path home;

    private static Path input;
    private static Path nested;
    private static String program;

    @BeforeAll
    static void record() throws Exception {
        input = Files.writeString(home.resolve("in.txt"), "hello\n");
        program = Samples.path("nested_calls").toString();
        nested = Runs.record(home, "nested", program, input.toString());
    }

    static Runs.Result debug(String commands) throws IOException, InterruptedException {
        return Runs.dejaPiped(home, Files.writeString(home.resolve("stdin.txt"), commands), "debug", nested.toString());
    }

    /** The stop at the program's own read (the one of "hello"), then {@code more}. */
    static Runs.Result atTheRead(String more) throws IOException, InterruptedException {
        return debug("break read fd=3 if arg2 == 63\ncontinue\n" + more + "quit\n");
    }

    private static final Pattern FRAME = Pattern.compile("(?m)^#(\\d+) +0x([0-9a-f]{16}) in (\\S+) \\((.*?)\\)(.*)$");

    @Test
    void btNamesEveryCallerThroughTheRecordedCopies() throws Exception {
        Runs.Result r = atTheRead("bt\n");
        assertEquals(0, r.status(), r.stderr());
        List<String[]> frames = new ArrayList<>();
        Matcher m = FRAME.matcher(r.stdout());
        while (m.find()) frames.add(new String[] {m.group(3), m.group(4), m.group(5)});
        assertTrue(frames.size() >= 6, r.stdout());
        List<String> names = frames.stream().map(f -> f[0].replaceAll("\\+0x[0-9a-f]+$", "")).toList();
        assertEquals(List.of("read", "inner", "middle", "outer", "main"), names.subList(0, 5), r.stdout());
        assertTrue(frames.get(0)[1].matches("/.*libc\\.so\\.6"), "libc by its recorded path: " + frames.get(0)[1]);
        for (int i = 1; i <= 4; i++) assertEquals(program, frames.get(i)[1], "the sample by its recorded path, not deja's copy");
        assertEquals("_start", names.getLast(), "the walk ends at _start (its return address is undefined)");
        for (String[] f : frames) assertFalse(f[2].contains("guessed"), "every frame from CFI: " + r.stdout());
        // the source lines of the calls, as gdb shows them (nested_calls.c: read at 14, inner at 20, middle at 32, outer at 47)
        String[] lines = {"nested_calls.c:14", "nested_calls.c:20", "nested_calls.c:32", "nested_calls.c:47"};
        for (int i = 0; i < lines.length; i++) {
            assertTrue(frames.get(i + 1)[2].matches(" at /\\S*/samples/c/" + lines[i]), "frame " + (i + 1) + ": " + r.stdout());
        }
    }

    /**
     * gdb's bt at the same read, the program run natively under gdb (which turns ASLR off too, so the
     * addresses are the replay's): every caller's address is the same, and the sample's functions have
     * the same names (gdb's names for libc's frames come from its debug symbols, deja's from .dynsym).
     */
    @Test
    void btMatchesGdbsAtTheSameCall() throws Exception {
        Runs.Result r = atTheRead("bt\n");
        List<String[]> ours = new ArrayList<>();
        Matcher m = FRAME.matcher(r.stdout());
        while (m.find()) ours.add(new String[] {m.group(2), m.group(3).replaceAll("\\+0x[0-9a-f]+$", "")});
        Runs.Result gdb = Runs.run(home, List.of("gdb", "-nx", "-batch", "-ex", "set backtrace past-main on", "-ex",
                "set backtrace past-entry on", "-ex", "break read", "-ex", "run", "-ex", "bt", "--args", program, input.toString()));
        List<String[]> theirs = new ArrayList<>();
        Matcher g = Pattern.compile("(?m)^#(\\d+) +0x([0-9a-f]{16}) in (\\S+) ").matcher(gdb.stdout());
        while (g.find()) theirs.add(new String[] {g.group(2), g.group(3)});
        assertEquals(theirs.size() + 1, ours.size(), "gdb's frames after #0 (the breakpoint at read's start):\n" + gdb.stdout() + "\n" + r.stdout());
        for (int i = 0; i < theirs.size(); i++) {
            assertEquals(theirs.get(i)[0], ours.get(i + 1)[0], "frame " + (i + 1) + "'s address\n" + gdb.stdout() + "\n" + r.stdout());
        }
        for (int i : new int[] {0, 1, 2, 3, theirs.size() - 1}) assertEquals(theirs.get(i)[1], ours.get(i + 1)[1], "frame " + (i + 1));
    }

    /**
     * nested_calls_fp has no .eh_frame for its own functions (built without unwind tables, with frame
     * pointers): its frames are found through the rbp chain and say that they are guessed.
     */
    @Test
    void withoutUnwindTablesFramePointersLeadOnAndSaySo() throws Exception {
        String fp = Samples.path("nested_calls_fp");
        Path rec = Runs.record(home, "nested-fp", fp, input.toString());
        Runs.Result r = Runs.dejaPiped(home, Files.writeString(home.resolve("stdin-fp.txt"),
                "break read fd=3 if arg2 == 63\ncontinue\nbt\nquit\n"), "debug", rec.toString());
        assertEquals(0, r.status(), r.stderr());
        List<String[]> frames = new ArrayList<>();
        Matcher m = FRAME.matcher(r.stdout());
        while (m.find()) frames.add(new String[] {m.group(3).replaceAll("\\+0x[0-9a-f]+$", ""), m.group(5)});
        assertEquals(List.of("read", "inner", "middle", "outer", "main"), frames.subList(0, 5).stream().map(f -> f[0]).toList(), r.stdout());
        assertFalse(frames.get(0)[1].contains("guessed"), r.stdout());
        assertFalse(frames.get(1)[1].contains("guessed"), "read's own CFI finds inner: " + r.stdout());
        for (int i = 2; i <= 4; i++) assertTrue(frames.get(i)[1].endsWith("   (frame pointer, guessed)"), r.stdout());
    }

    @Test
    void btLimitsTheFrames() throws Exception {
        Runs.Result r = atTheRead("bt 2\n");
        Matcher m = FRAME.matcher(r.stdout());
        int n = 0;
        while (m.find()) n++;
        assertEquals(2, n, r.stdout());
    }

    /** x/3i $pc at the read: the instructions gdb shows for the same bytes of the C library. */
    @Test
    void disassemblyIsGdbs() throws Exception {
        Runs.Result r = atTheRead("x/3i $pc\nbt 1\n");
        assertEquals(0, r.status(), r.stderr());
        List<String> insns = r.stdout().lines().filter(l -> l.matches("(=>|  ) 0x[0-9a-f]+ <.*")).toList();
        assertEquals(3, insns.size(), r.stdout());
        assertTrue(insns.getFirst().startsWith("=> "), "the pc is marked: " + insns.getFirst());
        Matcher frame = FRAME.matcher(r.stdout());
        assertTrue(frame.find(), r.stdout());
        String libc = frame.group(4);
        String at = frame.group(3).replaceAll("\\+0x([0-9a-f]+)$", "");
        long off = Long.parseLong(frame.group(3).replaceAll(".*\\+0x", ""), 16);
        Runs.Result gdb = Runs.run(home, List.of("gdb", "-nx", "-batch", "-ex", "x/3i " + at + "+" + off, libc));
        List<String> expected = gdb.stdout().lines().filter(l -> l.contains(":\t")).toList();
        assertEquals(3, expected.size(), gdb.stdout() + gdb.stderr());
        for (int i = 0; i < 3; i++) {
            assertEquals(normalised(expected.get(i)), normalised(insns.get(i)), "instruction " + i + "\n" + r.stdout() + "\n" + gdb.stdout());
        }
    }

    /**
     * An instruction as both print it, its address and symbols aside ("cmp $0xfffffffffffff000,%rax"):
     * gdb may name addresses by the C library's debug symbols (__GI___libc_read), deja by its ELF symbols.
     */
    private static String normalised(String line) {
        String s = line.substring(line.indexOf(":\t") + 2);
        return s.replaceAll("0x[0-9a-f]{5,} <[^>]+>", "ADDRESS").replaceAll("\\s+", " ").strip();
    }

    @Test
    void breakAtACallsExitShowsTheBufferFilled() throws Exception {
        Runs.Result r = debug("break read fd=3 exit if arg2 == 63\ncontinue\nbt 2\nfinish\nbreak write\ncontinue\nfinish\nquit\n");
        assertEquals(0, r.status(), r.stderr());
        String out = r.stdout();
        assertTrue(out.contains("Breakpoint 1: read fd=3 if arg2 == 63 exit (1 recorded call match)"), out);
        assertTrue(out.contains("Run till exit: #"), out);
        assertTrue(out.contains("  rax       0x6 (6) = the recorded result"), out);
        assertTrue(Pattern.compile("(?m)^  output arg1 at 0x[0-9a-f]+, 6 bytes, in memory now \\(as recorded\\)$").matcher(out).find(), out);
        assertTrue(out.contains("    0000  68 65 6c 6c 6f 0a"), out);
        assertTrue(out.contains("|hello.|"), out);
        assertTrue(out.contains("error: already at the exit of #"), "a second finish at the same exit: " + out);
        // at the exit, the thread is still in read, its callers above it
        Matcher m = FRAME.matcher(out);
        assertTrue(m.find() && m.group(3).startsWith("read+"), out);
        assertTrue(out.contains("  rax       0x15 (21) = the recorded result"), "finish at the write: " + out);
        assertTrue(out.contains("  outputs   none: the call wrote no memory"), out);
        int writeEntry = out.indexOf("Breakpoint 2, #");
        int writeExit = out.indexOf("Run till exit: #", writeEntry);
        int programOutput = out.indexOf("read 6 bytes: hello");
        assertTrue(writeEntry < programOutput && programOutput < writeExit, "the write's bytes appear as the replay answers it: " + out);
    }

    @Test
    void offlineTheCodeCommandsSayTheyNeedALiveReplay() throws Exception {
        Runs.Result r = Runs.dejaPiped(home, Files.writeString(home.resolve("stdin-offline.txt"),
                "break read fd=3 if arg2 == 63\ncontinue\nbt\nx/3i $pc\nx/2i 0x1000\nfinish\nquit\n"), "debug", "--no-exec", nested.toString());
        assertEquals(0, r.status(), r.stderr());
        String out = r.stdout();
        assertTrue(out.contains("error: bt needs a live replay: this session browses the recording only (--no-exec)"), out);
        assertTrue(out.contains("error: x/i needs a live replay"), out);
        assertEquals(2, out.split("error: x/i needs a live replay", -1).length - 1, out);
        assertTrue(out.contains("offline: nothing runs; the outputs the replay writes at the exit of #"), out);
        assertTrue(out.contains("|hello.|"), "the recorded bytes: " + out);
    }

    @Test
    void mapsNamesTheRecordedFiles() throws Exception {
        Runs.Result r = atTheRead("maps\n");
        assertTrue(Pattern.compile("(?m)^[0-9a-f]+-[0-9a-f]+ r-xp .* " + Pattern.quote(program) + "   \\(deja's copy: /.*\\)$")
                .matcher(r.stdout()).find(), r.stdout());
    }

    /** trace -k against strace -k on the same program: the stacks of its read and its write, line for line. */
    @Test
    void traceKPrintsTheStacksStracePrints() throws Exception {
        Path out = home.resolve("k.txt");
        Runs.Result r = Runs.deja(home, "trace", "-k", "-e", "trace=read,write", "-o", out.toString(), program, input.toString());
        assertEquals(0, r.status(), r.stderr());
        List<String> deja = Files.readAllLines(out);
        List<String> read = stackAfter(deja, "read(3, \"hello\\n\"");
        List<String> names = read.stream().map(l -> l.replaceAll(".*\\((\\w+)\\+0x.*", "$1")).toList();
        assertEquals(List.of("read", "inner", "middle", "outer", "main"), names.subList(0, 5), String.join("\n", deja));
        assertTrue(read.get(1).startsWith(" > " + program + "(inner+0x"), read.get(1));
        Path strace = Path.of("/usr/bin/strace");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(strace));
        Path sout = home.resolve("strace-k.txt");
        Runs.Result s = Runs.run(home, List.of(strace.toString(), "-k", "-e", "trace=read,write", "-o", sout.toString(), program, input.toString()));
        assertEquals(0, s.status(), s.stderr());
        List<String> theirs = Files.readAllLines(sout);
        assertEquals(stackAfter(theirs, "read(3, \"hello\\n\""), read, "the read's stack");
        assertEquals(stackAfter(theirs, "write(1, \"read 6 bytes"), stackAfter(deja, "write(1, \"read 6 bytes"), "the write's stack");
    }

    /** -ff -o FILE: each thread's file keeps the stack lines under their call. */
    @Test
    void traceKPerThreadFilesKeepTheStacks() throws Exception {
        Path out = home.resolve("kff.txt");
        Runs.Result r = Runs.deja(home, "trace", "-ff", "-k", "-e", "trace=read", "-o", out.toString(), program, input.toString());
        assertEquals(0, r.status(), r.stderr());
        List<Path> files;
        try (var list = Files.list(home)) {
            files = list.filter(p -> p.getFileName().toString().startsWith("kff.txt.")).toList();
        }
        assertEquals(1, files.size(), files.toString());
        List<String> lines = Files.readAllLines(files.getFirst());
        List<String> read = stackAfter(lines, "read(3, \"hello\\n\"");
        assertTrue(read.size() >= 5 && read.get(1).contains("(inner+0x"), String.join("\n", lines));
        assertTrue(lines.getFirst().startsWith("read("), "no thread id left in a per-thread file: " + lines.getFirst());
    }

    /** The " > " lines after the first line that contains {@code call}. */
    private static List<String> stackAfter(List<String> lines, String call) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).contains(call)) continue;
            for (int j = i + 1; j < lines.size() && lines.get(j).startsWith(" > "); j++) out.add(lines.get(j));
            return out;
        }
        throw new AssertionError("no " + call + " in\n" + String.join("\n", lines));
    }
}
