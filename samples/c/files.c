/* files DIR: the file-system calls, in a fresh directory DIR (it must exist
 * and be empty).  Prints one line per check with the values a recording must
 * hold: fd numbers, byte counts, the bytes read, sizes and modes.  Calls are
 * made with syscall() where glibc would pick another syscall (fstat,
 * readlink, rename, ...), so each named syscall really happens. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "files: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

struct linux_dirent64 { unsigned long long d_ino; long long d_off;
                        unsigned short d_reclen; unsigned char d_type; char d_name[]; };

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: files DIR\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dir >= 0);
    printf("openat dir -> fd %d\n", dir);

    /* openat + write + lseek + read */
    int fd = openat(dir, "data.txt", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    CHECK(fd >= 0);
    printf("openat data.txt O_CREAT -> fd %d\n", fd);
    const char msg[] = "hello, recorded world\n";
    ssize_t n = write(fd, msg, sizeof msg - 1);
    CHECK(n == (ssize_t)sizeof msg - 1);
    printf("write %zu -> %zd\n", sizeof msg - 1, n);
    off_t off = lseek(fd, 7, SEEK_SET);
    CHECK(off == 7);
    printf("lseek 7 SEEK_SET -> %lld\n", (long long)off);
    char buf[64] = {0};
    n = read(fd, buf, sizeof buf);
    CHECK(n == 15);
    printf("read 64 -> %zd \"%.*s\"\n", n, (int)n - 1, buf);
    n = read(fd, buf, sizeof buf);
    CHECK(n == 0);
    printf("read at eof -> %zd\n", n);
    off = lseek(fd, 0, SEEK_END);
    printf("lseek 0 SEEK_END -> %lld\n", (long long)off);

    /* pwrite64 / pread64 leave the offset alone */
    n = pwrite(fd, "HELLO", 5, 0);
    CHECK(n == 5);
    printf("pwrite64 5 at 0 -> %zd\n", n);
    memset(buf, 0, sizeof buf);
    n = pread(fd, buf, 12, 0);
    CHECK(n == 12);
    printf("pread64 12 at 0 -> %zd \"%.*s\"\n", n, (int)n, buf);
    printf("offset after pread64/pwrite64 -> %lld\n", (long long)lseek(fd, 0, SEEK_CUR));

    /* fstat, newfstatat, statx */
    struct stat st;
    CHECK(syscall(SYS_fstat, fd, &st) == 0);
    printf("fstat -> size %lld mode %o nlink %lu\n", (long long)st.st_size, st.st_mode, (unsigned long)st.st_nlink);
    CHECK(syscall(SYS_newfstatat, dir, "data.txt", &st, 0) == 0);
    printf("newfstatat data.txt -> size %lld mode %o\n", (long long)st.st_size, st.st_mode);
    errno = 0;
    long r = syscall(SYS_newfstatat, dir, "missing", &st, 0);
    printf("newfstatat missing -> %ld errno %s\n", r, strerrorname_np(errno));
    CHECK(r == -1 && errno == ENOENT);
    struct statx stx;
    CHECK(statx(dir, "data.txt", 0, STATX_SIZE | STATX_MODE | STATX_NLINK, &stx) == 0);
    printf("statx data.txt -> size %llu mode %o nlink %u\n", (unsigned long long)stx.stx_size, stx.stx_mode, stx.stx_nlink);

    /* ftruncate */
    CHECK(ftruncate(fd, 5) == 0);
    CHECK(syscall(SYS_fstat, fd, &st) == 0);
    printf("ftruncate 5 -> size %lld\n", (long long)st.st_size);

    /* fcntl */
    int fl = fcntl(fd, F_GETFL);
    printf("fcntl F_GETFL -> accmode %d append %d\n", fl & O_ACCMODE, !!(fl & O_APPEND));
    CHECK(fcntl(fd, F_SETFL, fl | O_APPEND) == 0);
    printf("fcntl F_SETFL O_APPEND -> append %d\n", !!(fcntl(fd, F_GETFL) & O_APPEND));
    printf("fcntl F_GETFD -> cloexec %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 30);
    CHECK(fd2 >= 30);
    printf("fcntl F_DUPFD_CLOEXEC 30 -> fd %d\n", fd2);

    /* dup3 onto a chosen number, then write through it (O_APPEND shared) */
    int fd3 = dup3(fd, 40, O_CLOEXEC);
    CHECK(fd3 == 40);
    printf("dup3 %d 40 O_CLOEXEC -> fd %d\n", fd, fd3);
    CHECK(write(fd3, "!", 1) == 1);
    memset(buf, 0, sizeof buf);
    n = pread(fd, buf, sizeof buf, 0);
    printf("pread64 after dup3 write -> %zd \"%.*s\"\n", n, (int)n, buf);
    errno = 0;
    r = dup3(fd, fd, 0);
    printf("dup3 same fd -> %ld errno %s\n", r, strerrorname_np(errno));

    /* mkdir, symlink/readlink, rename, getdents64 */
    CHECK(fchdir(dir) == 0);
    CHECK(syscall(SYS_mkdir, "sub", 0755) == 0);
    printf("mkdir sub -> 0\n");
    errno = 0;
    r = syscall(SYS_mkdir, "sub", 0755);
    printf("mkdir sub again -> %ld errno %s\n", r, strerrorname_np(errno));
    CHECK(symlink("data.txt", "link") == 0);
    char target[64] = {0};
    n = syscall(SYS_readlink, "link", target, sizeof target);
    CHECK(n == 8);
    printf("readlink link -> %zd \"%.*s\"\n", n, (int)n, target);
    n = syscall(SYS_readlink, "link", target, 4);
    printf("readlink link bufsiz 4 -> %zd \"%.*s\"\n", n, (int)n, target);
    CHECK(syscall(SYS_rename, "data.txt", "renamed.txt") == 0);
    printf("rename data.txt renamed.txt -> 0\n");

    char dents[4096];
    int dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd >= 0);
    char *names[16]; int count = 0;
    for (;;) {
        long got = syscall(SYS_getdents64, dfd, dents, sizeof dents);
        CHECK(got >= 0);
        if (got == 0) break;
        for (long p = 0; p < got;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + p);
            if (count < 16) names[count++] = strdup(d->d_name);
            p += d->d_reclen;
        }
    }
    qsort(names, count, sizeof *names, cmp);
    printf("getdents64 . -> %d entries:", count);
    for (int i = 0; i < count; i++) printf(" %s", names[i]);
    printf("\n");
    close(dfd);

    /* unlink, rmdir, and their errors */
    CHECK(syscall(SYS_unlink, "link") == 0);
    CHECK(syscall(SYS_unlink, "renamed.txt") == 0);
    printf("unlink link renamed.txt -> 0 0\n");
    errno = 0;
    r = syscall(SYS_unlink, "renamed.txt");
    printf("unlink renamed.txt again -> %ld errno %s\n", r, strerrorname_np(errno));
    CHECK(syscall(SYS_rmdir, "sub") == 0);
    printf("rmdir sub -> 0\n");
    /* the open fds still see the unlinked file */
    CHECK(syscall(SYS_fstat, fd, &st) == 0);
    printf("fstat unlinked -> size %lld nlink %lu\n", (long long)st.st_size, (unsigned long)st.st_nlink);
    CHECK(close(fd3) == 0 && close(fd2) == 0 && close(fd) == 0 && close(dir) == 0);
    errno = 0;
    r = close(fd);
    printf("close closed fd -> %ld errno %s\n", r, strerrorname_np(errno));
    printf("files: ok\n");
    return 0;
}
