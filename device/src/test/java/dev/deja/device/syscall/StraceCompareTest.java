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
}
