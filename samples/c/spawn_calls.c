/* spawn_calls: the calls the recording's buffer makes in the program since 2026-12-06 (an open that may
 * wait, of a file that is there and of one that is not; rt_sigaction, prlimit64, brk) in a process and in
 * the children posix_spawn makes, which run in their parent's memory (CLONE_VM|CLONE_VFORK) and reset
 * every signal's action before their exec, and a child of clone(CLONE_VFORK) without CLONE_VM, which has
 * a copy of its parent's memory, stubs and buffer included. CallBufferIT records it with and without the
 * buffer and compares the calls. Usage: spawn_calls DIR ROUNDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t seen;
static void on_usr1(int sig) { seen += sig; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: spawn_calls DIR ROUNDS\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    char file[4096], missing[4096];
    snprintf(file, sizeof file, "%s/spawn-file", argv[1]);
    snprintf(missing, sizeof missing, "%s/no-such-file", argv[1]);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "twelve bytes", 12) != 12) return 1;
    close(fd);
    long sum = 0;
    for (int r = 0; r < rounds; r++) {
        struct sigaction sa = {0}, old;
        sa.sa_handler = r % 2 ? on_usr1 : SIG_IGN;
        sigaction(SIGUSR1, &sa, &old);
        struct rlimit lim;
        getrlimit(RLIMIT_NOFILE, &lim);
        char *p = malloc(200000 + r); /* brk or mmap: either way the same in both recordings */
        memset(p, r, 16);
        sum += p[3];
        free(p);
        fd = open(file, O_RDONLY);
        char buf[16];
        sum += read(fd, buf, sizeof buf);
        close(fd);
        sum += open(missing, O_RDONLY); /* -1, ENOENT */
        if (r % 10 == 0) {
            char *args[] = {"/bin/true", NULL};
            pid_t child;
            if (posix_spawn(&child, "/bin/true", NULL, NULL, args, environ) != 0) return 1;
            int status;
            waitpid(child, &status, 0);
            sum += WEXITSTATUS(status);
        }
    }
    /* CLONE_VFORK alone: the parent waits, the child runs in a copy of its memory (as after fork) */
    long child = syscall(SYS_clone, CLONE_VFORK | SIGCHLD, NULL, NULL, NULL, 0);
    if (child == 0) {
        char buf[16];
        int f = open(file, O_RDONLY);
        int n = (int) read(f, buf, sizeof buf);
        close(f);
        _exit(n);
    }
    int status;
    if (child < 0 || waitpid((pid_t) child, &status, 0) != child) return 1;
    sum += WEXITSTATUS(status);
    raise(SIGUSR1);
    printf("%d rounds: %ld, signal %d\n", rounds, sum, (int) seen);
    return 0;
}
