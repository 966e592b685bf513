/*
 * The drone's links to the app: it is the WebSocket client here. The state
 * link (ws://<app>:8890) carries state strings at --state-rate from SDK
 * mode on; the video link (ws://<app>:11111) carries H.264 frames (a test
 * pattern, uav_video.c)
 * between streamon and streamoff. A link that fails or drops is tried
 * again after a fixed delay while it is wanted. Each message is written
 * from the WRITEABLE callback; one that falls due while the previous is
 * still waiting is skipped and counted, so a slow app is not buffered for.
 */
#include "uav_sim.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "common/simclock.h"
#include "common/simlog.h"
#include "uav_video.h"

enum garbage_kind {
    GARBAGE_TRUNCATED,   /* cut inside a key: a pair without ':' */
    GARBAGE_NON_NUMERIC, /* bat:n/a */
    GARBAGE_CONTROL,     /* control bytes inside a value */
    GARBAGE_BINARY,      /* a binary message of junk bytes */
    GARBAGE_KINDS
};

static const char *const garbage_names[GARBAGE_KINDS] = {
    "truncated", "non_numeric", "control", "binary"};

static void link_connect(uav_link *l);

#define LINK_PING_US 1000000
#define LINK_DEAD_US 3000000

static void retry_cb(lws_sorted_usec_list_t *sul)
{
    uav_link *l = lws_container_of(sul, uav_link, sul_retry);

    if (l->want && !l->live && !l->srv->base.stopping)
        link_connect(l);
}

static void schedule_retry(uav_link *l, int at_once)
{
    uav_srv *s = l->srv;

    if (!l->want || s->base.stopping)
        return;
    lws_sul_schedule(s->base.ctx, 0, &l->sul_retry, retry_cb,
                     at_once ? 1 : (lws_usec_t)(s->o->reconnect_s * 1e6));
}

static void link_connect(uav_link *l)
{
    uav_srv *s = l->srv;
    struct lws_client_connect_info ci;

    memset(&ci, 0, sizeof(ci));
    ci.context = s->base.ctx;
    ci.vhost = s->vh_links;
    ci.address = l->host;
    ci.port = l->port;
    ci.path = "/";
    ci.host = l->host;
    ci.origin = l->host;
    /* No subprotocol offered: the published API names none, and lws then
     * binds the connection to the local protocol named here. */
    ci.local_protocol_name =
        l->video ? "scn-sim-uav-video" : "scn-sim-uav-state";
    ci.ietf_version_or_minus_one = -1;
    ci.userdata = l;
    ci.pwsi = &l->wsi;
    l->live = 1;
    l->up = l->closing = l->dropped = 0;
    l->why = NULL;
    l->pending = 0;
    l->seq = l->bytes = l->skipped = l->garbage = 0;
    l->crc = crc32(0L, Z_NULL, 0);
    l->connects++;
    if (!lws_client_connect_via_info(&ci) && l->live) {
        /* Failed before lws could report it through the callback. */
        l->live = 0;
        l->wsi = NULL;
        schedule_retry(l, 0);
    }
}

void uav_links_init(uav_srv *s)
{
    s->state.srv = s->video.srv = s;
    s->state.name = "state";
    s->video.name = "video";
    s->video.video = 1;
    s->state.period_us = (int64_t)(1e6 / s->o->state_rate_hz);
    s->video.period_us = (int64_t)(1e6 / s->o->video_fps);
}

/* Starts a deliberate close: a close frame from WRITEABLE, or at
 * establishment for a connection still being made. */
static void link_close(uav_link *l, const char *why)
{
    if (!l->live || l->closing)
        return;
    l->closing = 1;
    l->why = why;
    if (l->up && l->wsi)
        lws_callback_on_writable(l->wsi);
}

void uav_link_want(uav_link *l, int on, const char *host, int port)
{
    if (!on) {
        l->want = 0;
        lws_sul_cancel(&l->sul_retry);
        link_close(l, l->video ? "streamoff" : "off");
        return;
    }
    l->want = 1;
    if (strcmp(l->host, host) || l->port != port) {
        snprintf(l->host, sizeof(l->host), "%s", host);
        l->port = port;
        link_close(l, "app moved"); /* reconnects to the new address */
    }
    if (!l->live)
        schedule_retry(l, 1);
}

static void link_keepalive(uav_link *l, int64_t now_us)
{
    cJSON *ev;

    if (now_us - l->last_rx_us >= LINK_DEAD_US) {
        ev = simlog_event("link_dead");
        cJSON_AddStringToObject(ev, "link", l->name);
        cJSON_AddNumberToObject(ev, "silent_ms",
                                (double)((now_us - l->last_rx_us) / 1000));
        simlog_emit(ev);
        uav_link_drop(l);
        return;
    }
    if (now_us - l->last_ping_us >= LINK_PING_US && !l->ping_due) {
        l->ping_due = 1;
        l->last_ping_us = now_us;
        lws_callback_on_writable(l->wsi);
    }
}

void uav_link_poll(uav_link *l, int64_t now_us)
{
    int64_t due;

    if (l->up && !l->closing && !l->dropped)
        link_keepalive(l, now_us);
    if (!l->up || l->closing || l->dropped || now_us < l->next_due_us)
        return;
    due = 1 + (now_us - l->next_due_us) / l->period_us;
    l->next_due_us += due * l->period_us;
    /* Due while the last one still waits, or several periods at once
     * (the loop was late): skipped, not sent in a burst. */
    l->skipped += (uint64_t)due - (l->pending ? 0 : 1);
    if (!l->pending) {
        l->pending = 1;
        lws_callback_on_writable(l->wsi);
    }
}

void uav_link_drop(uav_link *l)
{
    if (!l->live || l->dropped || !l->wsi)
        return;
    l->dropped = 1;
    lws_set_timeout(l->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void uav_links_stop(uav_srv *s)
{
    uav_link *ls[2] = {&s->state, &s->video};
    int i;

    for (i = 0; i < 2; i++) {
        ls[i]->want = 0;
        lws_sul_cancel(&ls[i]->sul_retry);
        if (ls[i]->live && !ls[i]->up && ls[i]->wsi)
            uav_link_drop(ls[i]); /* still connecting: just end it */
        link_close(ls[i], "stopping");
    }
}

int uav_links_busy(const uav_srv *s)
{
    return s->state.live || s->video.live;
}

static void log_up(uav_link *l)
{
    cJSON *ev = simlog_event(l->video ? "video_start" : "state_up");

    cJSON_AddStringToObject(ev, "host", l->host);
    cJSON_AddNumberToObject(ev, "port", l->port);
    cJSON_AddNumberToObject(ev, "connects", (double)l->connects);
    simlog_emit(ev);
    simlog_info("%s link up: ws://%s:%d/", l->name, l->host, l->port);
}

/* The end of a connection or attempt, reported once however lws ends it
 * (CONNECTION_ERROR, CLIENT_CLOSED). */
static void link_gone(uav_link *l, const char *error)
{
    cJSON *ev;
    int deliberate = l->closing && !l->dropped;

    if (!l->live)
        return;
    if (l->up) {
        ev = simlog_event(l->video ? "video_stop" : "state_down");
        cJSON_AddStringToObject(ev, "host", l->host);
        cJSON_AddNumberToObject(ev, "port", l->port);
        cJSON_AddStringToObject(ev, "reason",
                                l->dropped   ? "dropped"
                                : l->closing ? l->why
                                             : "closed by the app");
        cJSON_AddNumberToObject(ev, l->video ? "frames" : "sent",
                                (double)l->seq);
        cJSON_AddNumberToObject(ev, "bytes", (double)l->bytes);
        cJSON_AddNumberToObject(ev, "skipped", (double)l->skipped);
        if (l->video)
            cJSON_AddNumberToObject(ev, "crc32", (double)l->crc);
        else
            cJSON_AddNumberToObject(ev, "garbage", (double)l->garbage);
        simlog_emit(ev);
        simlog_info("%s link down", l->name);
    } else {
        ev = simlog_event("link_error");
        cJSON_AddStringToObject(ev, "link", l->name);
        cJSON_AddStringToObject(ev, "host", l->host);
        cJSON_AddNumberToObject(ev, "port", l->port);
        cJSON_AddStringToObject(ev, "error", error ? error : "closed");
        simlog_emit(ev);
    }
    l->live = l->up = l->closing = l->dropped = l->pending = 0;
    l->wsi = NULL;
    schedule_retry(l, deliberate);
}

/* Writes state string l->seq + 1, or its garbage replacement. */
static int write_state(uav_link *l, unsigned char *buf)
{
    uav_srv *s = l->srv;
    char *text = (char *)buf + LWS_PRE, *p;
    enum lws_write_protocol kind = LWS_WRITE_TEXT;
    scn_uav_state st;
    size_t n = 0, i;
    cJSON *ev;

    uav_drone_state(&s->drone, &st);
    if (scn_uav_state_format(&st, text, UAV_TX_CAP, &n))
        return -1;
    if (s->o->state_extra) {
        size_t extra = strlen(s->o->state_extra);

        if (n + extra >= UAV_TX_CAP)
            return -1;
        memcpy(text + n, s->o->state_extra, extra + 1);
        n += extra;
    }
    l->seq++;
    if (s->o->garbage_state_every && l->seq % s->o->garbage_state_every == 0) {
        enum garbage_kind k = (enum garbage_kind)(l->garbage++ % GARBAGE_KINDS);

        switch (k) {
        case GARBAGE_TRUNCATED:
            p = strstr(text, ";yaw:");
            n = p ? (size_t)(p - text) + 3 : n / 2; /* "...;ya" */
            break;
        case GARBAGE_NON_NUMERIC:
            p = strstr(text, ";bat:");
            if (p) {
                char *e = strchr(p + 5, ';');

                memmove(p + 8, e, strlen(e) + 1);
                memcpy(p + 5, "n/a", 3);
                n = strlen(text);
            }
            break;
        case GARBAGE_CONTROL:
            memmove(text + 8, text + 6, n - 6 + 1);
            memcpy(text + 6, "\a\x1b", 2); /* after "pitch:" */
            n += 2;
            break;
        default:
            kind = LWS_WRITE_BINARY;
            n = 64;
            for (i = 0; i < n; i++)
                text[i] = (char)(crc32((uLong)l->seq * 131u + i,
                                       (const Bytef *)"j", 1) >>
                                 8);
            break;
        }
        ev = simlog_event("fault");
        cJSON_AddStringToObject(ev, "kind", "garbage_state");
        cJSON_AddStringToObject(ev, "variant", garbage_names[k]);
        cJSON_AddNumberToObject(ev, "seq", (double)l->seq);
        simlog_emit(ev);
    }
    l->bytes += n;
    return lws_write(l->wsi, buf + LWS_PRE, n, kind) < (int)n ? -1 : 0;
}

_Static_assert(UAV_VIDEO_FRAME_MAX <= UAV_TX_CAP, "a video frame fits tx");

static int write_video(uav_link *l, unsigned char *buf)
{
    size_t n = uav_video_frame(l->seq, l->srv->o->video_fps, buf + LWS_PRE);
    /* Before the write: a client masks its payload in place. */
    unsigned long crc = crc32(l->crc, buf + LWS_PRE, (uInt)n);

    if (lws_write(l->wsi, buf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
        return -1;
    /* Counted once lws has it all: lws sends what the socket did not
     * take before anything else, and a close comes after it. */
    l->crc = crc;
    l->bytes += n;
    l->seq++;
    return 0;
}

static int link_writeable(uav_link *l)
{
    if (l->closing) {
        static const char reason[] = "going away";

        lws_close_reason(l->wsi,
                         l->video && l->why && !strcmp(l->why, "streamoff")
                             ? LWS_CLOSE_STATUS_NORMAL
                             : LWS_CLOSE_STATUS_GOINGAWAY,
                         (unsigned char *)reason, sizeof(reason) - 1);
        return -1;
    }
    if (l->ping_due) {
        unsigned char ping[LWS_PRE];

        l->ping_due = 0;
        if (lws_write(l->wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
        /* The state goes next, from the next writeable. */
        if (l->pending)
            lws_callback_on_writable(l->wsi);
        return 0;
    }
    if (!l->pending)
        return 0;
    l->pending = 0;
    return l->video ? write_video(l, l->srv->base.tx)
                    : write_state(l, l->srv->base.tx);
}

static int append_headers(struct lws *wsi, unsigned char **p, size_t len)
{
    static const char uid[] = UAV_SERIAL;
    unsigned char *end = *p + len;

    /* The app may serve several drones: tell it which one this is. */
    return lws_add_http_header_by_name(
               wsi, (const unsigned char *)"x-scentience-uid:",
               (const unsigned char *)uid, (int)sizeof(uid) - 1, p, end)
               ? -1
               : 0;
}

static int link_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
    uav_link *l = user;

    /* Only the link's current connection speaks for it: a late callback
     * of an attempt already given up must not end its successor. */
    if (l && l->wsi && l->wsi != wsi)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return l ? append_headers(wsi, in, len) : 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (l)
            link_gone(l, in ? (const char *)in : "connection failed");
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!l)
            return 0;
        l->up = 1;
        l->wsi = wsi;
        log_up(l);
        if (l->closing || !l->want) {
            l->closing = 1;
            if (!l->why)
                l->why = "not wanted";
            lws_callback_on_writable(wsi);
            return 0;
        }
        l->next_due_us = sim_mono_us(); /* the first message now */
        l->last_rx_us = l->last_ping_us = l->next_due_us;
        l->ping_due = 0;
        uav_link_poll(l, l->next_due_us);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return l && l->live && !l->dropped ? link_writeable(l) : 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        /* The app says nothing here but pongs: either shows it is there. */
        if (l)
            l->last_rx_us = sim_mono_us();
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (l)
            link_gone(l, NULL);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* lws 4.1 gives up an attempt whose upgrade the app never
         * answers (its timeout) without CLIENT_CONNECTION_ERROR, as the
         * library's adapter also found (CLOSED_CLIENT_HTTP): the link
         * must not keep a pointer to the freed connection (a stop that
         * then ended it crashed the simulator). After the cases above
         * l->wsi is NULL already and this does nothing. */
        if (l && l->wsi == wsi)
            link_gone(l, "closed before the upgrade was answered");
        return 0;
    default:
        return 0;
    }
}

const struct lws_protocols uav_link_protocols[] = {
    {"scn-sim-uav-state", link_callback, 0, 4096, 0, NULL, 0},
    {"scn-sim-uav-video", link_callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};
