/* signals [kill]: a SIGUSR1 handler installed with sigaction, raised with
 * kill and tgkill, blocked and unblocked with sigprocmask (pending while
 * blocked), an alarm cancelled, and a one-shot ITIMER_REAL that fires SIGALRM
 * once.  Prints what the handlers saw (signal, si_code) and when.
 * "signals kill" instead dies of SIGTERM with the default action, so the
 * status a shell reports is 128+15 = 143. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "signals: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

static volatile sig_atomic_t usr1_count, alrm_count, last_code, last_signo;

static void on_signal(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    if (sig == SIGUSR1) usr1_count++;
    if (sig == SIGALRM) alrm_count++;
    last_signo = si->si_signo;
    last_code = si->si_code;
}

static const char *code_name(int code) {
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_TIMER: return "SI_TIMER";
    default: return "other";
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "kill") == 0) {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        CHECK(sigaction(SIGTERM, &dfl, NULL) == 0);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGTERM);
        CHECK(sigprocmask(SIG_UNBLOCK, &s, NULL) == 0);
        printf("signals kill: raising SIGTERM with the default action\n");
        kill(getpid(), SIGTERM);
        printf("signals kill: still alive after SIGTERM\n");
        return 1;
    }

    struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
    printf("sigaction SIGUSR1 -> 0, old handler %s\n", old.sa_handler == SIG_DFL ? "SIG_DFL" : "other");
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);

    CHECK(kill(getpid(), SIGUSR1) == 0);
    printf("kill self SIGUSR1 -> handled %d, signo %d code %s\n", (int)usr1_count, (int)last_signo, code_name(last_code));
    CHECK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1) == 0);
    printf("tgkill self SIGUSR1 -> handled %d, signo %d code %s\n", (int)usr1_count, (int)last_signo, code_name(last_code));

    sigset_t block, prev, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &block, &prev) == 0);
    printf("sigprocmask SIG_BLOCK SIGUSR1 -> 0, was blocked %d\n", sigismember(&prev, SIGUSR1));
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(sigpending(&pending) == 0);
    printf("kill while blocked -> handled %d, pending %d\n", (int)usr1_count, sigismember(&pending, SIGUSR1));
    CHECK(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0);
    printf("sigprocmask SIG_UNBLOCK -> handled %d\n", (int)usr1_count);
    CHECK(sigpending(&pending) == 0);
    printf("pending after unblock %d\n", sigismember(&pending, SIGUSR1));

    unsigned left = alarm(30);
    unsigned left2 = alarm(0);
    printf("alarm 30 -> %u, alarm 0 -> %u\n", left, left2);

    /* one-shot ITIMER_REAL, waited for with sigsuspend */
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &alrm, NULL) == 0);
    struct itimerval it = {.it_interval = {0, 0}, .it_value = {0, 20000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    printf("setitimer ITIMER_REAL 20ms one-shot -> 0\n");
    sigset_t wait_mask;
    CHECK(sigprocmask(SIG_BLOCK, NULL, &wait_mask) == 0);
    sigdelset(&wait_mask, SIGALRM);
    while (alrm_count == 0) {
        int r = sigsuspend(&wait_mask);
        CHECK(r == -1 && errno == EINTR);
    }
    printf("sigsuspend -> EINTR, SIGALRM handled %d, signo %d code %s\n", (int)alrm_count, (int)last_signo, code_name(last_code));
    struct itimerval now;
    CHECK(getitimer(ITIMER_REAL, &now) == 0);
    printf("getitimer after firing -> %ld.%06ld (disarmed)\n", (long)now.it_value.tv_sec, (long)now.it_value.tv_usec);
    CHECK(sigprocmask(SIG_UNBLOCK, &alrm, NULL) == 0);
    printf("SIGALRM total %d, SIGUSR1 total %d\n", (int)alrm_count, (int)usr1_count);
    return usr1_count == 3 && alrm_count == 1 ? 0 : 1;
}
