package dev.deja.formats.event;

/**
 * A thread or process ended.
 *
 * @param processExit true when this was the last thread of the process (its status is the process's)
 * @param exitCode    the exit status when it exited normally
 * @param termSignal  the signal that killed it, or 0
 */
public record ExitEvent(long seq, int pid, int tid, long timeNs, boolean processExit, int exitCode, int termSignal,
                        boolean coreDumped) implements Event {

    public boolean killed() {
        return termSignal != 0;
    }

    /** The status a shell would report: the exit code, or 128+N when killed by signal N. */
    public int shellStatus() {
        return killed() ? 128 + termSignal : exitCode;
    }

    @Override
    public String kind() {
        return "exit";
    }
}
