/* thr_prodcons: a bounded queue (8 slots) guarded by a mutex and two condition
 * variables; 2 producers put the items 1..10000 (each half of them), 2
 * consumers take them until each gets a 0 (the end marker main puts after the
 * producers are done). Prints the count and the sum of consumed items
 * (always 10000 and 50005000); who consumed what varies from run to run. */
#include <pthread.h>
#include <stdio.h>

#define SLOTS 8
#define ITEMS 10000
#define PRODUCERS 2
#define CONSUMERS 2

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long queue[SLOTS];
static int head, count;
static long consumed, sum;

static void put(long item) {
    pthread_mutex_lock(&lock);
    while (count == SLOTS) pthread_cond_wait(&not_full, &lock);
    queue[(head + count++) % SLOTS] = item;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
}

static long take(void) {
    pthread_mutex_lock(&lock);
    while (count == 0) pthread_cond_wait(&not_empty, &lock);
    long item = queue[head];
    head = (head + 1) % SLOTS;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    return item;
}

static void *producer(void *arg) {
    long first = (long)arg * (ITEMS / PRODUCERS) + 1;
    for (long i = first; i < first + ITEMS / PRODUCERS; i++) put(i);
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    long item, n = 0, s = 0;
    while ((item = take()) != 0) { n++; s += item; }
    pthread_mutex_lock(&lock);
    consumed += n;
    sum += s;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void) {
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (long i = 0; i < CONSUMERS; i++) {
        if (pthread_create(&c[i], NULL, consumer, NULL) != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
    }
    for (long i = 0; i < PRODUCERS; i++) {
        if (pthread_create(&p[i], NULL, producer, (void *)i) != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
    }
    for (int i = 0; i < PRODUCERS; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++) put(0);
    for (int i = 0; i < CONSUMERS; i++) pthread_join(c[i], NULL);
    printf("consumed=%ld sum=%ld\n", consumed, sum);
    return consumed == ITEMS && sum == (long)ITEMS * (ITEMS + 1) / 2 ? 0 : 1;
}
