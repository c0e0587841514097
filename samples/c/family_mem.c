/* family_mem FILE [--mincore]: memory.  mmap of FILE (private and shared,
 * read), anonymous mmap, mremap (grow, shrink in place), madvise, mprotect,
 * msync, munmap; with --mincore also mincore (its vector against a guard
 * page, see family.h).  Prints the bytes seen through the mappings and what
 * mincore said, so a replay matches only when it maps the recorded file
 * contents; run after FILE was deleted, it must not notice. */
#include "family.h"
#include <fcntl.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--mincore") != 0)) {
        fprintf(stderr, "usage: family_mem FILE [--mincore]\n");
        return 2;
    }
    int with_mincore = argc == 3;
    family_start();
    long page = sysconf(_SC_PAGESIZE);
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    char *priv = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(priv != MAP_FAILED);
    printf("mmap private: %.16s ... %.16s\n", priv, priv + page);
    char *shared = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
    CHECK(shared != MAP_FAILED);
    printf("mmap shared at offset %ld: %.16s\n", page, shared);
    CHECK(close(fd) == 0);

    unsigned char *vec = guarded(2);
    if (with_mincore) {
        CHECK(syscall(SYS_mincore, priv, 2 * page, vec) == 0);
        printf("mincore file: %u %u\n", vec[0] & 1, vec[1] & 1);
    }
    CHECK(madvise(priv, 2 * page, MADV_WILLNEED) == 0);
    CHECK(madvise(priv, 2 * page, MADV_SEQUENTIAL) == 0);

    char *anon = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(anon != MAP_FAILED);
    memcpy(anon, "anonymous page", 15);
    char *grown = mremap(anon, page, 4 * page, MREMAP_MAYMOVE);
    CHECK(grown != MAP_FAILED);
    grown[3 * page] = 'x';
    printf("mremap grown: %s %c\n", grown, grown[3 * page]);
    unsigned char *vec4 = guarded(4);
    if (with_mincore) {
        CHECK(syscall(SYS_mincore, grown, 4 * page, vec4) == 0);
        printf("mincore anon: %u %u %u %u\n", vec4[0] & 1, vec4[1] & 1, vec4[2] & 1, vec4[3] & 1);
    }
    CHECK(madvise(grown + page, page, MADV_DONTNEED) == 0);
    printf("after MADV_DONTNEED: %d\n", grown[page]);
    CHECK(mprotect(grown, page, PROT_READ) == 0);
    CHECK(msync(grown, page, MS_SYNC) == 0);
    char *moved = mremap(grown, 4 * page, page, 0);
    CHECK(moved == grown);
    printf("mremap shrunk in place: %s\n", moved);
    if (with_mincore) {
        errno = 0;
        long unmapped = syscall(SYS_mincore, grown + page, page, vec);
        printf("mincore unmapped: %ld errno %d\n", unmapped, errno);
    }
    CHECK(munmap(moved, page) == 0 && munmap(priv, 2 * page) == 0 && munmap(shared, page) == 0);
    return 0;
}
