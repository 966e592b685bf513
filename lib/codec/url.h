/* ws:// and wss:// URLs, split into what the connection needs. Pure. */
#ifndef SCN_URL_H
#define SCN_URL_H

#include <stdbool.h>
#include <stddef.h>

#define SCN_URL_HOST_MAX 256
#define SCN_URL_PATH_MAX 1024

typedef struct scn_url {
    bool tls;                    /* wss */
    char host[SCN_URL_HOST_MAX]; /* without IPv6 brackets */
    int port;                    /* explicit, or 80 / 443 */
    char path[SCN_URL_PATH_MAX]; /* starts with '/', includes ?query */
} scn_url;

/* Parses "ws[s]://host[:port][/path][?query]" (IPv6 as "[::1]").
 * Rejects other schemes, user info, fragments, empty hosts, brackets other
 * than around an IPv6 address, ports outside 1..65535, control characters
 * and spaces. Returns 0 or SCN_ERR_URL. */
int scn__url_parse(const char *text, scn_url *out);

/* Appends "name=value" to the path's query ('?' or '&'), percent-encoding
 * value. Returns 0 or SCN_ERR_URL when it does not fit. */
int scn__url_add_query(scn_url *url, const char *name, const char *value);

#endif
