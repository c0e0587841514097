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
 * @param credentials  who the program runs as (strace -u); null: as deja runs
 */
public record LaunchSpec(String executable, List<String> argv, List<String> environment, CloseFds closeFds,
                         long blockedSignals, long ignoredSignals, Credentials credentials) {
    public LaunchSpec {
        argv = List.copyOf(argv);
        environment = List.copyOf(environment);
        Objects.requireNonNull(closeFds, "closeFds");
        if (argv.isEmpty()) throw new IllegalArgumentException("argv must hold at least argv[0]");
    }

    public LaunchSpec(String executable, List<String> argv, List<String> environment, CloseFds closeFds,
                      long blockedSignals, long ignoredSignals) {
        this(executable, argv, environment, closeFds, blockedSignals, ignoredSignals, null);
    }

    /** The same launch, run as {@code c}. */
    public LaunchSpec withCredentials(Credentials c) {
        return new LaunchSpec(executable, argv, environment, closeFds, blockedSignals, ignoredSignals, c);
    }

    /**
     * The ids the program gets before its exec, as strace -u sets them (initgroups, setregid,
     * setreuid): the effective ids differ from the real ones for a set-user-ID or set-group-ID
     * program, which then runs with its owner's privileges as it would without a tracer.
     */
    public record Credentials(int uid, int euid, int gid, int egid, List<Integer> groups) {
        public Credentials {
            groups = List.copyOf(groups);
        }
    }
}
