/* family.h: what the family_*.c test programs share, in the way rr tests
 * itself: each program makes the calls of one family of syscalls and prints
 * everything the kernel answered, the values that differ from run to run
 * included (times, pids, inode numbers), so a replay prints the same only if
 * it answered every call as recorded.  Every buffer the kernel fills ends
 * exactly at a PROT_NONE guard page (guarded()), so a replayer that writes
 * one byte more than the kernel did makes the program crash. */
#ifndef FAMILY_H
#define FAMILY_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "%s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(2); } } while (0)

/* size bytes that end exactly where a PROT_NONE page begins. */
static inline void *guarded(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t span = (size + page - 1) / page * page;
    if (span == 0) span = page;
    char *base = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(base != MAP_FAILED);
    CHECK(mprotect(base + span, page, PROT_NONE) == 0);
    return base + span - size;
}

/* Prints n bytes as hex on one line after a label. */
static inline void hex(const char *label, const void *p, size_t n) {
    const unsigned char *b = p;
    printf("%s:", label);
    for (size_t i = 0; i < n; i++) printf("%s%02x", i % 4 == 0 ? " " : "", b[i]);
    printf("\n");
}

static inline void family_start(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* one write per line, in order with stderr */
}
#endif
