/* attach_target: a long-running process to attach to (deja trace -p). Prints
 * "ready" once its second thread runs, then both threads call getppid and sleep
 * 20 ms in a loop until the process is killed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void tick(void) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    syscall(SYS_getppid);
    nanosleep(&ts, NULL);
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) tick();
    return NULL;
}

int main(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) {
        perror("attach_target: pthread_create");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) tick();
}
