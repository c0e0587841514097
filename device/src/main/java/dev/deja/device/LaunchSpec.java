package dev.deja.device;

import dev.deja.device.ffm.CloseFds;
import java.util.List;
import java.util.Objects;

/**
 * What to run under the device.
 *
 * @param executable   absolute path of the program (already resolved against PATH)
 * @param argv         its argument vector, argv[0] as the user typed it
 * @param environment  "NAME=value" strings, exactly as the program will see them
 * @param closeFds     which descriptors the program does not inherit: all but 0-2 and those deja was given
 * @param blockedSignals the signal mask the program starts with (bit N-1 for signal N)
 * @param ignoredSignals signals the program starts with ignored; all others have their default action
 */
public record LaunchSpec(String executable, List<String> argv, List<String> environment, CloseFds closeFds,
                         long blockedSignals, long ignoredSignals) {
    public LaunchSpec {
        argv = List.copyOf(argv);
        environment = List.copyOf(environment);
        Objects.requireNonNull(closeFds, "closeFds");
        if (argv.isEmpty()) throw new IllegalArgumentException("argv must hold at least argv[0]");
    }
}
