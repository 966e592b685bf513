/*
 * The "status" stream on /live: once a second, each link's state (with
 * the reason while it is down), its reconnect count and the cloud spool's
 * backlog. The connection events say the same as it happens, but a
 * dashboard that connects later (or reconnects) needs the current picture
 * without a history. Not recorded: the recording has the events.
 */
#include <stdarg.h>
#include <stdio.h>

#include "companion.h"

#define STATUS_INTERVAL_MS 1000

static const char *const link_names[LINK_COUNT] = {"device", "drone", "cloud",
                                                   "mqtt"};

void comp_status_link(comp *c, int link, const scn_state_event *ev)
{
    c->link[link].state = (int)ev->state;
    c->link[link].attempt = ev->attempt;
    c->link[link].delay_ms = ev->delay_ms;
    if (ev->reason)
        c->link[link].reason = ev->reason;
}

/* Whether the companion has this link at all. */
static int link_present(const comp *c, int link)
{
    switch (link) {
    case LINK_DRONE:
        return c->cf->drone_url != NULL;
    case LINK_CLOUD:
        return c->cf->cloud_url != NULL;
    case LINK_MQTT:
        return c->cf->mqtt_url != NULL;
    default:
        return 1;
    }
}

/* Appends to buf at *at, bounded (a cut message is not published). */
__attribute__((format(printf, 4, 5))) static void
put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*at >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    *at = n < 0 ? cap : *at + (size_t)n;
}

static void publish(comp *c)
{
    char buf[1024];
    size_t at = 0;
    scn_cloud_stats cs = {0};
    const char *sep = "";

    put(buf, sizeof(buf), &at, "{\"links\":{");
    for (int i = 0; i < LINK_COUNT; i++) {
        int st = c->link[i].state;

        if (!link_present(c, i))
            continue;
        put(buf, sizeof(buf), &at,
            "%s\"%s\":{\"state\":\"%s\",\"reconnects\":%llu", sep,
            link_names[i], scn_state_name((scn_state)st),
            (unsigned long long)c->link[i].reconnects);
        sep = ",";
        /* The reason and the retry only while the link is down: an open
         * link's last failure is history, which the events keep. */
        if (st != SCN_STATE_OPEN && c->link[i].reason)
            put(buf, sizeof(buf), &at, ",\"reason\":\"%s\"",
                scn_strerror(c->link[i].reason));
        if (st == SCN_STATE_RECONNECTING)
            put(buf, sizeof(buf), &at, ",\"attempt\":%u,\"retry_ms\":%u",
                c->link[i].attempt, c->link[i].delay_ms);
        if (i == LINK_DRONE)
            put(buf, sizeof(buf), &at, ",\"sdk_active\":%s",
                c->active ? "true" : "false");
        put(buf, sizeof(buf), &at, "}");
    }
    put(buf, sizeof(buf), &at, "}");
    if (c->cloud) {
        scn_cloud_get_stats(c->cloud, &cs);
        put(buf, sizeof(buf), &at,
            ",\"spool\":{\"backlog\":%llu,\"submitted\":%llu,\"acked\":%llu,"
            "\"dropped_full\":%llu}",
            (unsigned long long)cs.spooled, (unsigned long long)cs.submitted,
            (unsigned long long)cs.acked, (unsigned long long)cs.dropped_full);
    }
    put(buf, sizeof(buf), &at,
        ",\"reconnects\":%llu,\"frames\":%llu,\"states\":%llu,"
        "\"inferences\":%llu}",
        (unsigned long long)c->reconnects, (unsigned long long)c->frames,
        (unsigned long long)c->states, (unsigned long long)c->inferences);
    if (at < sizeof(buf))
        scn_live_publish(c->live, 0, "status", (uint64_t)wall_ns(), buf, at);
}

static void on_status_timer(scn_timer *t, void *user)
{
    comp *c = user;

    publish(c);
    scn_timer_start(t, STATUS_INTERVAL_MS);
}

int comp_status_start(comp *c)
{
    if (!c->live)
        return 0;
    if (scn_timer_new(c->loop, on_status_timer, c, &c->status_timer) != 0)
        return SCN_ERR_NOMEM;
    /* The first one at once: a dashboard connecting early sees the links
     * connecting instead of nothing. */
    return scn_timer_start(c->status_timer, 0);
}

void comp_status_stop(comp *c)
{
    scn_timer_free(c->status_timer);
    c->status_timer = NULL;
}
