/*
 * nested_calls FILE: main -> outer -> middle -> inner, and inner reads FILE (a read three calls
 * deep); outer then writes what was read to stdout. The program `deja debug`'s bt, x/i and
 * `break read exit` are tested with (DebugCodeIT), and `deja trace -k` (TraceIT): every function
 * is kept out of line so the stack shows each by name, and built with the samples' -O1, without
 * frame pointers, so the unwinder must follow .eh_frame.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) long inner(int fd, char *buf, size_t size) {
    long n = read(fd, buf, size);
    __asm__ volatile("" ::: "memory");
    return n;
}

__attribute__((noinline)) long middle(int fd, char *buf, size_t size) {
    long n = inner(fd, buf, size);
    __asm__ volatile("" ::: "memory");
    return n < 0 ? -1 : n;
}

__attribute__((noinline)) int outer(const char *path) {
    char buf[64];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return 2;
    }
    long n = middle(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return 3;
    buf[n] = '\0';
    char line[128];
    int len = snprintf(line, sizeof line, "read %ld bytes: %s\n", n, buf);
    if (write(1, line, (size_t) len) != len) return 4;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: nested_calls FILE\n");
        return 2;
    }
    return outer(argv[1]);
}
