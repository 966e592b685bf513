/* Dashboard tokens from owner-only files (token_file.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scentience/live.h>

#include "token_file.h"

int token_bind_is_loopback(const char *addr)
{
    unsigned char b[16];

    if (inet_pton(AF_INET, addr, b) == 1)
        return b[0] == 127;
    if (inet_pton(AF_INET6, addr, b) == 1)
        return memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
    return 0;
}

int token_file_read(const char *prog, const char *opt, const char *path,
                    char *out, size_t cap)
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) {
        fprintf(stderr, "%s: %s %s: %s\n", prog, opt, path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        fprintf(stderr,
                "%s: %s %s: must be a regular file readable by its owner "
                "only (chmod 600)\n",
                prog, opt, path);
        close(fd);
        return -1;
    }
    n = read(fd, out, cap - 1);
    close(fd);
    if (n < 0) {
        fprintf(stderr, "%s: %s %s: %s\n", prog, opt, path, strerror(errno));
        return -1;
    }
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
                     out[n - 1] == ' ' || out[n - 1] == '\t'))
        out[--n] = '\0';
    if (!scn_live_token_ok(out)) {
        fprintf(stderr,
                "%s: %s %s: the token must be one line of 16-128 characters "
                "of A-Z a-z 0-9 . _ ~ -\n",
                prog, opt, path);
        memset(out, 0, cap);
        return -1;
    }
    return 0;
}
