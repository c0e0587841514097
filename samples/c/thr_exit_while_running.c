/* thr_exit_while_running: a worker thread calls exit(3) while the main thread
 * runs: main loops on user code with a getppid call now and then, so the
 * worker's exit_group ends it between two of its calls (not inside one, as
 * with thr_worker_exit's join). The process ends with status 3; main's loop
 * never ends on its own. argv[1]: iterations of user code between two calls
 * (default 300000). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned long sink;

static void *worker(void *arg) {
    (void)arg;
    usleep(20000);
    printf("worker: exit(3)\n"); /* flushed by exit */
    exit(3);
}

int main(int argc, char **argv) {
    unsigned long spin = argc > 1 ? strtoul(argv[1], NULL, 10) : 300000;
    pthread_t t;
    printf("main: running\n");
    fflush(stdout);
    if (pthread_create(&t, NULL, worker, NULL) != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
    for (;;) {
        for (unsigned long i = 0; i < spin; i++) sink += i;
        getppid();
    }
}
