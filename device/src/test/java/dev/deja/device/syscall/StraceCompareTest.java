package dev.deja.device.syscall;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class StraceCompareTest {

    @Test
    void identicalOutputMatchesFully() {
        List<String> s = List.of("close(3)                                = 0", "getpid()                                = 42");
        assertEquals(1.0, StraceCompare.matchRate(s, s));
    }

    @Test
    void addressesPaddingAndPidsAreNormalised() {
        List<String> strace = List.of(
                "[pid  4768] brk(NULL)                   = 0x559e07c49000",
                "[pid  4767] wait4(-1,  <unfinished ...>",
                "[pid  4768] set_tid_address(0x7f2335be9ad0) = 4768",
                "strace: Process 4769 attached",
                "[pid  4767] <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 4768");
        List<String> deja = List.of(
                "[pid 4768] brk(NULL)                               = 0x555500000000",
                "[pid 4768] set_tid_address(0x7f0000000a10)         = 4768",
                "[pid 4767] wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 4768");
        assertEquals(1.0, StraceCompare.matchRate(strace, deja));
    }

    @Test
    void mismatchesAndMissingLinesCount() {
        List<String> strace = List.of("a() = 0", "b() = 1", "c() = 2", "d() = 3");
        List<String> deja = List.of("a() = 0", "x() = 1", "c() = 2", "d() = 4");
        assertEquals(0.5, StraceCompare.matchRate(strace, deja));
        assertEquals(1.0, StraceCompare.matchRate(strace, List.of("b() = 1", "d() = 3")));
        assertEquals(0.0, StraceCompare.matchRate(List.of(), List.of("a() = 0")));
        assertEquals(1.0, StraceCompare.matchRate(List.of(), List.of()));
    }

    @Test
    void linesAlignPerPid() {
        List<String> strace = List.of("1 a() = 0", "2 b() = 0", "1 c() = 0", "2 d() = 0");
        List<String> deja = List.of("[pid 2] b() = 0", "[pid 2] d() = 0", "[pid 1] a() = 0", "[pid 1] c() = 0");
        assertEquals(1.0, StraceCompare.matchRate(strace, deja));
    }

    @Test
    void pidLessDejaOutputIsComparedAsOneProcess() {
        List<String> strace = List.of("execve(\"./t\", [\"./t\"], 0x7ffc5504cbc8 /* 39 vars */) = 0",
                "exit_group(3)                           = ?", "+++ exited with 3 +++");
        List<String> deja = List.of("execve(\"./t\", [\"./t\"], 0x7ffd00000000 /* 39 vars */) = 0",
                "exit_group(3) = ?", "+++ exited with 3 +++");
        assertEquals(1.0, StraceCompare.matchRate(strace, deja));
    }

    @Test
    void pidsAreRenamedByTheirPlaceInTheProcessTree() {
        List<String> strace = List.of("500 clone(child_stack=NULL, flags=SIGCHLD) = 502", "502 getpid() = 502",
                "500 vfork( <unfinished ...>", "501 exit_group(0) = ?", "500 <... vfork resumed>) = 501",
                "500 wait4(502, NULL, 0, NULL) = 502");
        List<String> deja = List.of("[pid 7000] clone(child_stack=NULL, flags=SIGCHLD) = 7100",
                "[pid 7000] vfork() = 7200", "[pid 7200] exit_group(0) = ?", "[pid 7100] getpid() = 7100",
                "[pid 7000] wait4(7100, NULL, 0, NULL) = 7100");
        List<String> s = StraceCompare.renumberPids(strace);
        assertEquals("[pid 1] clone(child_stack=NULL, flags=SIGCHLD) = PID1_1", s.get(0));
        assertEquals("[pid 1_1] getpid() = PID1_1", s.get(1));
        assertEquals("[pid 1_2] exit_group(0) = ?", s.get(3));
        assertEquals(1.0, StraceCompare.matchRate(s, StraceCompare.renumberPids(deja)));
    }

    @Test
    void compareListsTheLinesEachSideHasAlone() {
        StraceCompare.Match m = StraceCompare.compare(List.of("a() = 0", "b() = 1", "c() = 2"),
                List.of("a() = 0", "x() = 1", "c() = 2", "d() = 3"));
        assertEquals(3, m.straceLines());
        assertEquals(4, m.dejaLines());
        assertEquals(2, m.matched());
        assertEquals(List.of("x() = 1", "d() = 3"), m.onlyDeja());
        assertEquals(List.of("b() = 1"), m.onlyStrace());
    }
}
