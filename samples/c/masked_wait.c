/* masked_wait: waits that unblock a signal only while they wait, as make does
 * with SIGCHLD: the signal is blocked, a child exits, and pselect6 (then ppoll)
 * with an empty mask is interrupted by the SIGCHLD, whose handler runs inside
 * the wait.  Prints what each wait returned and what the handler counted. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld;

static void on_chld(int sig) {
    (void)sig;
    chld++;
}

static void child_exits(int code) {
    pid_t p = fork();
    if (p < 0) { perror("masked_wait: fork"); exit(2); }
    if (p == 0) _exit(code);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {.sa_handler = on_chld};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) != 0) { perror("masked_wait: sigaction"); return 2; }
    sigset_t block, empty;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigemptyset(&empty);
    if (sigprocmask(SIG_BLOCK, &block, NULL) != 0) { perror("masked_wait: sigprocmask"); return 2; }
    int p[2];
    if (pipe(p) != 0) { perror("masked_wait: pipe"); return 2; }

    child_exits(3);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    int n = pselect(p[0] + 1, &r, NULL, NULL, NULL, &empty); /* nothing to read: only SIGCHLD ends it */
    printf("pselect -> %d (%s), handler ran %d times\n", n, n < 0 ? strerror(errno) : "ready", (int)chld);
    int status;
    pid_t w = wait(&status);
    printf("wait -> child %s, exit %d\n", w > 0 ? "reaped" : "none", WEXITSTATUS(status));

    child_exits(4);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    n = ppoll(&pfd, 1, NULL, &empty);
    printf("ppoll -> %d (%s), handler ran %d times\n", n, n < 0 ? strerror(errno) : "ready", (int)chld);
    w = wait(&status);
    printf("wait -> child %s, exit %d\n", w > 0 ? "reaped" : "none", WEXITSTATUS(status));
    return 0;
}
