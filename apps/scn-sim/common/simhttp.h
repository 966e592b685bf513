/*
 * The HTTP side of every simulator's handshake: the Authorization check,
 * the subprotocol offer, and refusals written as real HTTP responses.
 */
#ifndef SCN_SIM_HTTP_H
#define SCN_SIM_HTTP_H

#include <libwebsockets.h>

#include "keystore.h"

/* Whether a Sec-WebSocket-Protocol list ("a, b,c") offers name. */
int sim_offers_protocol(const char *list, const char *name);

/* wsi's "Authorization: Bearer KEY" against ks for a client at peer.
 * *key gets the entry (NULL when none matched), *retry_after the quota's
 * wait. *malformed is set when the header is missing or not a Bearer
 * credential. Our copy of the key is wiped before returning. */
ks_verdict sim_check_bearer(keystore *ks, struct lws *wsi, const char *peer,
                            ks_key **key, unsigned *retry_after,
                            int *malformed);

/*
 * Answers a request with status (and WWW-Authenticate for 401,
 * Retry-After for 429, Upgrade for 426), an optional JSON body, and
 * "Connection: close" when close is set (a refused upgrade). Returns 0,
 * or -1 when it could not be written (hang up).
 */
int sim_http_answer(struct lws *wsi, int status, const char *body,
                    const char *auth_desc, unsigned retry_after, int close);

#endif
