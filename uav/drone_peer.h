/* The peer addresses the state and video servers accept by default. */
#ifndef SCN_UAV_DRONE_PEER_H
#define SCN_UAV_DRONE_PEER_H

#include <netinet/in.h>
#include <stddef.h>

/* A host name may resolve to several addresses (IPv4 and IPv6, as
 * "localhost" does on Debian); the drone may use any of them. */
#define SCN_UAV_DRONE_PEERS_MAX 8

typedef struct scn_uav_drone_peers {
    char addr[SCN_UAV_DRONE_PEERS_MAX][INET6_ADDRSTRLEN];
    const char *list[SCN_UAV_DRONE_PEERS_MAX]; /* addr[i], for allow lists */
    size_t count;
} scn_uav_drone_peers;

/* Fills out with allow_peer (when set) or the address of drone_url's host
 * as IP literals: the literal itself, or every distinct address a host
 * name resolves to (at most SCN_UAV_DRONE_PEERS_MAX). Returns 0,
 * SCN_ERR_URL, SCN_ERR_INVALID_ARG, SCN_ERR_NETWORK (the name does not
 * resolve). */
int scn__uav_drone_peers(const char *drone_url, const char *allow_peer,
                         scn_uav_drone_peers *out);

#endif
