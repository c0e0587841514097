/* family_net DIR: sockets.  socketpair with sendmsg/recvmsg carrying an
 * SCM_RIGHTS descriptor; an AF_UNIX stream server at DIR/sock and an AF_INET
 * server on 127.0.0.1 (an ephemeral port), each served by a forked child;
 * accept4, getsockname, getpeername, getsockopt, poll, epoll_wait, recvfrom.
 * Outputs the kernel fills lie against a guard page (see family.h).  Prints
 * every value, ports included. */
#include "family.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

/* Serves one connection on a listening socket in a child: sends a greeting, echoes one message. */
static pid_t serve(int listener, const char *greeting) {
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        CHECK(c >= 0);
        CHECK(write(c, greeting, strlen(greeting)) == (ssize_t)strlen(greeting));
        char buf[64];
        ssize_t n = read(c, buf, sizeof buf);
        CHECK(n > 0);
        CHECK(write(c, buf, n) == n);
        close(c);
        _exit(0);
    }
    return child;
}

static void reap(pid_t child) {
    int *status = guarded(sizeof(int));
    pid_t got = (pid_t)syscall(SYS_wait4, child, status, 0, NULL);
    printf("wait4: child %s, status %d\n", got == child ? "reaped" : "other", WEXITSTATUS(*status));
}

/* Talks to a server: reads its greeting, sends a message, polls and reads the echo. */
static void talk(int s, const char *label) {
    char *buf = guarded(32);
    long n = syscall(SYS_read, s, buf, 32);
    printf("%s greeting %ld: %.*s\n", label, n, (int)n, buf);
    CHECK(write(s, "ping", 4) == 4);
    struct pollfd *p = guarded(sizeof *p);
    p->fd = s;
    p->events = POLLIN;
    long ready = syscall(SYS_poll, p, 1, 5000);
    printf("%s poll: %ld revents %x\n", label, ready, p->revents);
    struct sockaddr_storage *from = guarded(sizeof *from);
    socklen_t *len = guarded(sizeof *len);
    *len = sizeof *from;
    n = syscall(SYS_recvfrom, s, buf, 32, 0, from, len);
    printf("%s echo %ld: %.*s\n", label, n, (int)n, buf);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: family_net DIR\n"); return 2; }
    family_start();

    int *sv = guarded(2 * sizeof(int));
    CHECK(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    printf("socketpair: %d %d\n", sv[0], sv[1]);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    CHECK(write(pfd[1], "via the passed fd", 17) == 17);
    char payload[] = "with a descriptor";
    struct iovec out = {payload, sizeof payload - 1};
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &out, .msg_iovlen = 1, .msg_control = control.space,
                         .msg_controllen = sizeof control.space};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
    printf("sendmsg: %ld\n", (long)sendmsg(sv[0], &msg, 0));
    char *in = guarded(32);
    struct iovec iin = {in, 32};
    char *cspace = guarded(CMSG_SPACE(sizeof(int)));
    struct msghdr rmsg = {.msg_iov = &iin, .msg_iovlen = 1, .msg_control = cspace,
                          .msg_controllen = CMSG_SPACE(sizeof(int))};
    long n = syscall(SYS_recvmsg, sv[1], &rmsg, MSG_CMSG_CLOEXEC);
    struct cmsghdr *rc = CMSG_FIRSTHDR(&rmsg);
    int passed = -1;
    if (rc != NULL && rc->cmsg_type == SCM_RIGHTS) memcpy(&passed, CMSG_DATA(rc), sizeof(int));
    printf("recvmsg %ld: %.*s, controllen %zu, fd %d\n", n, (int)n, in, (size_t)rmsg.msg_controllen, passed);
    char *through = guarded(17);
    n = syscall(SYS_read, passed, through, 17);
    printf("read passed fd %ld: %.*s\n", n, (int)n, through);

    int un = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(un >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", argv[1]);
    unlink(addr.sun_path);
    CHECK(bind(un, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(un, 1) == 0);
    pid_t child = serve(un, "hello over AF_UNIX");
    int uc = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(connect(uc, (struct sockaddr *)&addr, sizeof addr) == 0);
    struct sockaddr_un *peer = guarded(sizeof *peer);
    socklen_t *plen = guarded(sizeof *plen);
    *plen = sizeof *peer;
    CHECK(syscall(SYS_getpeername, uc, peer, plen) == 0);
    printf("unix getpeername: len %u %s\n", *plen, strrchr(peer->sun_path, '/'));
    talk(uc, "unix");
    reap(child);
    close(uc);
    close(un);
    unlink(addr.sun_path);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(ls >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(ls, (struct sockaddr *)&sin, sizeof sin) == 0);
    CHECK(listen(ls, 1) == 0);
    struct sockaddr_in *bound = guarded(sizeof *bound);
    socklen_t *blen = guarded(sizeof *blen);
    *blen = sizeof *bound;
    CHECK(syscall(SYS_getsockname, ls, bound, blen) == 0);
    printf("inet getsockname: %s:%u\n", inet_ntoa(bound->sin_addr), ntohs(bound->sin_port));
    child = serve(ls, "hello over AF_INET");
    int ic = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(connect(ic, (struct sockaddr *)bound, sizeof *bound) == 0);
    struct sockaddr_in *me = guarded(sizeof *me);
    *blen = sizeof *me;
    CHECK(syscall(SYS_getsockname, ic, me, blen) == 0);
    printf("inet client port: %u\n", ntohs(me->sin_port));
    int *sndbuf = guarded(sizeof(int));
    socklen_t *olen = guarded(sizeof *olen);
    *olen = sizeof(int);
    CHECK(syscall(SYS_getsockopt, ic, SOL_SOCKET, SO_SNDBUF, sndbuf, olen) == 0);
    printf("getsockopt SO_SNDBUF: %d (len %u)\n", *sndbuf, *olen);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1234};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ic, &ev) == 0);
    struct epoll_event *events = guarded(sizeof *events);
    long ready = syscall(SYS_epoll_wait, ep, events, 1, 5000);
    printf("epoll_wait: %ld events %x data %llx\n", ready, events->events, (unsigned long long)events->data.u64);
    talk(ic, "inet");
    reap(child);
    return 0;
}
