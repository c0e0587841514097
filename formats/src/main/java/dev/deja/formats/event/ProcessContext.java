package dev.deja.formats.event;

/**
 * Who a process is: cached per process by the recorder and written again when it changes (a new
 * process, an exec, a credential or directory change).
 */
public record ProcessContext(int pid, int ppid, int uid, int gid, int euid, int egid, String comm, String exe,
                             String cwd) {
}
