/*
 * An HTTP/1.1 request head (request line and header fields, RFC 9112) as
 * a server reads it: fed in pieces until the empty line, then parsed in
 * place. Only what our servers need: no bodies (a request announcing one
 * is refused), no obsolete line folding. Pure.
 */
#ifndef SCN_HTTP_REQUEST_H
#define SCN_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* A head longer than this is refused with 431. */
#define SCN_HTTP_HEAD_MAX   8192
#define SCN_HTTP_FIELDS_MAX 48

typedef struct scn_http_field {
    const char *name;  /* as sent; compare case-insensitively */
    const char *value; /* surrounding whitespace removed */
} scn_http_field;

typedef struct scn_http_request {
    char *buf; /* the head as received, NULs written in when complete */
    size_t len, cap;
    bool complete;

    /* Valid once complete. */
    const char *method;
    const char *target; /* as sent, cut at the query: same as path */
    const char *path;   /* without the query */
    const char *query;  /* after '?', or NULL */
    int minor;          /* HTTP/1.minor */
    size_t nfields;
    scn_http_field fields[SCN_HTTP_FIELDS_MAX];
} scn_http_request;

void scn__http_request_init(scn_http_request *r);
void scn__http_request_free(scn_http_request *r);
/* Ready for the next request of a persistent connection (keeps the
 * buffer). */
void scn__http_request_reset(scn_http_request *r);

/* Feeds bytes; *used receives how many belong to the head. Returns 0 (the
 * head is not complete: everything was used), 1 (complete: the bytes
 * after *used are the next request's or the WebSocket's), or the status
 * to refuse it with: 400 (malformed), 431 (too long, too many fields),
 * 505 (not HTTP/1.x), 413 (a body is announced), 500 (no memory). */
int scn__http_request_feed(scn_http_request *r, const void *in, size_t n,
                           size_t *used);

/* The value of the first field called name, or NULL. */
const char *scn__http_field_get(const scn_http_request *r, const char *name);
/* Whether any field called name holds token in its comma-separated list
 * (case-insensitive). */
bool scn__http_field_has(const scn_http_request *r, const char *name,
                         const char *token);
/* Whether the comma-separated list holds token (case-insensitive). */
bool scn__http_list_has(const char *list, const char *token);

/* The value of parameter name in a query string ("a=1&token=x"),
 * percent-decoded into out (cap bytes, NUL-terminated). Returns its length,
 * or -1 when absent, too long or badly encoded. */
int scn__http_query_get(const char *query, const char *name, char *out,
                        size_t cap);

/* The value of cookie name in a Cookie field ("a=1; b=2") into out.
 * Returns its length, or -1 when absent or too long. */
int scn__http_cookie_get(const char *cookie, const char *name, char *out,
                         size_t cap);

#endif
