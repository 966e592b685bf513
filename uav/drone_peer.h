/* The drone's address for the state and video servers' allow lists. */
#ifndef SCN_UAV_DRONE_PEER_H
#define SCN_UAV_DRONE_PEER_H

#include <stddef.h>

/* Writes allow_peer (when set) or the address of drone_url's host into
 * out as an IP literal, resolving a host name. Returns 0, SCN_ERR_URL,
 * SCN_ERR_INVALID_ARG, SCN_ERR_NETWORK (the name does not resolve). */
int scn__uav_drone_peer(const char *drone_url, const char *allow_peer,
                        char *out, size_t cap);

#endif
