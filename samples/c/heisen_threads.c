/* heisen_threads: a heisenbug that depends on thread order.
 * Two threads race to report in; the program assumes thread "a" always comes
 * first and fails when "b" does. Each thread reports by writing its name to a
 * pipe, and the first byte the main thread reads is the winner's flag. Thread
 * a sleeps briefly before it reports (the kind of delay logging or a page
 * fault adds), which makes the window real: either can win.
 * The race goes through the kernel (the order of the two writes), which a
 * recording keeps and a replay repeats. A race decided only in memory (say,
 * two threads contending for a mutex) is not: deja orders syscalls, not
 * memory accesses, and a replay of one can diverge (see docs/walkthroughs.md). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];

static void *racer(void *arg) {
    char me = *(const char *)arg;
    if (me == 'a') {
        struct timespec d = {0, 20000}; /* 20 us: about as long as starting b */
        nanosleep(&d, NULL);
    }
    if (write(pipefd[1], &me, 1) != 1) perror("write");
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order with stderr, on a pipe too */
    pthread_t a, b;
    if (pipe(pipefd) != 0) { perror("pipe"); return 2; }
    if (pthread_create(&a, NULL, racer, "a") != 0 || pthread_create(&b, NULL, racer, "b") != 0) {
        fprintf(stderr, "heisen_threads: pthread_create failed\n");
        return 2;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    char order[2];
    if (read(pipefd[0], order, 2) != 2) { perror("read"); return 2; }
    printf("heisen_threads: thread %c reported first\n", order[0]);
    if (order[0] != 'a') {
        fprintf(stderr, "heisen_threads: FAILED: thread %c won the race\n", order[0]);
        return 1;
    }
    return 0;
}
