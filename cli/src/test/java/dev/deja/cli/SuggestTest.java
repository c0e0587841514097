package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SuggestTest {
    @Test
    void suggestsTheNearestWordWhenItIsClose() {
        List<String> commands = List.of("record", "replay", "debug", "diff", "trace", "run", "ls", "info", "dump");
        assertEquals(Optional.of("replay"), Suggest.closest("replya", commands));
        assertEquals(Optional.of("record"), Suggest.closest("recrod", commands));
        assertEquals(Optional.of("continue"), Suggest.closest("contine", List.of("continue", "step", "next")));
        assertEquals(Optional.of("openat"), Suggest.closest("opnat", List.of("open", "openat", "close").subList(1, 3)));
        assertEquals(Optional.empty(), Suggest.closest("frobnicate", commands));
        assertEquals(Optional.empty(), Suggest.closest("replay", commands), "a known word needs no suggestion");
        assertEquals(1, Suggest.distance("ab", "ba"));
    }

    /** Issue 15: 'deja --help' showed the first line of each description, cut mid-sentence. */
    @Test
    void everyCommandSummaryIsAWholeSentence() {
        CommandLine cli = Main.commandLine();
        cli.getSubcommands().forEach((name, c) -> {
            if (name.equals("help")) return; // picocli's own
            for (String paragraph : c.getCommandSpec().usageMessage().description()) {
                assertTrue(paragraph.isEmpty() || paragraph.endsWith(".") || paragraph.endsWith(".)"),
                        name + ": a description paragraph that does not end a sentence: " + paragraph);
            }
        });
    }
}
