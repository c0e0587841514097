/* thr_worker_exit: a worker thread calls exit(3) while the main thread is
 * blocked in pthread_join on it. The whole process ends with status 3 and main
 * never returns from the join. The worker sleeps 20 ms first so that main is
 * in the join by then (the output does not depend on it). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *worker(void *arg) {
    (void)arg;
    usleep(20000);
    printf("worker: exit(3)\n"); /* flushed by exit */
    exit(3);
}

int main(void) {
    pthread_t t;
    printf("main: joining the worker\n");
    fflush(stdout);
    if (pthread_create(&t, NULL, worker, NULL) != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
    pthread_join(t, NULL);
    printf("main: joined (never printed)\n");
    return 0;
}
