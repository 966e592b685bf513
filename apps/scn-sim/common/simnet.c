/* Listener helpers shared by every simulator mode. */
#include "simnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scentience/log.h>

void sim_lws_log_line(int level, const char *line)
{
    /* lws lines end in '\n' and may quote what a peer sent. */
    char esc[1024];
    size_t n = strlen(line);

    (void)level;
    if (n && line[n - 1] == '\n')
        n--;
    scn_escape_text(esc, sizeof(esc), line, n);
    fprintf(stderr, "scn-sim: lws: %s\n", esc);
}

int sim_host_usable(const char *host, int family)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, rc;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        a->sin_family = AF_INET;
        inet_pton(AF_INET, host, &a->sin_addr);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        a->sin6_family = AF_INET6;
        inet_pton(AF_INET6, host, &a->sin6_addr);
        sl = sizeof(*a);
    }
    fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    rc = bind(fd, (struct sockaddr *)&ss, sl);
    if (rc)
        rc = errno;
    close(fd);
    errno = rc;
    return rc ? -1 : 0;
}
