/* family_file DIR: reading files and their metadata.  DIR holds a file
 * "data" (at least 64 bytes), a symlink "link" to it and a subdirectory
 * "sub" (the test makes them).  openat, read, pread64, readv, preadv, lseek,
 * newfstatat, fstat, statx, getdents64, readlinkat, faccessat, each output
 * against a guard page (see family.h).  Prints every value, inode numbers
 * and times included, so a replay matches only when it answers from the
 * recording; run after DIR was deleted, it must not notice. */
#include "family.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

struct linux_dirent64 { unsigned long long d_ino; long long d_off;
                        unsigned short d_reclen; unsigned char d_type; char d_name[]; };

static void print_stat(const char *label, const struct stat *st) {
    printf("%s: dev %lu ino %lu mode %o nlink %lu uid %u size %ld blocks %ld atime %ld.%09ld mtime %ld.%09ld"
           " ctime %ld.%09ld\n", label, (unsigned long)st->st_dev, (unsigned long)st->st_ino, st->st_mode,
           (unsigned long)st->st_nlink, st->st_uid, (long)st->st_size, (long)st->st_blocks,
           (long)st->st_atim.tv_sec, st->st_atim.tv_nsec, (long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
           (long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: family_file DIR\n"); return 2; }
    family_start();
    int dir = openat(AT_FDCWD, argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dir >= 0);
    int fd = openat(dir, "data", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    printf("openat: dir %d data %d\n", dir, fd);
    errno = 0;
    int missing = openat(dir, "missing", O_RDONLY);
    printf("openat missing: %d errno %d\n", missing, errno);

    char *buf = guarded(16);
    long n = syscall(SYS_read, fd, buf, 16);
    printf("read %ld: %.*s\n", n, (int)n, buf);
    n = syscall(SYS_pread64, fd, buf, 16, 32);
    printf("pread64 %ld at 32: %.*s\n", n, (int)n, buf);
    char *a = guarded(5);
    char *b = guarded(7);
    struct iovec iov[2] = {{a, 5}, {b, 7}};
    n = syscall(SYS_readv, fd, iov, 2);
    printf("readv %ld: %.5s|%.7s\n", n, a, b);
    n = syscall(SYS_preadv, fd, iov, 2, 8, 0);
    printf("preadv %ld at 8: %.5s|%.7s\n", n, a, b);
    printf("lseek end: %ld\n", (long)syscall(SYS_lseek, fd, 0, SEEK_END));
    char *tail = guarded(64);
    n = syscall(SYS_read, fd, tail, 64);
    printf("read at end: %ld\n", n);
    printf("lseek -10: %ld\n", (long)syscall(SYS_lseek, fd, -10, SEEK_END));
    n = syscall(SYS_read, fd, tail, 64);
    printf("read short %ld: %.*s\n", n, (int)n, tail);

    struct stat *st = guarded(sizeof *st);
    CHECK(syscall(SYS_fstat, fd, st) == 0);
    print_stat("fstat data", st);
    CHECK(syscall(SYS_newfstatat, dir, "link", st, 0) == 0);
    print_stat("newfstatat link", st);
    CHECK(syscall(SYS_newfstatat, dir, "link", st, AT_SYMLINK_NOFOLLOW) == 0);
    print_stat("newfstatat link nofollow", st);
    CHECK(syscall(SYS_newfstatat, dir, "sub", st, 0) == 0);
    print_stat("newfstatat sub", st);
    struct statx *sx = guarded(sizeof *sx);
    CHECK(syscall(SYS_statx, dir, "data", 0, STATX_ALL, sx) == 0);
    printf("statx data: mask %x ino %llu size %llu mode %o btime %lld.%09u mtime %lld.%09u\n", sx->stx_mask,
           (unsigned long long)sx->stx_ino, (unsigned long long)sx->stx_size, sx->stx_mode,
           (long long)sx->stx_btime.tv_sec, sx->stx_btime.tv_nsec, (long long)sx->stx_mtime.tv_sec,
           sx->stx_mtime.tv_nsec);

    char *target = guarded(4);
    n = syscall(SYS_readlinkat, dir, "link", target, 4);
    printf("readlinkat into 4: %ld %.*s\n", n, (int)n, target);
    printf("faccessat data R_OK: %ld\n", syscall(SYS_faccessat, dir, "data", R_OK, 0));

    size_t size = 4096;
    char *dents = guarded(size);
    long total = 0;
    for (;;) {
        long got = syscall(SYS_getdents64, dir, dents, size);
        CHECK(got >= 0);
        printf("getdents64: %ld\n", got);
        if (got == 0) break;
        total += got;
        for (long off = 0; off < got;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);
            printf("  %s ino %llu type %u\n", d->d_name, d->d_ino, d->d_type);
            off += d->d_reclen;
        }
    }
    printf("getdents64 total %ld\n", total);
    CHECK(close(fd) == 0 && close(dir) == 0);
    return 0;
}
