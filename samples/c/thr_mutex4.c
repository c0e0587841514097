/* thr_mutex4: 4 threads each lock a pthread mutex, increment a shared counter
 * and unlock, 100000 times; main prints total=400000 (always). Under
 * contention glibc's mutex waits and wakes through futex calls, in an order
 * that changes from run to run. */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define ROUNDS 100000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void) {
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        if (pthread_create(&t[i], NULL, worker, NULL) != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
    }
    for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
    printf("total=%ld\n", counter);
    return counter == (long)NTHREADS * ROUNDS ? 0 : 1;
}
