/* inputs FILE...: reads each input file and prints its name, size, an FNV-1a
 * checksum and its first line, then exits with status 3 (so that a replay's
 * status can be told from success).  A replay elsewhere prints the same lines
 * only if the recording carried every byte read: the files need not exist. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: inputs FILE...\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) { fprintf(stderr, "inputs: %s: %s\n", argv[i], strerror(errno)); return 1; }
        char buf[4096], first[128] = "";
        size_t total = 0, firstLen = 0;
        int inFirst = 1;
        uint64_t h = 1469598103934665603ULL;
        for (;;) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0) { fprintf(stderr, "inputs: read %s: %s\n", argv[i], strerror(errno)); return 1; }
            if (n == 0) break;
            for (ssize_t k = 0; k < n; k++) {
                h = (h ^ (unsigned char)buf[k]) * 1099511628211ULL;
                if (inFirst) {
                    if (buf[k] == '\n') inFirst = 0;
                    else if (firstLen + 1 < sizeof first) first[firstLen++] = buf[k];
                }
            }
            total += (size_t)n;
        }
        close(fd);
        first[firstLen] = 0;
        printf("%s: %zu bytes, fnv %016llx, first line \"%s\"\n", argv[i], total, (unsigned long long)h, first);
    }
    return 3;
}
