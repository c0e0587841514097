package dev.deja.formats.event;

/**
 * A new thread or process (PTRACE_EVENT_CLONE, _FORK or _VFORK), reported by its parent thread.
 *
 * @param childPid the new task's thread group id (equal to {@code pid} for a thread)
 * @param childTid the new task's thread id
 * @param cloneFlags the clone flags of the call, 0 for fork and SIGCHLD-only clones
 */
public record SpawnEvent(long seq, int pid, int tid, long timeNs, Kind spawnKind, int childPid, int childTid,
                         long cloneFlags) implements Event {

    public enum Kind { FORK, VFORK, THREAD, CLONE }

    @Override
    public String kind() {
        return "spawn";
    }
}
