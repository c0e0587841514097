/* sockets DIR: socketpair with sendmsg/recvmsg (iovecs and an SCM_RIGHTS
 * fd), an AF_UNIX listening socket at DIR/sock (bind, listen, connect,
 * accept4, getsockname, getpeername) and an AF_INET socket on 127.0.0.1
 * port 0.  Prints fds, byte counts, the bytes and addresses the kernel gave. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "sockets: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

static void unix_name(const char *what, struct sockaddr_un *a, socklen_t len, const char *dir) {
    if (len <= sizeof(sa_family_t)) { printf("%s -> len %u family %d unnamed\n", what, (unsigned)len, a->sun_family); return; }
    size_t dl = strlen(dir);
    int rel = strncmp(a->sun_path, dir, dl) == 0; /* print the path DIR-relative */
    printf("%s -> len %u family %d path \"%s%s\"\n", what, (unsigned)len, a->sun_family,
           rel ? "DIR" : "", a->sun_path + (rel ? dl : 0));
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: sockets DIR\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dir = argv[1];

    /* socketpair + sendmsg/recvmsg with two iovecs and a passed fd */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    printf("socketpair AF_UNIX SOCK_STREAM -> fds %d %d\n", sv[0], sv[1]);
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    printf("pipe2 -> fds %d %d\n", p[0], p[1]);
    char h[] = "head-", t[] = "tail";
    struct iovec iov[2] = {{h, 5}, {t, 4}};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p[1], sizeof(int));
    ssize_t n = sendmsg(sv[0], &m, 0);
    printf("sendmsg 5+4 bytes + SCM_RIGHTS fd %d -> %zd\n", p[1], n);
    CHECK(n == 9);

    char r1[3] = {0}, r2[16] = {0};
    struct iovec riov[2] = {{r1, 3}, {r2, sizeof r2}};
    union { char buf[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } rctl;
    memset(&rctl, 0, sizeof rctl);
    struct msghdr rm = {.msg_iov = riov, .msg_iovlen = 2, .msg_control = rctl.buf, .msg_controllen = sizeof rctl.buf};
    n = recvmsg(sv[1], &rm, MSG_CMSG_CLOEXEC);
    printf("recvmsg 3+16 -> %zd \"%.3s\" \"%s\" controllen %zu flags 0x%x\n", n, r1, r2, (size_t)rm.msg_controllen, rm.msg_flags);
    int got = -1;
    for (struct cmsghdr *rc = CMSG_FIRSTHDR(&rm); rc; rc = CMSG_NXTHDR(&rm, rc))
        if (rc->cmsg_level == SOL_SOCKET && rc->cmsg_type == SCM_RIGHTS) memcpy(&got, CMSG_DATA(rc), sizeof got);
    printf("received fd -> %d\n", got);
    CHECK(got >= 0);
    CHECK(write(got, "via passed fd", 13) == 13);
    char buf[64] = {0};
    n = read(p[0], buf, sizeof buf);
    printf("write through received fd, read from pipe -> %zd \"%.*s\"\n", n, (int)n, buf);
    close(got); close(p[0]); close(p[1]);

    /* AF_UNIX listening socket in DIR */
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    CHECK(snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", dir) < (int)sizeof addr.sun_path);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(ls >= 0);
    printf("socket AF_UNIX -> fd %d\n", ls);
    CHECK(bind(ls, (struct sockaddr *)&addr, sizeof addr) == 0);
    printf("bind DIR/sock -> 0\n");
    CHECK(listen(ls, 4) == 0);
    printf("listen 4 -> 0\n");
    int cs = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(cs >= 0);
    CHECK(connect(cs, (struct sockaddr *)&addr, sizeof addr) == 0);
    printf("connect fd %d DIR/sock -> 0\n", cs);
    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    memset(&peer, 0, sizeof peer);
    int as = accept4(ls, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    CHECK(as >= 0);
    printf("accept4 -> fd %d\n", as);
    unix_name("  accept4 peer address", &peer, plen, dir);
    struct sockaddr_un a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    CHECK(getsockname(ls, (struct sockaddr *)&a, &alen) == 0);
    unix_name("getsockname listener", &a, alen, dir);
    alen = sizeof a; memset(&a, 0, sizeof a);
    CHECK(getpeername(cs, (struct sockaddr *)&a, &alen) == 0);
    unix_name("getpeername client", &a, alen, dir);
    alen = sizeof a; memset(&a, 0, sizeof a);
    CHECK(getpeername(as, (struct sockaddr *)&a, &alen) == 0);
    unix_name("getpeername accepted", &a, alen, dir);
    CHECK(send(cs, "hello server", 12, 0) == 12);
    n = recv(as, buf, sizeof buf, 0);
    printf("send/recv client to server -> %zd \"%.*s\"\n", n, (int)n, buf);
    close(cs); close(as); close(ls);
    CHECK(unlink(addr.sun_path) == 0);

    /* AF_INET on 127.0.0.1, port 0: the kernel picks the port */
    int is = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(is >= 0);
    printf("socket AF_INET -> fd %d\n", is);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(is, (struct sockaddr *)&in, sizeof in) == 0);
    struct sockaddr_in got_in;
    socklen_t ilen = sizeof got_in;
    memset(&got_in, 0, sizeof got_in);
    CHECK(getsockname(is, (struct sockaddr *)&got_in, &ilen) == 0);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &got_in.sin_addr, ip, sizeof ip);
    printf("bind 127.0.0.1:0, getsockname -> len %u %s port %u\n", (unsigned)ilen, ip, ntohs(got_in.sin_port));
    printf("port chosen by the kernel: %s\n", got_in.sin_port ? "yes" : "no");
    errno = 0;
    int r = bind(is, (struct sockaddr *)&in, sizeof in);
    printf("bind again -> %d errno %s\n", r, strerrorname_np(errno));
    close(is);
    close(sv[0]); close(sv[1]);
    printf("sockets: ok\n");
    return 0;
}
