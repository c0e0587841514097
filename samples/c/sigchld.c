/* sigchld: a SIGCHLD handler that prints what the kernel told it (si_code, si_pid, si_status).
 * The signal arrives while the parent waits: replay must deliver it with the recorded siginfo,
 * not with the siginfo of whatever deja used to send it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got, code, status, from_child;
static pid_t child;

static void on_chld(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)ctx;
    got = 1;
    code = si->si_code;
    status = si->si_status;
    from_child = si->si_pid == child;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    if (sigaction(SIGCHLD, &sa, NULL) != 0) return 2;
    /* Blocked until `child` is stored: a child that exits before fork returns to the parent would
     * otherwise run the handler while `child` is still 0 (seen under a loaded tracer). */
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    child = fork();
    if (child < 0) return 2;
    if (child == 0) _exit(7);
    sigprocmask(SIG_SETMASK, &old, NULL);
    int st;
    if (waitpid(child, &st, 0) != child) return 2;
    printf("waitpid -> exited %d\n", WEXITSTATUS(st));
    printf("SIGCHLD handled %d, code %s, status %d, from the child %d\n", (int)got,
           code == CLD_EXITED ? "CLD_EXITED" : code == SI_TKILL ? "SI_TKILL" : "other", (int)status, (int)from_child);
    return 0;
}
