/* A FUSE file system served by the program itself: a child process answers the kernel's requests
 * (/dev/fuse, no libfuse) for one file, "hello", while the parent stats and reads it. Recorded, the
 * server is a traced process: a call deja made on the file in its own process would wait for the
 * server, which waits at a stop for deja (a deadlock). Needs root and a mount namespace of its own
 * shared with deja (run deja under `unshare -m --propagation private`).
 * Usage: fuse_served DIR (an empty scratch directory, the mount point). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char CONTENT[] = "served by a traced process\n";
#define HELLO_NODE 2

static void fill_attr(struct fuse_attr *a, unsigned long long node) {
    memset(a, 0, sizeof *a);
    a->ino = node;
    a->nlink = 1;
    a->blksize = 4096;
    if (node == FUSE_ROOT_ID) {
        a->mode = S_IFDIR | 0755;
        a->nlink = 2;
    } else {
        a->mode = S_IFREG | 0444;
        a->size = sizeof CONTENT - 1;
        a->blocks = 1;
    }
}

static void reply(int fuse, unsigned long long unique, int error, const void *body, size_t len) {
    struct fuse_out_header h = {.len = sizeof h + (error ? 0 : len), .error = -error, .unique = unique};
    char buf[sizeof h + 4096];
    memcpy(buf, &h, sizeof h);
    if (!error && len) memcpy(buf + sizeof h, body, len);
    if (write(fuse, buf, h.len) < 0 && errno != ENOENT) _exit(3); /* ENOENT: the request was interrupted */
}

static void serve(int fuse) {
    static char buf[FUSE_MIN_READ_BUFFER + (1 << 20)];
    for (;;) {
        ssize_t n = read(fuse, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            _exit(errno == ENODEV ? 0 : 4); /* ENODEV: unmounted */
        }
        struct fuse_in_header *in = (struct fuse_in_header *) buf;
        void *arg = buf + sizeof *in;
        switch (in->opcode) {
        case FUSE_INIT: {
            struct fuse_init_in *i = arg;
            struct fuse_init_out o = {.major = FUSE_KERNEL_VERSION, .max_readahead = i->max_readahead,
                                      .max_write = 4096, .time_gran = 1};
            o.minor = i->minor < FUSE_KERNEL_MINOR_VERSION ? i->minor : FUSE_KERNEL_MINOR_VERSION;
            reply(fuse, in->unique, 0, &o, sizeof o);
            break;
        }
        case FUSE_LOOKUP: {
            if (in->nodeid != FUSE_ROOT_ID || strcmp((char *) arg, "hello") != 0) {
                reply(fuse, in->unique, ENOENT, NULL, 0);
                break;
            }
            struct fuse_entry_out e = {.nodeid = HELLO_NODE}; /* valid for 0 s: every stat asks again */
            fill_attr(&e.attr, HELLO_NODE);
            reply(fuse, in->unique, 0, &e, sizeof e);
            break;
        }
        case FUSE_GETATTR: {
            struct fuse_attr_out a = {0};
            fill_attr(&a.attr, in->nodeid);
            reply(fuse, in->unique, 0, &a, sizeof a);
            break;
        }
        case FUSE_OPEN: {
            struct fuse_open_out o = {0};
            reply(fuse, in->unique, 0, &o, sizeof o);
            break;
        }
        case FUSE_READ: {
            struct fuse_read_in *r = arg;
            size_t size = sizeof CONTENT - 1;
            size_t from = r->offset < size ? r->offset : size;
            size_t len = size - from < r->size ? size - from : r->size;
            reply(fuse, in->unique, 0, CONTENT + from, len);
            break;
        }
        case FUSE_FLUSH:
        case FUSE_RELEASE:
            reply(fuse, in->unique, 0, NULL, 0);
            break;
        case FUSE_FORGET:
        case FUSE_BATCH_FORGET:
        case FUSE_INTERRUPT:
            break; /* no answer */
        case FUSE_DESTROY:
            reply(fuse, in->unique, 0, NULL, 0);
            _exit(0);
        default:
            reply(fuse, in->unique, ENOSYS, NULL, 0);
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fuse_served DIR\n");
        return 2;
    }
    int fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fuse < 0) {
        perror("/dev/fuse");
        return 1;
    }
    char opts[128];
    snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0", fuse);
    if (mount("deja-sample", argv[1], "fuse.deja-sample", MS_NOSUID | MS_NODEV, opts) != 0) {
        perror("mount");
        return 1;
    }
    pid_t server = fork();
    if (server == 0) serve(fuse);
    close(fuse);

    char path[4096];
    snprintf(path, sizeof path, "%s/hello", argv[1]);
    struct stat st;
    int r = stat(path, &st);
    printf("stat: %d size %lld regular %d\n", r, r == 0 ? (long long) st.st_size : -1LL, r == 0 && S_ISREG(st.st_mode));
    r = access(path, R_OK);
    printf("access: %d\n", r);
    int fd = open(path, O_RDONLY);
    char buf[64] = {0};
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    printf("read: %zd \"%.*s\"\n", n, n > 0 ? (int) n - 1 : 0, buf);
    r = fd < 0 ? -1 : fstat(fd, &st);
    printf("fstat: %d size %lld\n", r, r == 0 ? (long long) st.st_size : -1LL);
    if (fd >= 0) close(fd);
    snprintf(path, sizeof path, "%s/missing", argv[1]);
    printf("stat of a missing name: %d\n", stat(path, &st));

    if (umount2(argv[1], MNT_DETACH) != 0) perror("umount");
    int status = 0;
    if (waitpid(server, &status, 0) != server || !WIFEXITED(status)) {
        kill(server, SIGKILL);
        waitpid(server, &status, 0);
    }
    printf("server ended: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
