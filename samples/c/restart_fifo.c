/* restart_fifo: a blocking open(2) of a FIFO is interrupted by a signal the program ignores. The
 * tracer sees the call end with ERESTARTSYS; the kernel then issues it again and the program never
 * sees the code. Replay must do the same (a replay that hands the program -512 prints "open: Unknown
 * error 512"). A second open is interrupted by a handler without SA_RESTART: the program gets EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr2(int sig) { (void)sig; }

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: restart_fifo FIFO-PATH\n");
        return 2;
    }
    const char *path = argv[1];
    unlink(path);
    if (mkfifo(path, 0600) != 0) { perror("mkfifo"); return 2; }
    signal(SIGUSR1, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2; /* no SA_RESTART: the open fails with EINTR */
    sigaction(SIGUSR2, &sa, NULL);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        kill(parent, SIGUSR1); /* ignored: the open goes on */
        usleep(100000);
        int fd = open(path, O_WRONLY);
        if (fd < 0) _exit(3);
        if (write(fd, "through the fifo\n", 17) != 17) _exit(4);
        close(fd);
        usleep(100000);
        kill(parent, SIGUSR2); /* handled without SA_RESTART: the second open fails */
        _exit(0);
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    close(fd); /* at EOF the writer is gone: the next open blocks */
    fflush(stdout);
    fd = open(path, O_RDONLY);
    printf("second open: %s\n", fd < 0 ? strerror(errno) : "opened");
    int status;
    waitpid(child, &status, 0);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
