/* heisen_input: a heisenbug that depends on what a local server answers.
 *   heisen_input serve PATH   runs the server: listens on the AF_UNIX socket
 *                             PATH and answers each connection with a queue
 *                             depth, a random number 0..99, then closes it.
 *   heisen_input PATH         the client: connects, reads "depth N", and fails
 *                             when N >= 75 (the code assumed the queue is
 *                             never that deep): one run in four.
 * A replay answers connect and read from the recording: it needs neither the
 * server nor its socket, and sees the recorded answer every time. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int address(const char *path, struct sockaddr_un *a) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) {
        fprintf(stderr, "heisen_input: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(a->sun_path, path);
    return 0;
}

static int serve(const char *path) {
    struct sockaddr_un a;
    if (address(path, &a) != 0) return 2;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0) {
        fprintf(stderr, "heisen_input: cannot listen on %s: %s\n", path, strerror(errno));
        return 2;
    }
    printf("heisen_input: serving on %s\n", path);
    fflush(stdout);
    for (;;) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR) continue;
            perror("heisen_input: accept");
            return 2;
        }
        unsigned char r;
        if (getrandom(&r, 1, 0) != 1) { perror("heisen_input: getrandom"); return 2; }
        char answer[32];
        int n = snprintf(answer, sizeof answer, "depth %d\n", r % 100);
        if (write(c, answer, n) != n) perror("heisen_input: write");
        close(c);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(argv[2]);
    if (argc != 2) { fprintf(stderr, "usage: heisen_input PATH | heisen_input serve PATH\n"); return 2; }

    struct sockaddr_un a;
    if (address(argv[1], &a) != 0) return 2;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "heisen_input: cannot connect to %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    char buf[64];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof buf - 1 && (n = read(s, buf + have, sizeof buf - 1 - have)) > 0) have += n;
    buf[have] = 0;
    int depth;
    if (sscanf(buf, "depth %d", &depth) != 1) { fprintf(stderr, "heisen_input: bad answer \"%s\"\n", buf); return 2; }
    printf("heisen_input: server queue depth %d\n", depth);
    if (depth >= 75) {
        fprintf(stderr, "heisen_input: FAILED: depth %d overflows the 75-slot buffer\n", depth);
        return 1;
    }
    return 0;
}
