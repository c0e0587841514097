/* random: 16 bytes from getrandom and 16 from /dev/urandom, printed in hex.
 * Different every run; a replay must print the recorded bytes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "random: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

static void hex(const char *what, const unsigned char *b, size_t n) {
    printf("%s ->", what);
    for (size_t i = 0; i < n; i++) printf("%s%02x", i ? "" : " ", b[i]);
    printf("\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char a[16], b[16];
    ssize_t n = getrandom(a, sizeof a, 0);
    CHECK(n == (ssize_t)sizeof a);
    printf("getrandom 16 -> %zd\n", n);
    hex("getrandom bytes", a, sizeof a);
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    n = read(fd, b, sizeof b);
    CHECK(n == (ssize_t)sizeof b);
    printf("open /dev/urandom -> fd %d, read 16 -> %zd\n", fd, n);
    hex("urandom bytes", b, sizeof b);
    close(fd);
    printf("the two differ: %s\n", memcmp(a, b, sizeof a) ? "yes" : "no");
    return 0;
}
