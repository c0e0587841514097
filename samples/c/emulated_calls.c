/* The calls deja performs itself while recording (reads of files and directories, the stat family,
 * readlink, access, clocks, random bytes, ids), in the cases where doing them in deja's process could
 * answer otherwise than the kernel in the program's: a read into a page it cannot write (EFAULT, and
 * the file's offset must not move), a pipe whose write end it stats and then closes (its reader must
 * see the end: deja may hold no copy of it), paths through /proc/self, a symlink to /proc/self, and
 * /dev/fd. Prints what it got; run natively and recorded, the lines are the same.
 * Usage: emulated_calls DIR (a scratch directory it may write in). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void say_errno(const char *what, long r) {
    printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : "");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: emulated_calls DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];

    /* a file of known contents, and nothing else (the directory is listed below) */
    snprintf(path, sizeof path, "%s/me", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/data", dir);
    int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "0123456789abcdefghij", 20) != 20) return 3;
    close(w);

    int fd = open(path, O_RDONLY);
    char buf[64] = {0};
    long n = read(fd, buf, 4);
    printf("read: %ld \"%.*s\"\n", n, (int) n, buf);
    /* a read into a page the program cannot write: EFAULT, and the offset stays */
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    n = read(fd, ro, 4);
    say_errno("read into a read-only page", n);
    n = read(fd, buf, 4);
    printf("read after it: %ld \"%.*s\"\n", n, (int) n, buf);
    n = pread(fd, buf, 3, 10);
    printf("pread: %ld \"%.*s\"\n", n, (int) n, buf);
    printf("lseek: %ld\n", (long) lseek(fd, 0, SEEK_CUR));
    struct stat st;
    int sr = fstat(fd, &st);
    printf("fstat: %d size %ld\n", sr, (long) st.st_size);
    printf("fcntl F_GETFL: %#o\n", fcntl(fd, F_GETFL) & O_ACCMODE);
    close(fd);

    /* a directory read whole */
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    char dents[4096];
    long entries = 0, got;
    while ((got = syscall(SYS_getdents64, d, dents, sizeof dents)) > 0) {
        for (long off = 0; off < got;) {
            struct dirent64 *e = (struct dirent64 *) (dents + off);
            entries++;
            off += e->d_reclen;
        }
    }
    printf("getdents64: %ld entries\n", entries);
    sr = fstatat(d, "data", &st, 0);
    printf("fstatat from the directory: %d size %ld\n", sr, (long) st.st_size);
    say_errno("fstatat of a missing name", fstatat(d, "missing", &st, 0));
    close(d);

    /* a pipe's write end stat'd, then closed: its reader sees the end at once */
    int p[2];
    if (pipe(p) != 0) return 4;
    sr = fstat(p[1], &st);
    printf("fstat of a pipe: %d fifo %d\n", sr, S_ISFIFO(st.st_mode));
    close(p[1]);
    printf("read of the pipe after its writer closed: %ld\n", (long) read(p[0], buf, 1));
    close(p[0]);

    /* paths that name the process resolving them */
    struct stat self, exe;
    stat("/proc/self/exe", &self);
    stat(argv[0], &exe);
    printf("/proc/self/exe is this program: %d\n", self.st_ino == exe.st_ino && self.st_dev == exe.st_dev);
    snprintf(path, sizeof path, "%s/me", dir);
    unlink(path);
    if (symlink("/proc/self", path) != 0) return 5;
    snprintf(path, sizeof path, "%s/me/exe", dir);
    stat(path, &self);
    printf("a symlink to /proc/self, then exe, is this program: %d\n", self.st_ino == exe.st_ino && self.st_dev == exe.st_dev);
    char link[4096];
    n = readlink(path, link, sizeof link - 1);
    link[n < 0 ? 0 : n] = 0;
    char real[4096];
    printf("readlink of it is this program: %d\n", n > 0 && realpath(argv[0], real) && strcmp(link, real) == 0);
    snprintf(path, sizeof path, "%s/me/status", dir);
    printf("access of it: %d\n", access(path, R_OK));
    /* a stat's answer names its device: one that ends in procfs through the symlink is left to the kernel */
    struct stat direct, through;
    stat("/proc/self/status", &direct);
    stat(path, &through);
    printf("stat of it is this process's: %d\n", direct.st_ino == through.st_ino && direct.st_dev == through.st_dev);
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    statx(AT_FDCWD, path, 0, STATX_INO, &sx);
    printf("statx of it too: %d\n", sx.stx_ino == direct.st_ino);
    n = readlink("/dev/fd/0", link, sizeof link - 1);
    printf("readlink /dev/fd/0 answers: %d\n", n > 0);
    snprintf(path, sizeof path, "%s/data", dir);
    say_errno("readlink of a file", readlink(path, link, sizeof link));
    printf("access of the file: %d\n", access(path, R_OK | W_OK));
    snprintf(path, sizeof path, "%s/missing", dir);
    say_errno("access of a missing file", access(path, F_OK));

    /* clocks, random bytes, ids */
    struct timespec ts;
    printf("clock_gettime: %d\n", clock_gettime(CLOCK_MONOTONIC, &ts));
    unsigned char r[8];
    printf("getrandom: %ld\n", (long) getrandom(r, sizeof r, 0));
    printf("getpid is the process: %d\n", getpid() == (pid_t) syscall(SYS_gettid));
    printf("getppid is a process: %d\n", getppid() > 0);
    return 0;
}
