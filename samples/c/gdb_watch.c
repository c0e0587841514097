/*
 * gdb_watch FILE [LOOPS]: fills a header's len field from two places in the code, then reads the
 * header from FILE over it (a recorded read into the watched field), stores LOOPS times into another
 * field of the same page, sums the magic in a stack local, and exits with the header's version.
 * deja's watchpoints are tested with it (GdbWatchIT): `watch -l hdr->len` stops at each store that
 * changes len and at the read, `rwatch` at each load of it; `watch sum` watches a stack local.
 * Built without optimisation so that every store stays a store.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct header {
    char magic[4];
    unsigned len;
    unsigned version;
    unsigned scratch[32];
};

static struct header the_header;

static void set_len(struct header *hdr, unsigned len) {
    hdr->len = len;
}

static void add_len(struct header *hdr, unsigned more) {
    hdr->len += more;
}

static long load(struct header *hdr, const char *path) {
    set_len(hdr, 8);
    add_len(hdr, 4);
    add_len(hdr, 0);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long n = read(fd, hdr, 12);
    close(fd);
    return n;
}

static void touch(struct header *hdr, long loops) {
    for (long i = 0; i < loops; i++) hdr->scratch[i % 32] = (unsigned) i;
}

static unsigned checksum(const struct header *hdr) {
    unsigned sum = 0;
    for (int i = 0; i < 4; i++) sum += (unsigned char) hdr->magic[i];
    return sum;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: gdb_watch FILE [LOOPS]\n");
        return 2;
    }
    struct header *hdr = &the_header;
    long n = load(hdr, argv[1]);
    if (n < 0) {
        perror(argv[1]);
        return 2;
    }
    touch(hdr, argc > 2 ? atol(argv[2]) : 0);
    unsigned sum = checksum(hdr);
    printf("read %ld len %u version %u sum %u\n", n, hdr->len, hdr->version, sum);
    return (int) hdr->version;
}
