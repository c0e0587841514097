/* thr_exec_nonleader: a thread other than main calls execve("/bin/echo",
 * {"/bin/echo", "exec-from-thread"}) while main is blocked in pthread_join.
 * The kernel kills every other thread, the execing thread takes over the
 * thread group leader's id, and echo prints exec-from-thread (status 0). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

extern char **environ;

static void *execer(void *arg) {
    (void)arg;
    char *argv[] = {"/bin/echo", "exec-from-thread", NULL};
    execve(argv[0], argv, environ);
    perror("execve");
    return NULL;
}

int main(void) {
    pthread_t t;
    printf("main: starting the thread that execs\n");
    fflush(stdout);
    if (pthread_create(&t, NULL, execer, NULL) != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
    pthread_join(t, NULL);
    fprintf(stderr, "main: the exec failed\n");
    return 1;
}
