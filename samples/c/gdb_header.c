/*
 * gdb_header FILE [OUT]: reads a small header from FILE and parses it in parse_header; writes a
 * summary line to OUT when given; exits with the header's version. The program `deja replay --gdb` is tested with
 * (GdbIT): a breakpoint on parse_header shows the bytes the recorded read returned.
 * Built without optimisation so that every argument and local stays visible to gdb.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct header {
    char magic[5];
    unsigned len;
    unsigned version;
};

static unsigned le32(const unsigned char *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | (unsigned) p[3] << 24;
}

int parse_header(const unsigned char *buf, long n, struct header *hdr) {
    if (n < 12) return -1;
    memcpy(hdr->magic, buf, 4);
    hdr->magic[4] = '\0';
    hdr->len = le32(buf + 4);
    hdr->version = le32(buf + 8);
    return memcmp(hdr->magic, "DEJA", 4) == 0 ? 0 : -2;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: gdb_header FILE\n");
        return 2;
    }
    unsigned char buf[64];
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 2;
    }
    long n = read(fd, buf, sizeof buf);
    close(fd);
    struct header hdr;
    int rc = parse_header(buf, n, &hdr);
    if (rc != 0) {
        printf("bad header (%d)\n", rc);
        return 3;
    }
    printf("header %s len %u version %u\n", hdr.magic, hdr.len, hdr.version);
    if (argc > 2) {
        FILE *out = fopen(argv[2], "w");
        if (out == NULL) {
            perror(argv[2]);
            return 2;
        }
        fprintf(out, "version %u\n", hdr.version);
        fclose(out);
    }
    return (int) hdr.version;
}
