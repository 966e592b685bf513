/* Aborting a TCP connection; see sock_abort.h. */
#include "sock_abort.h"

#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int scn__sock_abort(int fd, size_t *unsent)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    struct sockaddr sa;
    int queued = 0;

    if (unsent)
        *unsent = 0;
    if (fd < 0)
        return -1;
    if (unsent && ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0)
        *unsent = (size_t)queued;
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
        return -1;
    /* Linux: tcp_disconnect() sends RST when the state calls for one
     * (established, closing), drops the write queue and stops every
     * retransmission timer, now rather than at close(). */
    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNSPEC;
    return connect(fd, &sa, sizeof(sa));
}
