/* seccomp_status: prints what a program can learn of a seccomp filter and of no_new_privs over it
 * (prctl and /proc/self/status). Recorded without deja's filter, it must print the same in replay,
 * where deja traces every call through one (DEJA_REPLAY_STOPS, docs/replay.md). */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

int main(void) {
    printf("PR_GET_SECCOMP %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    printf("PR_GET_NO_NEW_PRIVS %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) {
        perror("/proc/self/status");
        return 1;
    }
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Seccomp:", 8) || !strncmp(line, "NoNewPrivs:", 11)) fputs(line, stdout);
    }
    fclose(f);
    return 0;
}
