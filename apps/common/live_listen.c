/* The --live-* options and starting the listener (live_listen.h). */
#include <stdio.h>
#include <string.h>

#include <scentience/error.h>

#include "cli.h"
#include "dashboard.h"
#include "live_listen.h"
#include "token_file.h"

#define TOKEN_FILE_MAX 512
#define ALLOW_MAX      32
#define ORIGINS_MAX    16

void live_listen_defaults(live_listen_settings *s)
{
    scn_live_options lo;

    scn_live_options_init(&lo);
    memset(s, 0, sizeof(*s));
    s->port = 8765;
    s->max = (int)lo.max_connections;
    s->max_per_address = (int)lo.max_per_address;
    s->queue_msgs = (int)lo.queue_msgs;
    s->queue_bytes = lo.queue_bytes;
    s->flush_ms = (int)lo.flush_interval_ms;
}

int live_listen_option(live_listen_settings *s, const char *name,
                       const char *arg, char *why, size_t why_cap)
{
    static const struct {
        const char *name;
        size_t text; /* offsetof a const char * member; 0: a number */
    } texts[] = {
        {"live-bind", offsetof(live_listen_settings, bind)},
        {"live-allow", offsetof(live_listen_settings, allow)},
        {"live-token-file", offsetof(live_listen_settings, token_file)},
        {"live-cert", offsetof(live_listen_settings, cert)},
        {"live-key", offsetof(live_listen_settings, key)},
        {"live-origin", offsetof(live_listen_settings, origins)},
    };

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (strcmp(name, texts[i].name) == 0) {
            *(const char **)((char *)s + texts[i].text) = arg;
            return 0;
        }
    if (strcmp(name, "live-port") == 0)
        return cli_check_int(arg, 0, 65535, &s->port, why, why_cap);
    if (strcmp(name, "live-max-subscribers") == 0)
        return cli_check_int(arg, 1, 4096, &s->max, why, why_cap);
    if (strcmp(name, "live-max-per-address") == 0)
        return cli_check_int(arg, 1, 4096, &s->max_per_address, why, why_cap);
    if (strcmp(name, "live-queue-msgs") == 0)
        return cli_check_int(arg, 1, 1 << 20, &s->queue_msgs, why, why_cap);
    if (strcmp(name, "live-queue-bytes") == 0)
        /* A queue must hold one envelope of a large frame. */
        return cli_check_size(arg, 4096, 64u << 20, &s->queue_bytes, why,
                              why_cap);
    if (strcmp(name, "live-flush-ms") == 0)
        return cli_check_int(arg, 0, 10000, &s->flush_ms, why, why_cap);
    return 1;
}

int live_listen_check(const live_listen_settings *s, char *why, size_t cap)
{
    const char *bind = s->bind ? s->bind : "127.0.0.1";

    if (!s->port)
        return 0;
    if (!s->cert != !s->key) {
        snprintf(why, cap, "--live-cert and --live-key go together");
        return -1;
    }
    if (!token_bind_is_loopback(bind) && !s->token_file) {
        snprintf(why, cap,
                 "--live-bind %s is reachable from other machines: give a "
                 "dashboard token with --live-token-file",
                 bind);
        return -1;
    }
    return 0;
}

/* Splits "a,b,c" into at most max entries (in place). */
static size_t split_list(char *s, const char **v, size_t max)
{
    size_t n = 0;
    char *save = NULL;

    for (char *tok = strtok_r(s, ",", &save); tok && n < max;
         tok = strtok_r(NULL, ",", &save))
        if (*tok)
            v[n++] = tok;
    return n;
}

int live_listen_start(const char *prog, scn_loop *loop,
                      const live_listen_settings *s, scn_live **out)
{
    const char *bind = s->bind ? s->bind : "127.0.0.1";
    char token[TOKEN_FILE_MAX], allow_buf[1024], origin_buf[1024], why[256];
    const char *allow[ALLOW_MAX], *origins[ORIGINS_MAX];
    const char *scheme = s->cert ? "https" : "http";
    const char *wscheme = s->cert ? "wss" : "ws";
    const char *shown = token_bind_is_loopback(bind) ? "127.0.0.1" : bind;
    scn_live_options lo;
    int rc, port;

    *out = NULL;
    if (!s->port)
        return 0;
    if (live_listen_check(s, why, sizeof(why)) != 0)
        return cli_usage_error(prog, "%s", why);
    token[0] = '\0';
    if (s->token_file &&
        token_file_read(prog, "--live-token-file", s->token_file, token,
                        sizeof(token)) != 0)
        return CLI_EX_CONFIG;
    scn_live_options_init(&lo);
    lo.bind_address = bind;
    lo.port = s->port;
    lo.token = token[0] ? token : NULL;
    lo.tls_cert_file = s->cert;
    lo.tls_key_file = s->key;
    lo.max_connections = (size_t)s->max;
    lo.max_per_address = (size_t)s->max_per_address;
    lo.queue_msgs = (size_t)s->queue_msgs;
    lo.queue_bytes = (size_t)s->queue_bytes;
    lo.flush_interval_ms = (uint32_t)s->flush_ms;
    lo.assets = scn_dashboard_assets;
    lo.asset_count = scn_dashboard_assets_count;
    lo.name = prog;
    if (s->allow) {
        snprintf(allow_buf, sizeof(allow_buf), "%s", s->allow);
        lo.allow = allow;
        lo.allow_count = split_list(allow_buf, allow, ALLOW_MAX);
    }
    if (s->origins) {
        snprintf(origin_buf, sizeof(origin_buf), "%s", s->origins);
        lo.origins = origins;
        lo.origin_count = split_list(origin_buf, origins, ORIGINS_MAX);
    }
    rc = scn_live_new(loop, &lo, out);
    memset(token, 0, sizeof(token)); /* the library keeps its own copy */
    if (rc == SCN_ERR_INVALID_ARG)
        return cli_usage_error(prog,
                               "live listener on %s port %d: invalid "
                               "--live-bind or --live-allow address",
                               bind, s->port);
    if (rc == SCN_ERR_TLS) {
        fprintf(stderr, "%s: live listener on %s port %d: %s\n", prog, bind,
                s->port, scn_strerror(rc));
        return CLI_EX_CONFIG;
    }
    if (rc)
        return cli_listen_error(prog, rc, "--live-port", bind, s->port);
    port = scn_live_port(*out);
    /* The token is never printed: it is in the file. */
    fprintf(stderr,
            "%s: dashboard on %s://%s:%d/%s\n"
            "%s: Foxglove on %s://%s:%d/\n"
            "%s: live fan-out on %s://%s:%d%s\n",
            prog, scheme, shown, port,
            lo.token ? "?token=(from the token file)" : "", prog, wscheme,
            shown, port, prog, wscheme, shown, port, SCN_FANOUT_PATH);
    return 0;
}
