/* family_ipc: descriptors for talking to oneself.  pipe2, eventfd2,
 * timerfd_create/settime/gettime/read, signalfd4 with a signal sent to
 * oneself, dup3, fcntl, each output against a guard page (see family.h).
 * Prints every value. */
#include "family.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

int main(void) {
    family_start();
    int *fds = guarded(2 * sizeof(int));
    CHECK(syscall(SYS_pipe2, fds, O_CLOEXEC) == 0);
    printf("pipe2: %d %d\n", fds[0], fds[1]);
    CHECK(write(fds[1], "through the pipe", 16) == 16);
    char *buf = guarded(32);
    long n = syscall(SYS_read, fds[0], buf, 32);
    printf("pipe read %ld: %.*s\n", n, (int)n, buf);
    int dup = (int)syscall(SYS_dup3, fds[0], 20, O_CLOEXEC);
    printf("dup3: %d flags %ld\n", dup, syscall(SYS_fcntl, dup, F_GETFD));
    printf("fcntl F_GETFL: %lo\n", syscall(SYS_fcntl, fds[1], F_GETFL));
    CHECK(syscall(SYS_fcntl, fds[0], F_SETFL, O_NONBLOCK) == 0);
    errno = 0;
    long empty = syscall(SYS_read, fds[0], buf, 32);
    printf("empty nonblocking read: %ld errno %d\n", empty, errno);

    int efd = (int)syscall(SYS_eventfd2, 5, EFD_CLOEXEC);
    CHECK(efd >= 0);
    uint64_t add = 37;
    CHECK(write(efd, &add, 8) == 8);
    uint64_t *count = guarded(sizeof *count);
    n = syscall(SYS_read, efd, count, 8);
    printf("eventfd %d read %ld: %llu\n", efd, n, (unsigned long long)*count);

    int tfd = (int)syscall(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(tfd >= 0);
    struct itimerspec its = {{0, 1000000}, {0, 1000000}};
    struct itimerspec *old = guarded(sizeof *old);
    CHECK(syscall(SYS_timerfd_settime, tfd, 0, &its, old) == 0);
    printf("timerfd %d old: %ld.%09ld\n", tfd, old->it_value.tv_sec, old->it_value.tv_nsec);
    uint64_t *expirations = guarded(sizeof *expirations);
    n = syscall(SYS_read, tfd, expirations, 8);
    printf("timerfd read %ld: at least one expiration: %d\n", n, *expirations >= 1);
    printf("timerfd expirations: %llu\n", (unsigned long long)*expirations);
    struct itimerspec *cur = guarded(sizeof *cur);
    CHECK(syscall(SYS_timerfd_gettime, tfd, cur) == 0);
    printf("timerfd_gettime: interval %ld.%09ld value %ld.%09ld\n", cur->it_interval.tv_sec, cur->it_interval.tv_nsec,
           cur->it_value.tv_sec, cur->it_value.tv_nsec);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &mask, NULL) == 0);
    int sfd = (int)syscall(SYS_signalfd4, -1, &mask, 8, SFD_CLOEXEC);
    CHECK(sfd >= 0);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    struct signalfd_siginfo *info = guarded(sizeof *info);
    n = syscall(SYS_read, sfd, info, sizeof *info);
    printf("signalfd %d read %ld: signo %u code %d pid %u uid %u\n", sfd, n, info->ssi_signo, info->ssi_code,
           info->ssi_pid, info->ssi_uid);
    return 0;
}
