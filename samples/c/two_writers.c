/* two_writers: two threads meet at a barrier, then each writes one line
 * ("thread 1\n" or "thread 2\n") to stdout with a single write(2). Which line
 * comes first is up to the scheduler -- or to a tracer that holds one write
 * while it lets the other go (many events outstanding at once). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_barrier_t barrier;

static void *writer(void *arg) {
    const char *line = arg;
    pthread_barrier_wait(&barrier);
    if (write(1, line, 9) != 9) return (void *)1;
    return NULL;
}

int main(void) {
    pthread_t a, b;
    void *ra, *rb;
    pthread_barrier_init(&barrier, NULL, 2);
    if (pthread_create(&a, NULL, writer, "thread 1\n") != 0 || pthread_create(&b, NULL, writer, "thread 2\n") != 0) {
        perror("two_writers: pthread_create");
        return 1;
    }
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    return ra == NULL && rb == NULL ? 0 : 1;
}
