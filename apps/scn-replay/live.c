/*
 * A replay watched as if live: the same listener as scn-companion's
 * (scn_live: the built-in dashboard, the /live fan-out and the Foxglove
 * protocol on one port), fed by the playback clock. Every recorded
 * channel is a Foxglove channel with its recorded topic and JSON Schema,
 * and the streams the companion publishes on /live get the same names
 * there, so the dashboard cannot tell a replay from a flight (apart from
 * the companion's status stream, which is not recorded). Messages are
 * stamped with the time they are played, as a live client would see
 * them.
 *
 * Loopback only: off the board a dashboard token is required, and the
 * replay has no way to take one yet.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <scentience/error.h>

#include "cli.h"
#include "dashboard.h"
#include "live_close.h"
#include "replay.h"

/* The companion's /live stream for a recorded topic (wiring.c): the
 * drone's commands go out with the events; /cloud/record is not
 * published there. */
static const char *stream_for(const rp_app *a, const char *topic)
{
    if (!strcmp(topic, a->olfaction_topic))
        return "olfaction";
    if (!strcmp(topic, "/uav/state"))
        return "uav.state";
    if (!strcmp(topic, "/inference"))
        return "inference";
    if (!strcmp(topic, "/events") || !strcmp(topic, "/uav/command"))
        return "events";
    return NULL;
}

int rp_live_bind_ok(const char *addr)
{
    unsigned char b[16];

    if (inet_pton(AF_INET, addr, b) == 1)
        return b[0] == 127;
    return inet_pton(AF_INET6, addr, b) == 1 &&
           memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
}

int rp_live_start(rp_app *a, const char *host, int port)
{
    scn_live_options lo;
    const scn_recording_channel *ch;
    int rc;

    scn_live_options_init(&lo);
    lo.bind_address = host;
    lo.port = port;
    lo.assets = scn_dashboard_assets;
    lo.asset_count = scn_dashboard_assets_count;
    lo.name = "scn-replay";
    rc = scn_live_new(a->loop, &lo, &a->live);
    if (rc) {
        fprintf(stderr, "scn-replay: live listener on %s port %d: %s\n", host,
                port, scn_strerror(rc));
        return rc == SCN_ERR_INVALID_ARG ? CLI_EX_USAGE : CLI_EX_OSERR;
    }
    for (size_t i = 0; (ch = scn_recording_channel_at(a->rec, i)) != NULL;
         i++) {
        rp_live_chan *lc;

        if (!ch->message_count || a->nlch == RP_LIVE_CHANNELS)
            continue;
        lc = &a->lch[a->nlch++];
        lc->ch = ch;
        lc->stream = stream_for(a, ch->topic);
        /* A channel Foxglove cannot be given (a topic the listener
         * refuses) still plays on /live. */
        if (scn_live_channel_add(a->live, ch->topic, ch->schema_name,
                                 ch->schema_data ? ch->schema_data : "",
                                 &lc->id) != 0)
            lc->id = 0;
    }
    port = scn_live_port(a->live);
    fprintf(stderr,
            "scn-replay: dashboard on http://%s:%d/\n"
            "scn-replay: Foxglove on ws://%s:%d/\n",
            host, port, host, port);
    return 0;
}

void rp_live_publish(rp_app *a, const rp_msg *m)
{
    struct timespec ts;

    for (size_t i = 0; i < a->nlch; i++) {
        const rp_live_chan *lc = &a->lch[i];

        if (lc->ch != m->ch)
            continue;
        if (!lc->id && !lc->stream)
            return;
        clock_gettime(CLOCK_REALTIME, &ts);
        scn_live_publish(a->live, lc->id, lc->stream,
                         (uint64_t)ts.tv_sec * 1000000000u +
                             (uint64_t)ts.tv_nsec,
                         m->data, m->len);
        return;
    }
}

int rp_live_watched(rp_app *a)
{
    scn_live_stats st;

    if (!a->live)
        return 0;
    scn_live_get_stats(a->live, &st);
    return st.live.subscribers + st.foxglove_clients > 0;
}

void rp_live_stop(rp_app *a)
{
    if (!a->live)
        return;
    /* As the companion does: the channels go, then a clean close
     * (1001), within a second. */
    for (size_t i = 0; i < a->nlch; i++)
        if (a->lch[i].id)
            scn_live_channel_remove(a->live, a->lch[i].id);
    live_close_and_free(a->live, a->loop);
    a->live = NULL;
}
