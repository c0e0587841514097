/* ioctl: the answers of ioctls that fail or read a count: TCGETS on a pipe
 * (ENOTTY), FIONREAD on a pipe holding 5 bytes (5), TIOCGWINSZ on /dev/null
 * (ENOTTY), an unknown request number on /dev/null, and FIONREAD on a
 * regular file.  Prints each result and errno name. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "ioctl: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

static void result(const char *what, int r) {
    printf("%s -> %d", what, r);
    if (r < 0) printf(" errno %s", strerrorname_np(errno));
    printf("\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    printf("pipe2 -> fds %d %d\n", p[0], p[1]);

    struct termios tio;
    errno = 0;
    result("ioctl pipe TCGETS", ioctl(p[0], TCGETS, &tio));

    int avail = -1;
    result("ioctl pipe FIONREAD (empty)", ioctl(p[0], FIONREAD, &avail));
    printf("  bytes available %d\n", avail);
    CHECK(write(p[1], "12345", 5) == 5);
    avail = -1;
    result("ioctl pipe FIONREAD (5 written)", ioctl(p[0], FIONREAD, &avail));
    printf("  bytes available %d\n", avail);

    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    CHECK(null >= 0);
    printf("open /dev/null -> fd %d\n", null);
    struct winsize ws = {0};
    errno = 0;
    result("ioctl /dev/null TIOCGWINSZ", ioctl(null, TIOCGWINSZ, &ws));
    errno = 0;
    result("ioctl /dev/null unknown request 0xdead", ioctl(null, 0xdead, 0));
    errno = 0;
    result("ioctl closed fd FIONREAD", ioctl(999, FIONREAD, &avail));

    char path[4096];
    snprintf(path, sizeof path, "%s/deja-ioctl.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int f = mkstemp(path);
    CHECK(f >= 0);
    CHECK(unlink(path) == 0);
    CHECK(write(f, "abcdefgh", 8) == 8);
    CHECK(lseek(f, 3, SEEK_SET) == 3);
    avail = -1;
    result("ioctl regular file FIONREAD at offset 3 of 8", ioctl(f, FIONREAD, &avail));
    printf("  bytes available %d\n", avail);
    close(f); close(null); close(p[0]); close(p[1]);
    return 0;
}
