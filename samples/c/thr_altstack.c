/* thr_altstack: a thread sets an alternate signal stack (sigaltstack), makes 50
 * getppid calls, and then raises SIGUSR1 itself, whose handler (SA_ONSTACK) notes
 * whether it ran on that stack; main prints "onalt 1" when it did. A checkpoint's
 * copy of the thread that lost its alternate stack prints "onalt 0" (a
 * divergence). The thread signals itself (a signal from main is the subject of
 * kill_between). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ALT_SIZE 65536

static char *alt;
static volatile sig_atomic_t onalt = -1;

static void handler(int signo) {
    (void) signo;
    char here;
    onalt = &here >= alt && &here < alt + ALT_SIZE;
}

static void *worker(void *arg) {
    (void) arg;
    alt = malloc(ALT_SIZE);
    stack_t ss = {.ss_sp = alt, .ss_flags = 0, .ss_size = ALT_SIZE};
    if (alt == NULL || sigaltstack(&ss, NULL) != 0) {
        perror("sigaltstack");
        exit(1);
    }
    for (int i = 0; i < 50; i++) getppid();
    pthread_kill(pthread_self(), SIGUSR1); /* delivered before it returns */
    return NULL;
}

int main(void) {
    struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    pthread_join(t, NULL);
    printf("onalt %d\n", (int) onalt);
    return 0;
}
