package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@code deja --help} is rendered from a light listing of the commands: it must read as the full command line's usage. */
class UsageListingTest {
    @Test
    void theListingReadsAsTheFullCommandLinesUsage() {
        String full = Main.commandLine().getUsageMessage(picocli.CommandLine.Help.Ansi.OFF);
        String listed = Main.listing().getUsageMessage(picocli.CommandLine.Help.Ansi.OFF);
        assertEquals(full, listed);
    }
}
