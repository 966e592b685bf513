/*
 * One command connection: a text command per message in, one answer per
 * command out, in order, each written from the WRITEABLE callback once it
 * is due (--late-answers delays them all alike, so the order holds).
 */
#include "uav_sim.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <scentience/error.h>

#include "common/simclock.h"
#include "common/simlog.h"

#define LOG_RAW_MAX 300 /* characters of a command kept in the log */

/* A stall (SIGUSR1, --stall-every) silences every command connection:
 * nothing read, nothing written, until it ends. */
static int stalled(const uav_conn *c)
{
    return c->srv->stalled;
}

void uav_conn_update_rx(uav_conn *c)
{
    int want;

    if (c->inflight >= UAV_INFLIGHT_HIGH)
        c->rx_load = 1;
    else if (c->inflight <= UAV_INFLIGHT_LOW)
        c->rx_load = 0;
    want = c->h.closing || (!stalled(c) && !c->rx_load);
    if (want == !c->rx_paused || c->h.dropped)
        return;
    lws_rx_flow_control(c->wsi, want);
    c->rx_paused = !want;
}

static void uav_conn_open(uav_conn *c, uav_srv *s, struct lws *wsi, ks_key *key,
                          const char *peer)
{
    c->srv = s;
    c->wsi = wsi;
    c->key = key;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    sim_conn_link(&s->base, &c->h);
    uav_conn_update_rx(c); /* a connection made during a stall waits */
}

/*
 * The command as the log shows it: printable ASCII kept, other bytes as
 * \xNN (so the log stays valid UTF-8 JSON), and a Wi-Fi password never:
 * a line whose first word is ssid or ap keeps its first argument only,
 * valid or not (an invalid line may still carry a password).
 */
static void loggable(const char *raw, size_t len, char *out, size_t cap)
{
    size_t i = 0, o = 0, words = 0, keep = len;
    size_t w0 = 0;

    while (w0 < len && raw[w0] == ' ')
        w0++;
    if ((len - w0 >= 4 && !strncasecmp(raw + w0, "ssid", 4) &&
         (len - w0 == 4 || raw[w0 + 4] == ' ')) ||
        (len - w0 >= 2 && !strncasecmp(raw + w0, "ap", 2) &&
         (len - w0 == 2 || raw[w0 + 2] == ' '))) {
        /* the end of the second word */
        for (i = w0; i < len; i++) {
            if (raw[i] == ' ' && i > w0 && raw[i - 1] != ' ' && ++words == 2)
                break;
        }
        keep = i;
    }
    for (i = 0; i < keep && o + 5 < cap && o < LOG_RAW_MAX; i++) {
        unsigned char b = (unsigned char)raw[i];

        if (b >= 0x20 && b <= 0x7e && b != '\\')
            out[o++] = (char)b;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", b);
    }
    out[o] = '\0';
    if (keep < len && o + 6 < cap)
        snprintf(out + o, cap - o, " ****");
}

static void log_command(uav_conn *c, const scn_uav_cmd *cmd, int rc,
                        const char *msg)
{
    cJSON *ev = simlog_event("command");
    char raw[LOG_RAW_MAX + 16];
    size_t n;

    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    if (c->rx_binary) {
        cJSON_AddNullToObject(ev, "raw");
        cJSON_AddBoolToObject(ev, "binary", 1);
    } else if (!rc && (cmd->id == SCN_UAV_SSID || cmd->id == SCN_UAV_AP) &&
               !scn_uav_cmd_format_redacted(cmd, raw, sizeof(raw), &n, NULL,
                                            0)) {
        cJSON_AddStringToObject(ev, "raw", raw);
    } else {
        loggable(c->rx, c->rx_len, raw, sizeof(raw));
        cJSON_AddStringToObject(ev, "raw", raw);
    }
    cJSON_AddNumberToObject(ev, "bytes", (double)c->rx_total);
    cJSON_AddBoolToObject(ev, "valid", !rc);
    if (!rc) {
        cJSON_AddStringToObject(ev, "cmd", scn_uav_cmd_name(cmd->id));
    } else {
        cJSON_AddNullToObject(ev, "cmd");
        cJSON_AddStringToObject(ev, "code", scn_err_name(rc));
        cJSON_AddStringToObject(ev, "error", msg);
    }
    simlog_emit(ev);
}

static void handle_message(uav_conn *c)
{
    uav_srv *s = c->srv;
    scn_uav_cmd cmd;
    char msg[256], reply[300];
    unsigned retry = 0;
    int rc;

    s->total_commands++;
    c->commands++;
    c->inflight++;
    if (ks_quota_take(c->key, (double)sim_mono_us() / 1e6, &retry)) {
        char reason[64];

        c->inflight--;
        snprintf(reason, sizeof(reason), "quota exhausted; retry_after=%u",
                 retry);
        uav_conn_close(c, 4029, reason);
        return;
    }
    if (c->rx_binary) {
        log_command(c, NULL, SCN_ERR_INVALID_ARG,
                    "binary messages are not commands");
        uav_conn_answer(c, -1, "error binary messages are not commands");
        return;
    }
    /* A longer message was kept only in part: still too long to parse. */
    rc = scn_uav_cmd_parse(c->rx, c->rx_len, &cmd, msg, sizeof(msg));
    log_command(c, &cmd, rc, msg);
    if (rc) {
        snprintf(reply, sizeof(reply), "error %s", msg);
        uav_conn_answer(c, -1, reply);
        return;
    }
    uav_drone_advance(&s->drone, uav_sim_time(s));
    uav_drone_submit(&s->drone, c->h.id, &cmd);
}

static void uav_conn_receive(sim_conn *sc, const void *in, size_t len)
{
    uav_conn *c = (uav_conn *)sc;
    size_t room;

    if (c->h.closing || c->h.dropped)
        return;
    if (!c->rx_started) {
        c->rx_started = 1;
        c->rx_binary = lws_frame_is_binary(c->wsi);
        c->rx_len = c->rx_total = 0;
    }
    room = UAV_RX_MAX - c->rx_len;
    memcpy(c->rx + c->rx_len, in, len < room ? len : room);
    c->rx_len += len < room ? len : room;
    c->rx[c->rx_len] = '\0';
    c->rx_total += len;
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
        return;
    handle_message(c);
    c->rx_started = 0;
    c->rx_len = 0;
    uav_conn_update_rx(c);
}

void uav_conn_answer(uav_conn *c, int cmd, const char *text)
{
    int64_t now = sim_mono_us();
    size_t len = strlen(text);
    uav_out *o;

    if (c->q_len == UAV_OUTQ_MAX) {
        /* Reading pauses long before; should it ever happen, the client
         * sees a missing answer, as after a lost message. */
        c->inflight--;
        return;
    }
    o = &c->q[(c->q_head + c->q_len) % UAV_OUTQ_MAX];
    o->text = malloc(len + 1);
    if (!o->text) {
        c->inflight--;
        return;
    }
    memcpy(o->text, text, len + 1);
    o->len = len;
    o->cmd = cmd;
    o->made_us = now;
    o->due_us = now + (int64_t)c->srv->o->late_answers_ms * 1000;
    c->q_len++;
    uav_conn_poll(c, now);
}

void uav_conn_poll(uav_conn *c, int64_t now_us)
{
    if (c->q_len && !c->h.closing && !c->h.dropped && !stalled(c) &&
        c->q[c->q_head].due_us <= now_us)
        lws_callback_on_writable(c->wsi);
}

static int write_answer(uav_conn *c)
{
    uav_out o = c->q[c->q_head];
    unsigned char *buf = c->srv->base.tx;
    int64_t now = sim_mono_us();
    cJSON *ev;
    int n;

    c->q_head = (c->q_head + 1) % UAV_OUTQ_MAX;
    c->q_len--;
    c->inflight--;
    memcpy(buf + LWS_PRE, o.text, o.len);
    /* lws keeps what the socket does not take and holds WRITEABLE back
     * until it is out, so the buffer is free again on return. */
    n = lws_write(c->wsi, buf + LWS_PRE, o.len, LWS_WRITE_TEXT);
    ev = simlog_event("answer");
    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    if (o.cmd >= 0)
        cJSON_AddStringToObject(ev, "cmd",
                                scn_uav_cmd_name((scn_uav_cmd_id)o.cmd));
    else
        cJSON_AddNullToObject(ev, "cmd");
    cJSON_AddStringToObject(ev, "answer", o.text);
    cJSON_AddNumberToObject(ev, "delay_ms", (double)(now - o.made_us) / 1e3);
    simlog_emit(ev);
    free(o.text);
    c->answers++;
    uav_conn_update_rx(c);
    return n < (int)o.len ? -1 : 0;
}

static int uav_conn_writeable(sim_conn *sc)
{
    uav_conn *c = (uav_conn *)sc;

    if (c->h.closing)
        return sim_conn_close_frame(&c->h, c->wsi);
    if (stalled(c) || !c->q_len || c->q[c->q_head].due_us > sim_mono_us())
        return 0;
    if (write_answer(c))
        return -1;
    uav_conn_poll(c, sim_mono_us());
    return 0;
}

void uav_conn_close(uav_conn *c, int code, const char *reason)
{
    if (c->h.dropped || !sim_conn_closing(&c->h, code, reason))
        return;
    uav_conn_update_rx(c);
    lws_callback_on_writable(c->wsi);
    /* A peer that never reads never makes us writeable: drop it then. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 3);
}

void uav_conn_drop(uav_conn *c)
{
    if (c->h.dropped)
        return;
    c->h.dropped = 1;
    /* Closed from the event loop with no close frame and no flushing, as
     * a link that dies would. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void uav_conn_closed(sim_conn *sc)
{
    uav_conn *c = (uav_conn *)sc;
    const sim_count counts[] = {
        {"commands", c->commands, "commands"},
        {"answers", c->answers, NULL},
        {"unsent", c->q_len, NULL},
    };

    if (!c->h.linked)
        return;
    sim_conn_report_close(&c->srv->base, &c->h, ks_key_name(c->key), counts,
                          sizeof(counts) / sizeof(counts[0]));
    for (; c->q_len; c->q_len--, c->q_head = (c->q_head + 1) % UAV_OUTQ_MAX)
        free(c->q[c->q_head].text);
}

/* The client's port: with its address, it names the client's socket, so a
 * test can tell which of its connections the drone saw. */
static int peer_port(struct lws *wsi)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int fd = (int)lws_get_socket_fd(wsi);

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
        return 0;
    if (sa.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&sa)->sin_port);
    if (sa.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return 0;
}

static void established(sim_server *s, sim_conn *sc, struct lws *wsi,
                        const sim_admission *r)
{
    uav_conn *c = (uav_conn *)sc;
    cJSON *ev;

    uav_conn_open(c, (uav_srv *)s, wsi, r->key, r->peer);
    ev = simlog_event("connect");
    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    cJSON_AddStringToObject(ev, "peer", c->peer);
    cJSON_AddNumberToObject(ev, "peer_port", peer_port(wsi));
    cJSON_AddStringToObject(ev, "key", ks_key_name(c->key));
    simlog_emit(ev);
    simlog_info("conn %lu from %s: key %s", c->h.id, c->peer,
                ks_key_name(c->key));
}

static void close_conn(sim_conn *c, int code, const char *reason)
{
    uav_conn_close((uav_conn *)c, code, reason);
}

const sim_conn_ops uav_conn_ops = {
    .size = sizeof(uav_conn),
    .established = established,
    .close = close_conn,
    .writeable = uav_conn_writeable,
    .receive = uav_conn_receive,
    .closed = uav_conn_closed,
};
