package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The shell's {@code gdb} command: the addresses it accepts, as {@code deja replay --gdb} does. */
class ShellGdbTest {

    @Test
    void acceptsPortHostAndPortOrNothing() {
        assertEquals(new ShellGdb.Address("127.0.0.1", 50505), ShellGdb.Address.parse(""));
        assertEquals(new ShellGdb.Address("127.0.0.1", 0), ShellGdb.Address.parse("0"));
        assertEquals(new ShellGdb.Address("127.0.0.1", 2345), ShellGdb.Address.parse(":2345"));
        assertEquals(new ShellGdb.Address("localhost", 2345), ShellGdb.Address.parse("localhost:2345"));
        assertEquals(new ShellGdb.Address("::1", 2345), ShellGdb.Address.parse("[::1]:2345"));
        assertEquals(new ShellGdb.Address("127.0.0.1", 65535), ShellGdb.Address.parse("65535"));
    }

    @Test
    void refusesWhatIsNotAnAddress() {
        for (String bad : List.of("65536", "port", "host:", "-1", ":", "1:2:x", "999999")) {
            assertThrows(Debugger.CommandError.class, () -> ShellGdb.Address.parse(bad), bad);
        }
    }
}
