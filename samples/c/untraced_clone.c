/* untraced_clone: a child made with clone(CLONE_UNTRACED) writes a line and creates the file
 * argv[1]. A tracer must still see (and record) that child, and a replay must not create the
 * file again: CLONE_UNTRACED would otherwise let the child escape tracing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[65536];
static const char *path;

static int child(void *arg) {
    (void)arg;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return 2;
    if (write(fd, "made\n", 5) != 5) return 3;
    close(fd);
    if (write(1, "child wrote the file\n", 21) != 21) return 4;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: untraced_clone FILE\n");
        return 2;
    }
    path = argv[1];
    int pid = clone(child, stack + sizeof stack, CLONE_UNTRACED | SIGCHLD, NULL);
    if (pid < 0) {
        perror("clone");
        return 2;
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 2;
    }
    printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
