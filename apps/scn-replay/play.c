/*
 * Playback: the shared clock, frames with a per-connection SEQ, requests
 * (docs/PROTOCOL.md section 4) and the drone state and inference paths.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scentience/json_writer.h>

#include "device_request.h"
#include "replay.h"

uint64_t rp_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int grow(char **buf, size_t *cap, size_t need)
{
    size_t c = *cap ? *cap : 1024;
    char *p;

    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    p = realloc(*buf, c);
    if (!p)
        return -1;
    *buf = p;
    *cap = c;
    return 0;
}

static int put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (grow(buf, cap, *len + n + 1))
        return -1;
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* A key name as a JSON string: names come back unescaped from the frame. */
static int put_name(char **buf, size_t *len, size_t *cap, const char *name)
{
    size_t n = scn_json_write_string(NULL, 0, name, strlen(name));

    if (grow(buf, cap, *len + n + 1))
        return -1;
    *len += scn_json_write_string(*buf + *len, *cap - *len, name, strlen(name));
    return put(buf, len, cap, ":", 1);
}

/*
 * Splits a recorded frame around its SEQ value into a->pre and a->suf, so
 * that each connection only prints its own number in between. Every other
 * key keeps its place and value (the recorder wrote the canonical text
 * scn_frame_key_at gives back). A frame without SEQ gets one after
 * TIMESTAMP, where devices put it. Returns 0, -1 if not a valid frame.
 */
static int split_frame(rp_app *a, const rp_msg *m)
{
    size_t i, count;
    char **buf = &a->pre;
    size_t *len = &a->pre_len, *cap = &a->pre_cap;
    int seen = 0, first = 1;

    if (scn_frame_parse(a->frame, m->data, m->len))
        return -1;
    a->pre_len = a->suf_len = 0;
    if (put(buf, len, cap, "{", 1))
        return -1;
    count = scn_frame_key_count(a->frame);
    for (i = 0; i < count; i++) {
        const char *name, *val;

        scn_frame_key_at(a->frame, i, &name, NULL, &val);
        if (!strcmp(name, "SEQ"))
            continue;
        if (!first && put(buf, len, cap, ",", 1))
            return -1;
        first = 0;
        if (put_name(buf, len, cap, name) ||
            put(buf, len, cap, val, strlen(val)))
            return -1;
        if (!seen && !strcmp(name, "TIMESTAMP")) {
            seen = 1;
            if (put(buf, len, cap, ",\"SEQ\":", 7))
                return -1;
            buf = &a->suf;
            len = &a->suf_len;
            cap = &a->suf_cap;
            if (put(buf, len, cap, "", 0))
                return -1;
        }
    }
    return put(buf, len, cap, "}", 1);
}

/* Sends the frame split last to one device connection with its next SEQ. */
static void send_frame(rp_app *a, rp_conn *c)
{
    char num[24];
    int n =
        snprintf(num, sizeof(num), "%llu", (unsigned long long)(c->seq + 1));
    size_t len = a->pre_len + (size_t)n + a->suf_len;

    if (grow(&a->out, &a->out_cap, len + 1))
        return;
    memcpy(a->out, a->pre, a->pre_len);
    memcpy(a->out + a->pre_len, num, (size_t)n);
    memcpy(a->out + a->pre_len + (size_t)n, a->suf, a->suf_len);
    if (!scn_server_conn_send(c->conn, a->out, len, 0)) {
        c->seq++;
        a->sent_frames++;
    }
}

/* When message i plays, on the monotonic clock. */
static uint64_t due(const rp_app *a, size_t i)
{
    double dt = (double)(a->msgs[i].t - a->base_t) / a->speed;

    return a->base_wall + (uint64_t)dt;
}

static void deliver(rp_app *a, const rp_msg *m)
{
    rp_conn *c;

    if (a->live)
        rp_live_publish(a, m);
    if (m->kind == KIND_OTHER)
        return;
    if (m->kind == KIND_DEVICE) {
        if (split_frame(a, m)) {
            a->skipped++;
            return;
        }
        for (c = a->conns; c; c = c->next)
            if (c->kind == KIND_DEVICE && c->streaming)
                send_frame(a, c);
        return;
    }
    /* State and inference go out as recorded: one JSON object each. */
    for (c = a->conns; c; c = c->next)
        if (c->kind == m->kind)
            scn_server_conn_send(c->conn, m->data, m->len, 0);
}

/*
 * End of the recording without --loop: each connection is closed with 4010
 * (end of stream, docs/PROTOCOL.md section 5: the client stops instead of
 * reconnecting) once its queue has drained, as a close discards what is
 * still queued and the last frames would be lost. A peer that does not
 * read gets 5 s.
 */
static void finish(rp_app *a, uint64_t now)
{
    scn_server_conn_stats st;
    rp_conn *c;
    int waiting = 0;

    if (!a->ending) {
        a->ending = 1;
        a->end_deadline = now + 5000000000u;
    }
    for (c = a->conns; c; c = c->next) {
        if (c->closing)
            continue;
        scn_server_conn_get_stats(c->conn, &st);
        if (st.queued_msgs && now < a->end_deadline) {
            waiting = 1;
            continue;
        }
        c->closing = 1;
        scn_server_conn_close(c->conn, REPLAY_END_OF_STREAM,
                              "end of recording");
    }
    if (!a->open)
        a->done = 1;
    else if (waiting)
        scn_timer_start(a->timer, 10);
}

void rp_tick(scn_timer *t, void *user)
{
    rp_app *a = user;
    uint64_t now = rp_now_ns(), next, last;
    int wrapped = 0;

    (void)t;
    if (a->ending) {
        finish(a, now);
        return;
    }
    for (;;) {
        if (a->pos == a->n) {
            if (!a->loop_mode) {
                finish(a, now);
                return;
            }
            /* One wrap per tick at most, so that a recording whose
             * messages all share one log time cannot spin here. */
            if (wrapped) {
                scn_timer_start(a->timer, 0);
                return;
            }
            wrapped = 1;
            last = due(a, a->n - 1);
            a->base_t = a->msgs[0].t;
            a->base_wall = last + (uint64_t)((double)a->loop_gap_ns / a->speed);
            a->pos = 0;
            a->passes++;
        }
        if (due(a, a->pos) > now)
            break;
        deliver(a, &a->msgs[a->pos]);
        a->pos++;
    }
    next = due(a, a->pos);
    /* Round up: firing early would only rearm for the remainder. */
    scn_timer_start(a->timer, (next - now + 999999u) / 1000000u);
}

void rp_start(rp_app *a)
{
    a->started = 1;
    a->pos = 0;
    a->base_t = a->msgs[0].t;
    a->base_wall = rp_now_ns();
    scn_timer_start(a->timer, 0);
}

int rp_on_connect(scn_server *srv, scn_server_conn *conn, const char *peer,
                  const char *path, void *user)
{
    rp_app *a = user;
    rp_conn *c;
    int kind = KIND_DEVICE;

    (void)srv;
    (void)peer;
    if (!strcmp(path, "/uav/state"))
        kind = KIND_STATE;
    else if (!strcmp(path, "/inference"))
        kind = KIND_INFERENCE;
    /* A path whose channel the recording lacks is refused rather than
     * served as a device, so that a typo does not look like silence. */
    if (a->ending || !a->has[kind])
        return 1;
    c = calloc(1, sizeof(*c));
    if (!c)
        return 1;
    c->conn = conn;
    c->kind = kind;
    c->streaming = 1; /* a device streams from the start (section 4) */
    c->next = a->conns;
    a->conns = c;
    a->open++;
    scn_server_conn_set_user(conn, c);
    if (kind == KIND_DEVICE)
        scn_server_conn_send(conn, a->hello, a->hello_len, 0);
    /* Playback waits for the first client: nobody would see it before. */
    if (!a->started)
        rp_start(a);
    return 0;
}

void rp_on_close(scn_server *srv, scn_server_conn *conn, int code, void *user)
{
    rp_app *a = user;
    rp_conn *c = scn_server_conn_get_user(conn), **pp;

    (void)srv;
    (void)code;
    if (!c)
        return;
    for (pp = &a->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    free(c);
    a->open--;
    if (a->ending && !a->open)
        a->done = 1;
}

static void send_json(rp_conn *c, cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;

    if (s)
        scn_server_conn_send(c->conn, s, strlen(s), 0);
    free(s);
    cJSON_Delete(j);
}

/* "sample": the next recorded frame not played yet, sent now. */
static void sample(rp_app *a, rp_conn *c)
{
    size_t i = a->pos;

    for (; i < a->n; i++)
        if (a->msgs[i].kind == KIND_DEVICE)
            break;
    if (i == a->n) /* past the last frame: the first one again */
        for (i = 0; i < a->n && a->msgs[i].kind != KIND_DEVICE; i++)
            ;
    if (i < a->n && !split_frame(a, &a->msgs[i]))
        send_frame(a, c);
}

/* "stream": on or off for this connection. The pace stays the recorded
 * one whatever rate_hz asks for; the ack reports that pace. */
static void stream(rp_app *a, rp_conn *c, const devreq *r)
{
    cJSON *j = devreq_ack(r);

    c->streaming = r->on;
    if (j && a->rate_hz > 0)
        cJSON_AddNumberToObject(j, "rate_hz", a->rate_hz);
    if (j)
        send_json(c, j);
}

void rp_on_message(scn_server *srv, scn_server_conn *conn, const void *data,
                   size_t len, int is_binary, void *user)
{
    rp_app *a = user;
    rp_conn *c = scn_server_conn_get_user(conn);
    cJSON *reply;
    devreq r;

    (void)srv;
    if (!c || c->kind != KIND_DEVICE) /* state and inference only listen */
        return;
    if (is_binary) {
        send_json(
            c, devreq_error("bad_request", "binary messages are not requests"));
        return;
    }
    if (devreq_parse(data, len, &r, &reply)) {
        send_json(c, reply);
        return;
    }
    if (r.kind == DEVREQ_SAMPLE) {
        sample(a, c);
        reply = devreq_ack(&r);
        if (reply)
            send_json(c, reply);
    } else {
        stream(a, c, &r);
    }
}
