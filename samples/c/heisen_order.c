/* heisen_order: a thread-order bug that tracing hides. The main thread starts a worker and then
 * reports "m"; the worker makes K quick system calls (its start-up work) and reports "w". The
 * program assumes the main thread always reports first (it "just started" the worker) and fails
 * when the worker wins.
 * Natively K quick calls cost well under a microsecond and the race is close; under a tracer each
 * call costs two ptrace stops, so the main thread nearly always wins and the bug hides: the case
 * deja record --chaos is for. Both reports are writes to one pipe, so the order is in the
 * recording and a replay repeats it.
 * Usage: heisen_order [K]  (default 5) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int pipefd[2];

static long k = 5;

static void *worker(void *arg) {
    (void)arg;
    for (long i = 0; i < k; i++) getppid();
    if (write(pipefd[1], "w", 1) != 1) perror("write");
    return NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) k = atol(argv[1]);
    pthread_t t;
    if (pipe(pipefd) != 0) { perror("pipe"); return 2; }
    if (pthread_create(&t, NULL, worker, NULL) != 0) {
        fprintf(stderr, "heisen_order: pthread_create failed\n");
        return 2;
    }
    if (write(pipefd[1], "m", 1) != 1) { perror("write"); return 2; }
    pthread_join(t, NULL);
    char order[2];
    if (read(pipefd[0], order, 2) != 2) { perror("read"); return 2; }
    printf("heisen_order: %c reported first\n", order[0]);
    if (order[0] != 'm') {
        fprintf(stderr, "heisen_order: FAILED: the worker reported before the main thread\n");
        return 1;
    }
    return 0;
}
