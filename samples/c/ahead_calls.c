/* ahead_calls DIR [N] [diverge|fault]: N rounds (default 500) of the calls replay answers without a
 * stop (open, fstat, read, pread, lseek, stat and access of paths, readlink, getdents, close), each at
 * its own libc wrapper, and prints what they gave (a checksum of every result and byte). With
 * "diverge", a last round stats a path made from the CPU's time-stamp counter, which no replay makes
 * again: the replay must stop at that call as a divergence, answers ahead or not. With "fault", the
 * last preads go into a writable buffer or a read-only page as the time-stamp counter says: one that
 * got bytes when recorded and points to the read-only page in replay must stop the replay as a
 * divergence, not crash the program.
 * DIR is a scratch directory it may write in. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

static unsigned long sum;

static void mix(const void *p, long n) {
    const unsigned char *b = p;
    for (long i = 0; i < n; i++) sum = sum * 131 + b[i];
}

static void mixl(long v) {
    mix(&v, sizeof v);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ahead_calls DIR [N] [diverge]\n");
        return 2;
    }
    const char *dir = argv[1];
    long rounds = argc > 2 ? atol(argv[2]) : 500;
    char path[4096], link[4096];
    snprintf(path, sizeof path, "%s/data", dir);
    int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "0123456789abcdefghijklmnopqrstuvwxyz", 36) != 36) return 3;
    close(w);
    snprintf(link, sizeof link, "%s/link", dir);
    unlink(link);
    if (symlink("data", link) != 0) return 3;
    for (long i = 0; i < rounds; i++) {
        int fd = open(path, O_RDONLY);
        mixl(fd);
        struct stat st;
        mixl(fstat(fd, &st));
        mixl(st.st_size);
        char buf[64];
        long n = read(fd, buf, 1 + i % 20);
        mixl(n);
        mix(buf, n);
        n = pread(fd, buf, 5, i % 30);
        mix(buf, n);
        mixl(lseek(fd, 0, SEEK_CUR));
        mixl(close(fd));
        mixl(stat(path, &st));
        mixl(st.st_ino != 0);
        mixl(access(path, R_OK));
        mixl(access(i % 2 ? "/nonexistent/ahead" : path, F_OK));
        n = readlink(link, buf, sizeof buf);
        mixl(n);
        mix(buf, n > 0 ? n : 0);
        mixl(getppid());
        if (i % 50 == 0) {
            int d = open(dir, O_RDONLY | O_DIRECTORY);
            char dents[4096];
            long got = syscall(SYS_getdents64, d, dents, sizeof dents);
            mixl(got > 0);
            close(d);
        }
    }
    if (argc > 3 && strcmp(argv[3], "diverge") == 0) {
        struct stat st;
        char other[4096];
        for (int i = 0; i < 40; i++) mixl(stat(path, &st)); /* answered ahead, the next one with them */
        snprintf(other, sizeof other, "%s/tsc-%llu", dir, (unsigned long long) __rdtsc());
        mixl(stat(other, &st));
    }
    if (argc > 3 && strcmp(argv[3], "fault") == 0) {
        struct stat st;
        char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char rw[16];
        int fd = open(path, O_RDONLY);
        for (int i = 0; i < 40; i++) mixl(stat(path, &st));
        for (int i = 0; i < 24; i++) {
            char *dst = (__rdtsc() >> 4) & 1 ? ro : rw;
            long n = pread(fd, dst, 4, i);
            mixl(n);
        }
        close(fd);
    }
    printf("%ld rounds: %016lx\n", rounds, sum);
    return 0;
}
