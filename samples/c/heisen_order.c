/* heisen_order: a thread-order bug that tracing hides. The main thread starts a worker and then
 * reports "m"; the worker reports "w" as soon as it runs. The program assumes the main thread
 * always reports first (it "just started" the worker) and fails when the worker wins.
 * Natively the race is close; under a tracer the new thread's start-up calls (set_robust_list,
 * rseq, sigprocmask...) each cost two ptrace stops, so the main thread nearly always wins and the
 * bug hides: the case deja record --chaos is for. Both reports are writes to one pipe, so the
 * order is in the recording and a replay repeats it.
 * Usage: heisen_order [K]  (K getppid calls in the main thread before it reports; default 0) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int pipefd[2];

static void *worker(void *arg) {
    (void)arg;
    if (write(pipefd[1], "w", 1) != 1) perror("write");
    return NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    long k = argc > 1 ? atol(argv[1]) : 0;
    pthread_t t;
    if (pipe(pipefd) != 0) { perror("pipe"); return 2; }
    if (pthread_create(&t, NULL, worker, NULL) != 0) {
        fprintf(stderr, "heisen_order: pthread_create failed\n");
        return 2;
    }
    for (long i = 0; i < k; i++) getppid();
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
