/*
 * HTTP/1.1 response heads our servers send: refusals and errors with a
 * short text body, built-in assets with their caching and security
 * headers, and content types by file name. Pure: text into a buffer.
 *
 * Every response carries headers that keep a browser from doing more
 * with it than showing it: nosniff, no referrer, no framing, and for
 * assets a Content-Security-Policy that allows scripts, styles, images
 * and fonts from the page's own origin only and connections to its own
 * origin (http and WebSocket): nothing from anywhere else.
 */
#ifndef SCN_HTTP_RESPONSE_H
#define SCN_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

const char *scn__http_reason(int status);

/* A content type for a file name, by its extension
 * ("application/octet-stream" when unknown). */
const char *scn__http_content_type(const char *path);

/* A status with a one-line text body (why; NULL: the reason phrase).
 * extra: more header lines, each ending in CRLF (NULL: none). head_only:
 * the body is not included (HEAD), its length is. close: "Connection:
 * close". Returns the length, or 0 when cap is too small. */
size_t scn__http_error_response(char *buf, size_t cap, int status,
                                const char *why, const char *extra,
                                bool head_only, bool close);

/* The head of an asset answer: 200 with the body's length, or 304 (the
 * client's copy is current). host: the request's Host, for the policy's
 * WebSocket sources (left out when it is not a plain host[:port]). extra
 * as above. Returns the length, or 0. */
size_t scn__http_asset_head(char *buf, size_t cap, int status,
                            const char *content_type, size_t body_len,
                            const char *etag, const char *host,
                            const char *extra, bool close);

/* The 101 answer to a valid upgrade request. subprotocol: NULL for none.
 * Returns the length, or 0. */
size_t scn__ws_accept_response(char *buf, size_t cap, const char *key,
                               const char *subprotocol);

#endif
