/* The peer addresses the state and video servers accept by default. */
#include "drone_peer.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <scentience/error.h>
#include <scentience/session.h>
#include <stdio.h>
#include <string.h>

static int add_peer(scn_uav_drone_peers *out, const char *addr)
{
    for (size_t i = 0; i < out->count; i++)
        if (strcmp(out->addr[i], addr) == 0)
            return 0;
    if (out->count == SCN_UAV_DRONE_PEERS_MAX)
        return 0; /* more are not kept: the first ones are the likely */
    if ((size_t)snprintf(out->addr[out->count], sizeof(out->addr[0]), "%s",
                         addr) >= sizeof(out->addr[0]))
        return SCN_ERR_INVALID_ARG;
    out->list[out->count] = out->addr[out->count];
    out->count++;
    return 0;
}

int scn__uav_drone_peers(const char *drone_url, const char *allow_peer,
                         scn_uav_drone_peers *out)
{
    struct addrinfo hints, *res = NULL;
    unsigned char buf[sizeof(struct in6_addr)];
    char url_host[256], addr[INET6_ADDRSTRLEN];
    const char *host = allow_peer;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!host) {
        if (!drone_url)
            return SCN_ERR_INVALID_ARG;
        if (scn_url_host(drone_url, url_host, sizeof(url_host)) != 0)
            return SCN_ERR_URL;
        host = url_host;
    }
    if (inet_pton(AF_INET, host, buf) == 1 ||
        inet_pton(AF_INET6, host, buf) == 1)
        return add_peer(out, host);
    /* A drone named by host name: the allow list needs its addresses,
     * every one, since the drone's links may come from any of them. */
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return SCN_ERR_NETWORK;
    for (const struct addrinfo *ai = res; ai && rc == 0; ai = ai->ai_next) {
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL,
                        0, NI_NUMERICHOST) != 0)
            continue;
        rc = add_peer(out, addr);
    }
    freeaddrinfo(res);
    if (rc == 0 && out->count == 0)
        rc = SCN_ERR_NETWORK;
    return rc;
}
