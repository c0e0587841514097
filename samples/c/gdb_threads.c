/* gdb_threads: 3 named worker threads for gdb on a replay. Each worker names itself
 * (pthread_setname_np: "worker-1".."worker-3"), waits at a barrier until all three exist,
 * then calls work(), which writes a line; main joins them and exits with the sum of their
 * results (1+2+3 = 6). Built unoptimised (gdb_*), so every frame and local stays visible. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NWORKERS 3

static pthread_barrier_t all_started;

int work(int id) {
    char line[64];
    int n = snprintf(line, sizeof line, "worker %d works\n", id);
    if (write(1, line, (size_t) n) != n) return -1;
    return id;
}

static void *worker(void *arg) {
    int id = (int) (long) arg;
    char name[16];
    snprintf(name, sizeof name, "worker-%d", id);
    pthread_setname_np(pthread_self(), name);
    pthread_barrier_wait(&all_started);
    return (void *) (long) work(id);
}

int main(void) {
    pthread_t t[NWORKERS];
    pthread_barrier_init(&all_started, NULL, NWORKERS);
    for (long i = 0; i < NWORKERS; i++) {
        if (pthread_create(&t[i], NULL, worker, (void *) (i + 1)) != 0) {
            perror("pthread_create");
            return 100;
        }
    }
    int sum = 0;
    for (int i = 0; i < NWORKERS; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (int) (long) r;
    }
    printf("sum %d\n", sum);
    return sum;
}
