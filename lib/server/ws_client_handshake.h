/*
 * The client's side of the WebSocket opening handshake (RFC 6455 4.1):
 * the Sec-WebSocket-Key and the server's answer to the upgrade request,
 * read from bytes as they arrive. Pure: nothing here touches a socket.
 * The client sessions (lib/lws/ws_adapter.c) write the request and feed
 * the answer through it.
 */
#ifndef SCN_WS_CLIENT_HANDSHAKE_H
#define SCN_WS_CLIENT_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

/* The longest answer accepted, status line and headers: a longer one
 * fails the attempt, so a hostile server cannot make us buffer more. */
#define SCN_WS_REPLY_MAX 4096

typedef struct scn_ws_reply {
    char buf[SCN_WS_REPLY_MAX + 1];
    size_t len;
    /* Once complete (scn__ws_reply_feed returned 1). */
    int status;             /* 0: not an HTTP/1.x status line */
    const char *upgrade;    /* the fields, or NULL when absent */
    const char *connection; /* (pointers into buf) */
    const char *accept;
    const char *protocol;
    const char *extensions;
    const char *www_authenticate;
    const char *retry_after;
} scn_ws_reply;

void scn__ws_reply_init(scn_ws_reply *r);

/* Feeds n bytes of the server's answer. Returns 0 (the headers are not
 * complete yet: all n bytes were taken), 1 (complete: *used of the n bytes
 * belonged to them, the rest are the first frames) or -1 (longer than
 * SCN_WS_REPLY_MAX, or not an HTTP response). */
int scn__ws_reply_feed(scn_ws_reply *r, const void *in, size_t n, size_t *used);

/* Checks a complete 101 answer against the request: key is the
 * Sec-WebSocket-Key sent, offer the Sec-WebSocket-Protocol offered (NULL:
 * none). Returns NULL when the upgrade is valid, else why it is not. */
const char *scn__ws_reply_check(const scn_ws_reply *r, const char *key,
                                const char *offer);

/* The Sec-WebSocket-Key for 16 random bytes: 24 characters and a NUL. */
void scn__ws_client_key(const unsigned char nonce[16], char out[25]);

#endif
