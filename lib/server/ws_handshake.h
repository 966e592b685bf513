/*
 * The server's side of the WebSocket opening handshake (RFC 6455 4.2):
 * whether a request is an upgrade, whether it is a valid one, the
 * subprotocol chosen from the client's offer, the Sec-WebSocket-Accept
 * value. Pure (SHA-1 of our own: sha1.c).
 */
#ifndef SCN_WS_HANDSHAKE_H
#define SCN_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "http_request.h"

/* Whether the request asks for a WebSocket (Upgrade: websocket). */
bool scn__ws_is_upgrade(const scn_http_request *r);

/* Checks an upgrade request. Returns 0, 400 (not GET or HTTP/1.1, no
 * "Connection: upgrade", a Sec-WebSocket-Key that is not 16 bytes in
 * base64) or 426 (Sec-WebSocket-Version other than 13: the answer must
 * say "Sec-WebSocket-Version: 13"). */
int scn__ws_check_upgrade(const scn_http_request *r);

/* The first of want[0..n) (the server's preference order) that the
 * client offers in its Sec-WebSocket-Protocol fields, as an index, or -1.
 * *any tells whether it offered anything at all. */
int scn__ws_pick_subprotocol(const scn_http_request *r, const char *const *want,
                             size_t n, bool *any);

/* Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)), 28 characters
 * and a NUL. */
void scn__ws_accept_value(const char *key, char out[29]);

/* Writes the base64 encoding of n bytes into out (4 * ceil(n / 3)
 * characters and a NUL). */
void scn__base64(const unsigned char *in, size_t n, char *out);

#endif
