/*
 * Session URLs (lib/codec/url.c), from a user's flags and config files. An
 * accepted URL has a host, a port in range and a path starting with '/';
 * written back from its parts it parses to the same parts; and a query
 * added to it keeps it a URL with the value percent-encoded.
 */
#include "fuzz.h"

#include <scentience/error.h>

#include "url.h"

static void write_url(const scn_url *u, char *out, size_t cap)
{
    bool v6 = strchr(u->host, ':') != NULL;
    int n = snprintf(out, cap, "%s://%s%s%s:%d%s", u->tls ? "wss" : "ws",
                     v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->path);

    FUZZ_CHECK(n > 0 && (size_t)n < cap, "URL too long to write");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    /* The first bytes, up to a NUL, are a query value to add. */
    const uint8_t *nul = memchr(in.p, 0, in.n);
    size_t vn = nul ? (size_t)(nul - in.p) : 0;
    char *value = fuzz_cstr(in.p, vn);
    char *text =
        fuzz_cstr(in.p + (nul ? vn + 1 : 0), in.n - (nul ? vn + 1 : 0));
    char again_text[SCN_URL_HOST_MAX + SCN_URL_PATH_MAX + 32];
    scn_url u, again, q;

    if (scn__url_parse(text, &u) == 0) {
        FUZZ_CHECK(u.host[0] != '\0' && strlen(u.host) < SCN_URL_HOST_MAX,
                   "host");
        for (const char *p = u.host; *p; p++)
            FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f && *p != '@' &&
                           *p != '/' && *p != '?' && *p != '#',
                       "host byte 0x%02x", (unsigned char)*p);
        FUZZ_CHECK(u.port >= 1 && u.port <= 65535, "port %d", u.port);
        FUZZ_CHECK(u.path[0] == '/' && !strchr(u.path, '#'), "path %s", u.path);
        write_url(&u, again_text, sizeof again_text);
        FUZZ_CHECK(scn__url_parse(again_text, &again) == 0 &&
                       memcmp(&u, &again, sizeof u) == 0,
                   "%s written as %s reads differently", text, again_text);

        q = u;
        if (scn__url_add_query(&q, "uid", value) == 0) {
            FUZZ_CHECK(strncmp(q.path, u.path, strlen(u.path)) == 0,
                       "path changed");
            for (const char *p = q.path + strlen(u.path); *p; p++)
                FUZZ_CHECK((unsigned char)*p > 0x20 && *p < 0x7f, "raw 0x%02x",
                           (unsigned char)*p);
            write_url(&q, again_text, sizeof again_text);
            FUZZ_CHECK(scn__url_parse(again_text, &again) == 0 &&
                           memcmp(&q, &again, sizeof q) == 0,
                       "with the query, %s reads differently", again_text);
        } else {
            FUZZ_CHECK(strcmp(q.path, u.path) == 0, "refused query kept");
        }
    }
    free(text);
    free(value);
    return 0;
}
