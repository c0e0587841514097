package dev.deja.cli;

import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The "replayable here" judgement, one obstacle at a time and together. */
class ReplayabilityTest {

    private static List<String> judge(String recordedArch, int formatVersion, String osArch, String osName, String kernel,
                                      int yama) {
        return Replayability.obstacles(recordedArch, formatVersion, osArch, osName, kernel, yama);
    }

    @Test
    void aMatchingLinuxMachineCanReplay() {
        assertEquals(List.of(), judge("x86_64", 1, "amd64", "Linux", "6.8.0-45-generic", 1));
        assertEquals(List.of(), judge("aarch64", 1, "aarch64", "Linux", "5.3.0", -1));
        assertEquals(List.of(), judge("x86_64", 1, "x86_64", "Linux", "5.10", 0));
        assertEquals("yes", Replayability.line(List.of()));
    }

    @Test
    void anotherArchitectureIsNamed() {
        List<String> o = judge("aarch64", 1, "amd64", "Linux", "6.1.0", 1);
        assertEquals(1, o.size(), o.toString());
        assertTrue(o.getFirst().startsWith("recorded on aarch64, this machine is x86_64"), o.getFirst());
        assertEquals(1, judge("x86_64", 1, "riscv64", "Linux", "6.1.0", 1).size());
    }

    @Test
    void kernelsBefore53LackTheSyscallInfoRequest() {
        assertTrue(judge("x86_64", 1, "amd64", "Linux", "5.2.21", 1).getFirst().contains("no PTRACE_GET_SYSCALL_INFO"));
        assertTrue(judge("x86_64", 1, "amd64", "Linux", "4.19.0-27-amd64", 1).getFirst().contains("Linux 4.19"));
        assertTrue(judge("x86_64", 1, "amd64", "Linux", "", 1).getFirst().startsWith("cannot tell the kernel version"));
        assertEquals(List.of(), judge("x86_64", 1, "amd64", "Linux", "10.0", 1));
    }

    @Test
    void yamaScope3AloneForbidsTracing() {
        for (int scope : new int[]{-1, 0, 1, 2}) assertEquals(List.of(), judge("x86_64", 1, "amd64", "Linux", "6.1", scope));
        assertTrue(judge("x86_64", 1, "amd64", "Linux", "6.1", 3).getFirst().contains("ptrace_scope = 3"));
    }

    @Test
    void aFormatVersionThisDejaDoesNotReadIsNamed() {
        assertTrue(judge("x86_64", 99, "amd64", "Linux", "6.1", 1).getFirst().startsWith("recording format version 99"));
        assertTrue(judge("x86_64", 0, "amd64", "Linux", "6.1", 1).getFirst().startsWith("recording format version 0"));
    }

    @Test
    void everyObstacleIsListedOnOneLine() {
        List<String> o = judge("aarch64", 7, "amd64", "Mac OS X", "4.4", 3);
        assertEquals(5, o.size(), o.toString());
        String line = Replayability.line(o);
        assertTrue(line.startsWith("no: this is Mac OS X"), line);
        assertEquals(4, line.split("; ").length - 1, line);
        assertFalse(line.contains("\n"));
    }
}
