package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The {@code exit} word of {@code break NAME exit}: after the syscalls only, never inside a condition. */
class CallExitTest {
    @Test
    void theExitWordIsTakenOutOfTheTerms() {
        assertEquals("read", CallExit.withoutExitWord("read exit"));
        assertEquals("read fd=3", CallExit.withoutExitWord("read fd=3 exit"));
        assertEquals("read fd=3 if arg2 == 63", CallExit.withoutExitWord("read exit fd=3 if arg2 == 63"));
        assertEquals("read if arg2 > 1", CallExit.withoutExitWord("read if arg2 > 1"), "no exit word: as it is");
        assertEquals("exit", CallExit.withoutExitWord("exit"), "first, exit is the syscall");
        assertEquals("exit,exit_group", CallExit.withoutExitWord("exit,exit_group exit"));
        assertEquals("write if exit == 1", CallExit.withoutExitWord("write if exit == 1"), "a condition is not looked into");
    }
}
