/* heisen_signal: a heisenbug that depends on when a signal lands.
 * The program saves a two-part record (a header, then a body) into a file
 * over and over: pwrite of the header, a short sleep (the body takes a moment
 * to make), pwrite of the body, a longer sleep.  A one-shot ITIMER_REAL timer
 * fires SIGALRM after 30 ms (past a recording's first saves, whose stops do
 * more work than the later ones); its handler takes a "status snapshot" by reading
 * the file back.  When the signal lands between the two writes, the snapshot
 * sees a header without its body, a torn record, and the program fails (an
 * empty file, between two saves, is fine): in about half the runs, natively
 * or recorded.  The handler's view depends only on which call the signal
 * followed, so a replay that delivers the recorded SIGALRM after the recorded
 * call (the timer is not armed for real) tears the same record again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HEADER "HEAD"
#define BODY "body"

static int fd = -1;
static volatile sig_atomic_t fired, torn, iteration, seen_iteration;

static void snapshot(int sig) {
    (void)sig;
    char buf[16] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    /* empty: between saves, fine; HEADER BODY: a whole record; HEADER alone: torn */
    torn = n == 4;
    seen_iteration = iteration;
    fired = 1;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    if (fd < 0) { perror("heisen_signal: open O_TMPFILE in /tmp"); return 2; }
    struct sigaction sa = {.sa_handler = snapshot, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0) { perror("heisen_signal: sigaction"); return 2; }
    struct itimerval once = {.it_value = {.tv_sec = 0, .tv_usec = 30000}};
    if (setitimer(ITIMER_REAL, &once, NULL) != 0) { perror("heisen_signal: setitimer"); return 2; }

    /* Bounded: the timer fires long before, natively or traced. */
    for (int i = 0; i < 10000000 && !fired; i++) {
        iteration = i;
        if (ftruncate(fd, 0) != 0) { perror("heisen_signal: ftruncate"); return 2; }
        if (pwrite(fd, HEADER, 4, 0) != 4) { perror("heisen_signal: pwrite header"); return 2; }
        /* The body takes a moment to make: a window for the signal. */
        struct timespec moment = {.tv_sec = 0, .tv_nsec = 50000};
        nanosleep(&moment, NULL);
        if (pwrite(fd, BODY, 4, 4) != 4) { perror("heisen_signal: pwrite body"); return 2; }
        /* Saves are spaced out: the signal mostly lands here, harmlessly. */
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 150000};
        nanosleep(&pause, NULL);
    }
    if (!fired) { fprintf(stderr, "heisen_signal: the timer never fired\n"); return 2; }
    printf("heisen_signal: SIGALRM landed in save %d\n", (int)seen_iteration);
    if (torn) {
        fprintf(stderr, "heisen_signal: FAILED: the snapshot saw a torn record (header without body)\n");
        return 1;
    }
    return 0;
}
