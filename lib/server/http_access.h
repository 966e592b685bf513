/*
 * Who may use a server that browsers reach: the dashboard token and the
 * Origin and Host checks, decided from a request head and the peer's
 * address. Pure. docs/PROTOCOL.md 11.4 is the contract:
 *
 * - A token, when configured, is required from every peer that is not on
 *   loopback. It is accepted from "Authorization: Bearer TOKEN", from the
 *   cookie the server sets (scn_token_PORT), or from the query
 *   ("?token=TOKEN"). A token that is presented must be right, from any
 *   peer. Missing or wrong: 401.
 * - A request with an Origin (every browser WebSocket) must come from the
 *   server's own origin (scheme://Host) or a listed one: 403 otherwise.
 * - A browser request without a valid token must name the server by
 *   address or "localhost" in Host: a page on a name that was made to
 *   resolve to this machine (DNS rebinding) is refused (403).
 */
#ifndef SCN_HTTP_ACCESS_H
#define SCN_HTTP_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "http_request.h"

/* Tokens are 16-128 characters of [A-Za-z0-9._~-]: safe in a query, a
 * cookie and a header without encoding. */
#define SCN_TOKEN_MIN 16
#define SCN_TOKEN_MAX 128

typedef struct scn_http_access {
    const char *token;          /* NULL: no token is configured */
    const char *const *origins; /* more allowed origins ("https://x:1") */
    size_t norigins;
    bool tls; /* the own origin is https:// */
    char cookie_name[32];
} scn_http_access;

enum { SCN_TOKEN_NONE, SCN_TOKEN_HEADER, SCN_TOKEN_COOKIE, SCN_TOKEN_QUERY };

typedef struct scn_access_verdict {
    int status;      /* 0: allowed; 401 or 403 */
    const char *why; /* for the log and the answer; never the token */
    int token_via;   /* where a valid token came from */
} scn_access_verdict;

/* Whether text is a well-formed token. */
bool scn__token_format_ok(const char *text, size_t n);

/* Sets the cookie name for a server on port. */
void scn__http_access_init(scn_http_access *a, const char *token,
                           const char *const *origins, size_t norigins,
                           bool tls, int port);

void scn__http_access_check(const scn_http_access *a, const scn_http_request *r,
                            bool peer_loopback, scn_access_verdict *out);

/* Whether a Host field names this machine by address or "localhost"
 * (with or without a port). */
bool scn__http_host_is_literal(const char *host);

#endif
