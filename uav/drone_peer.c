/* The one peer address the state and video servers accept by default. */
#include "drone_peer.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <scentience/error.h>
#include <scentience/session.h>
#include <stdio.h>
#include <string.h>

int scn__uav_drone_peer(const char *drone_url, const char *allow_peer,
                        char *out, size_t cap)
{
    struct addrinfo hints, *res = NULL;
    unsigned char buf[sizeof(struct in6_addr)];
    char url_host[256];
    const char *host = allow_peer;
    int rc;

    if (!host) {
        if (!drone_url)
            return SCN_ERR_INVALID_ARG;
        if (scn_url_host(drone_url, url_host, sizeof(url_host)) != 0)
            return SCN_ERR_URL;
        host = url_host;
    }
    if (inet_pton(AF_INET, host, buf) == 1 ||
        inet_pton(AF_INET6, host, buf) == 1) {
        if ((size_t)snprintf(out, cap, "%s", host) >= cap)
            return SCN_ERR_INVALID_ARG;
        return 0;
    }
    /* A drone named by host name: the allow list needs its address. */
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res)
        return SCN_ERR_NETWORK;
    rc = getnameinfo(res->ai_addr, res->ai_addrlen, out, (socklen_t)cap, NULL,
                     0, NI_NUMERICHOST);
    freeaddrinfo(res);
    return rc == 0 ? 0 : SCN_ERR_NETWORK;
}
