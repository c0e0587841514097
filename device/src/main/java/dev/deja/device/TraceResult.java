package dev.deja.device;

/**
 * How a traced run ended.
 *
 * @param exitCode    the root process's exit status, when it exited
 * @param termSignal  the signal that killed the root process, or 0
 * @param interrupted deja was asked to stop (Ctrl-C, SIGTERM) and killed the traced tree
 * @param events      how many events were numbered
 * @param processes   how many processes took part
 * @param stops       how many stops of the traced threads the device took (ptrace stops: syscall,
 *                    seccomp, signal and event stops; not those of syscalls it injected)
 * @param answeredAtEntry how many calls were answered at their entry, with no exit stop
 *                    ({@link Tracer#answersAtOneStop})
 * @param answeredAhead how many calls went by with no stop at all: in a replay answered from answers given
 *                    ahead ({@link Tracee#answerAhead}), in a recording made by the program in a buffer stub
 *                    ({@link CallBuffer})
 */
public record TraceResult(int exitCode, int termSignal, boolean interrupted, long events, int processes, long stops,
                          long answeredAtEntry, long answeredAhead) {

    /** The status a shell reports: the exit code, or 128+N when killed by signal N. */
    public int shellStatus() {
        return termSignal != 0 ? 128 + termSignal : exitCode;
    }
}
