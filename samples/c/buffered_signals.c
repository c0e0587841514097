/* buffered_signals [N]: N rounds (default 20000) of calls a recording makes without a stop (stat, fstat,
 * pread of a file, getpid) while an interval timer's SIGALRM comes every 2 milliseconds to a handler that
 * counts it and makes a call of its own; prints a checksum of the results and how many signals came.
 * Signals land inside deja's buffer stubs: the recording holds each until the thread is back in its own
 * code, so that replay delivers it at the same place. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static volatile long signals;
static volatile long pids;

static void on_alarm(int sig) {
    (void) sig;
    signals++;
    pids += getpid() > 0;
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 20000;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_REAL, &it, 0);
    int fd = open("/etc/passwd", O_RDONLY);
    unsigned long sum = 0;
    char buf[64];
    for (long i = 0; i < rounds; i++) {
        struct stat st;
        sum = sum * 31 + (unsigned long) stat("/etc/passwd", &st) + (unsigned long) st.st_size;
        sum = sum * 31 + (unsigned long) fstat(fd, &st) + (unsigned long) st.st_ino;
        long n = pread(fd, buf, sizeof buf, i % 100);
        for (long k = 0; k < n; k++) sum = sum * 31 + (unsigned char) buf[k];
        sum = sum * 31 + (unsigned long) (getpid() > 0);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, 0);
    printf("checksum %lx\n", sum);
    printf("signals %ld, handler calls %ld\n", signals, pids);
    return signals > 0 ? 0 : 1;
}
