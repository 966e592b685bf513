/*
 * The companion's live listener (scn_live): the Foxglove protocol, the
 * /live fan-out and the built-in dashboard on one port, with the same
 * topics and JSON Schemas as the recording. Off the board it needs the
 * dashboard token, read from a file (never from the command line: argv is
 * visible to every user of the machine), owner-only like a key file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "companion.h"
#include "dashboard.h"
#include "token_file.h"

#define TOKEN_FILE_MAX 512

/* Splits "a,b,c" into at most max entries (in place). */
static size_t split_list(char *s, const char **v, size_t max)
{
    size_t n = 0;

    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
        if (*tok)
            v[n++] = tok;
    return n;
}

/* The streams this companion has: the device's always, the drone's and
 * the cloud's when it has them. */
static int stream_present(const comp *c, scn_record_stream st)
{
    switch (st) {
    case SCN_RECORD_UAV_STATE:
    case SCN_RECORD_UAV_COMMAND:
        return c->cf->drone_url != NULL;
    case SCN_RECORD_INFERENCE:
    case SCN_RECORD_CLOUD_RECORD:
        return c->cf->cloud_url != NULL;
    default:
        return 1;
    }
}

int comp_live_start(comp *c)
{
    const config *cf = c->cf;
    char token[TOKEN_FILE_MAX], allow_buf[1024], origin_buf[1024];
    const char *allow[32], *origins[16];
    const char *bind = cf->live_bind ? cf->live_bind : "127.0.0.1";
    scn_live_options lo;
    int rc, have_token;

    token[0] = '\0';
    if (cf->live_token_file &&
        token_file_read("scn-companion", "--live-token-file",
                        cf->live_token_file, token, sizeof(token)) != 0)
        return CLI_EX_CONFIG;
    if (!token_bind_is_loopback(bind) && !token[0])
        return cli_usage_error("scn-companion",
                               "--live-bind %s is reachable from other "
                               "machines: give a dashboard token with "
                               "--live-token-file",
                               bind);
    if (!cf->live_cert != !cf->live_key)
        return cli_usage_error("scn-companion",
                               "--live-cert and --live-key go together");
    scn_live_options_init(&lo);
    lo.bind_address = bind;
    lo.port = cf->live_port;
    have_token = token[0] != '\0';
    lo.token = have_token ? token : NULL;
    lo.tls_cert_file = cf->live_cert;
    lo.tls_key_file = cf->live_key;
    lo.max_connections = (size_t)cf->live_max;
    lo.max_per_address = (size_t)cf->live_max_per_address;
    lo.queue_msgs = (size_t)cf->live_queue_msgs;
    lo.queue_bytes = (size_t)cf->live_queue_bytes;
    lo.flush_interval_ms = (uint32_t)cf->live_flush_ms;
    lo.assets = scn_dashboard_assets;
    lo.asset_count = scn_dashboard_assets_count;
    lo.name = "scn-companion";
    if (cf->live_allow) {
        snprintf(allow_buf, sizeof(allow_buf), "%s", cf->live_allow);
        lo.allow = allow;
        lo.allow_count = split_list(allow_buf, allow, 32);
    }
    if (cf->live_origins) {
        snprintf(origin_buf, sizeof(origin_buf), "%s", cf->live_origins);
        lo.origins = origins;
        lo.origin_count = split_list(origin_buf, origins, 16);
    }
    rc = scn_live_new(c->loop, &lo, &c->live);
    /* The library keeps its own copy. */
    memset(token, 0, sizeof(token));
    if (rc == SCN_ERR_INVALID_ARG)
        return cli_usage_error("scn-companion",
                               "live listener on %s port %d: invalid "
                               "--live-bind or --live-allow address",
                               bind, cf->live_port);
    if (rc == SCN_ERR_TLS) {
        fprintf(stderr, "scn-companion: live listener on %s port %d: %s\n",
                bind, cf->live_port, scn_strerror(rc));
        return CLI_EX_CONFIG;
    }
    if (rc)
        return cli_listen_error("scn-companion", rc, "--live-port", bind,
                                cf->live_port);
    for (int st = 0; st < SCN_RECORD_STREAM_COUNT; st++) {
        if (!stream_present(c, (scn_record_stream)st))
            continue;
        rc = scn_live_channel_add(
            c->live, scn_record_stream_topic((scn_record_stream)st),
            scn_record_stream_schema_name((scn_record_stream)st),
            scn_record_stream_schema((scn_record_stream)st), &c->live_chan[st]);
        if (rc) {
            fprintf(stderr, "scn-companion: live channel: %s\n",
                    scn_strerror(rc));
            return CLI_EX_SOFTWARE;
        }
    }
    {
        const char *scheme = cf->live_cert ? "https" : "http";
        const char *wscheme = cf->live_cert ? "wss" : "ws";
        const char *shown = token_bind_is_loopback(bind) ? "127.0.0.1" : bind;
        int port = scn_live_port(c->live);

        /* The token is never printed: it is in the file. */
        fprintf(stderr,
                "scn-companion: dashboard on %s://%s:%d/%s\n"
                "scn-companion: Foxglove on %s://%s:%d/\n"
                "scn-companion: live fan-out on %s://%s:%d%s\n",
                scheme, shown, port,
                have_token ? "?token=(from the token file)" : "", wscheme,
                shown, port, wscheme, shown, port, SCN_FANOUT_PATH);
    }
    return 0;
}

void comp_live_stop(comp *c)
{
    scn_live_stats st;
    uint64_t until;

    if (!c->live)
        return;
    /* Dashboards see the streams go, then a clean close (1001), within a
     * second; one that does not read is cut off by the free. */
    for (int s = 0; s < SCN_RECORD_STREAM_COUNT; s++)
        if (c->live_chan[s])
            scn_live_channel_remove(c->live, c->live_chan[s]);
    if (scn_live_close_all(c->live) > 0) {
        until = scn_loop_now_ms(c->loop) + 1000;
        do {
            scn_loop_run_once(c->loop, 20);
            scn_live_get_stats(c->live, &st);
        } while (st.server.connections_open > 0 &&
                 scn_loop_now_ms(c->loop) < until);
    }
    scn_live_free(c->live);
    c->live = NULL;
}
