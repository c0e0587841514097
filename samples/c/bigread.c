/* bigread [DIR]: writes an 8 MiB file with a known pattern in DIR (default
 * $TMPDIR or /tmp), reads it back in 1 MiB reads and prints the count and an
 * FNV-1a checksum of what was read.  A recorder must keep every byte: replay
 * prints the same checksum only if all 8 MiB came back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "bigread: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

#define MIB (1024 * 1024)
#define SIZE (8 * MIB)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 31 + (i >> 12) + (i >> 20)); }
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    return h;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dir = argc > 1 ? argv[1] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/bigread.XXXXXX", dir);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(unlink(path) == 0);

    unsigned char *buf = malloc(MIB);
    CHECK(buf != NULL);
    uint64_t expect = 14695981039346656037ULL;
    for (size_t off = 0; off < SIZE; off += MIB) {
        for (size_t i = 0; i < MIB; i++) buf[i] = pattern(off + i);
        expect = fnv(expect, buf, MIB);
        CHECK(write(fd, buf, MIB) == MIB);
    }
    printf("wrote %d bytes in %d writes\n", SIZE, SIZE / MIB);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);

    uint64_t sum = 14695981039346656037ULL;
    long total = 0, reads = 0;
    int pattern_ok = 1;
    for (;;) {
        memset(buf, 0, MIB);
        ssize_t n = read(fd, buf, MIB);
        CHECK(n >= 0);
        reads++;
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) if (buf[i] != pattern(total + i)) pattern_ok = 0;
        sum = fnv(sum, buf, n);
        total += n;
    }
    printf("read %ld bytes in %ld reads (last one at eof)\n", total, reads);
    printf("checksum %016llx\n", (unsigned long long)sum);
    printf("pattern %s, checksum %s\n", pattern_ok ? "ok" : "WRONG", sum == expect ? "ok" : "WRONG");
    close(fd);
    free(buf);
    return total == SIZE && pattern_ok && sum == expect ? 0 : 1;
}
