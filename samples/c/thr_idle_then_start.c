/* thr_idle_then_start: a thread that waits (forever) on a condition variable,
 * then a second thread that starts after it and ends at once; main joins the
 * second one and returns while the first still waits. A replay that only
 * lets one thread run at a time must not wait for the idle one to make
 * progress. The body below is the reproducer exactly as it was reported
 * (its thread functions ignore their argument). */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; static pthread_cond_t c = PTHREAD_COND_INITIALIZER; static int ready; static void *idle(void *a) { pthread_mutex_lock(&m); while (!ready) pthread_cond_wait(&c, &m); pthread_mutex_unlock(&m); return 0; } static void *quick(void *a) { return 0; } int main(void) { pthread_t t, u; pthread_create(&t, 0, idle, 0); usleep(20000); pthread_create(&u, 0, quick, 0); pthread_join(u, 0); puts("main done"); }
