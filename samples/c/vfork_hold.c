/* vfork_hold: a vfork child that takes its time before it execs (here it never does: it sleeps, then
 * _exits), so its parent waits inside vfork all that while. A Ctrl-C to deja record then kills both
 * inside a call: the parent in vfork, the child in nanosleep. Replay must create the child again (the
 * vfork runs for real, the recorded child's calls need a process) and end both there, not hang waiting
 * for a vfork that only the child's end returns (InterruptedRunsIT). With "spin" the child computes
 * instead of sleeping: killed between calls, it ends at its next call on replay, which must not wait
 * for the parent's end the recording may have first (the parent ends only once the child has). */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int spin = argc > 1 && argv[1][0] == 's';
    printf("started\n");
    fflush(stdout);
    pid_t c = vfork();
    if (c == 0) {
        static const char line[] = "child holds its parent\n";
        write(1, line, sizeof line - 1);
        if (spin) {
            for (volatile unsigned long i = 0;; i++) {
            }
        }
        struct timespec t = {30, 0};
        nanosleep(&t, NULL);
        _exit(0);
    }
    int status;
    waitpid(c, &status, 0);
    printf("parent done\n");
    return 0;
}
