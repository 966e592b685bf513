/*
 * Ports a test must choose before the program that listens on them starts
 * (the drone simulator connects to the app's state port; a restarted
 * server must come back where its clients look for it). A port from
 * bind(0) could be taken by anyone in between. These come from below the
 * kernel's ephemeral range, which bind(0) and outgoing connections never
 * use, and each is held by a lock named after it (an abstract Unix socket,
 * gone with the process that holds it) so that two tests running at once,
 * C or Python (simproc.reserve_port), never pick the same one.
 */
#include "harness.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PORT_FLOOR 20000

static int ephemeral_low(void)
{
    FILE *in = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 32768, hi;

    if (in) {
        if (fscanf(in, "%d %d", &lo, &hi) != 2)
            lo = 32768;
        fclose(in);
    }
    return lo;
}

/* The lock of port: an abstract socket "scn-test-port-PORT"; -1 when
 * another process holds it. */
static int lock_port(int port)
{
    struct sockaddr_un a;
    socklen_t len;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                      (size_t)snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1,
                                       "scn-test-port-%d", port));
    if (bind(fd, (struct sockaddr *)&a, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int bindable(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

int reserve_port(void)
{
    int lo = PORT_FLOOR, hi = ephemeral_low(), span = hi - lo;
    unsigned start = (unsigned)getpid() * 7919u ^ (unsigned)time(NULL);

    if (span <= 0)
        return -1;
    for (int i = 0; i < span; i++) {
        int port = lo + (int)((start + (unsigned)i) % (unsigned)span);
        int lock = lock_port(port);

        if (lock < 0)
            continue;
        if (bindable(port))
            return port; /* the lock stays open until the process ends */
        close(lock);
    }
    return -1;
}
