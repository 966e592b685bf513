/*
 * The ground station's live listener (scn_live, as the companion's): one
 * browser tab or one Foxglove connection sees the whole fleet. Foxglove
 * gets a channel per drone and stream ("/<id>/olfaction", the recording's
 * topics and schemas), advertised when the drone's first message of that
 * stream arrives; /live gets the same messages on "<id>.<stream>" and the
 * table on "fleet" every table interval; the built-in dashboard is
 * served as by the companion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/json_writer.h>

#include "cli.h"
#include "dashboard.h"
#include "live_close.h"
#include "station.h"

int gs_live_start(gs_app *a)
{
    return live_listen_start(P, a->loop, &a->cf->live, &a->live);
}

void gs_live_publish(gs_app *a, const scn_fleet_message *m, uint64_t t_ns)
{
    uint32_t *chan;
    char name[SCN_FLEET_ID_MAX + 32];

    if (!a->live)
        return;
    chan = &a->chans[m->drone_index].live[m->stream];
    if (!*chan) {
        gs_topic(name, sizeof(name), m->drone_id, m->stream);
        /* A channel that cannot be added (no memory) leaves Foxglove
         * without it; /live still gets the message. */
        if (scn_live_channel_add(a->live, name, gs_schema_name(m->stream),
                                 gs_schema(m->stream), chan) != 0)
            *chan = 0;
    }
    gs_live_stream(name, sizeof(name), m->drone_id, m->stream);
    scn_live_publish(a->live, *chan, name, t_ns, m->data, m->data_len);
}

/* Appends printf-style text to a growing buffer; *ok cleared on failure. */
typedef struct jbuf {
    char *p;
    size_t len, cap;
    int ok;
} jbuf;

static void jb_reserve(jbuf *b, size_t more)
{
    char *n;
    size_t cap = b->cap ? b->cap : 4096;

    if (!b->ok || b->len + more < b->cap)
        return;
    while (cap <= b->len + more)
        cap *= 2;
    n = realloc(b->p, cap);
    if (!n) {
        b->ok = 0;
        return;
    }
    b->p = n;
    b->cap = cap;
}

static void jb_raw(jbuf *b, const char *s)
{
    size_t n = strlen(s);

    jb_reserve(b, n + 1);
    if (!b->ok)
        return;
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void jb_string(jbuf *b, const char *s)
{
    size_t need = scn_json_write_string(NULL, 0, s, strlen(s));

    jb_reserve(b, need + 1);
    if (!b->ok)
        return;
    b->len +=
        scn_json_write_string(b->p + b->len, b->cap - b->len, s, strlen(s));
}

static void jb_member(jbuf *b, const char *key, double v)
{
    char num[SCN_JSON_NUMBER_MAX];

    scn_json_write_number(num, sizeof(num), v);
    jb_raw(b, ",\"");
    jb_raw(b, key);
    jb_raw(b, "\":");
    jb_raw(b, num);
}

/* {"broker":"...","outages":N,"drones":[{"id":..,"online":true|false|
 * null,...}]} */
void gs_live_table(gs_app *a, uint64_t now_ms)
{
    jbuf b = {NULL, 0, 0, 1};
    scn_fleet_drone d;
    char link[256];
    size_t n = scn_fleet_count(a->model);

    if (!a->live)
        return;
    gs_link_describe(a, now_ms, link, sizeof(link));
    jb_raw(&b, "{\"broker\":");
    jb_string(&b, link);
    jb_member(&b, "outages", (double)a->outages);
    jb_raw(&b, ",\"drones\":[");
    for (size_t i = 0; i < n; i++) {
        if (scn_fleet_drone_get(a->model, i, &d) != 0)
            continue;
        jb_raw(&b, i ? ",{\"id\":" : "{\"id\":");
        jb_string(&b, d.id);
        jb_raw(&b, d.online == 1   ? ",\"online\":true"
                   : d.online == 0 ? ",\"online\":false"
                                   : ",\"online\":null");
        if (d.has_battery)
            jb_member(&b, "battery", d.battery_pct);
        if (d.has_position) {
            jb_member(&b, "x", d.x_m);
            jb_member(&b, "y", d.y_m);
            jb_member(&b, "h", d.h_m);
        }
        if (d.inference[0]) {
            jb_raw(&b, ",\"inference\":");
            jb_string(&b, d.inference);
            jb_member(&b, "score", d.inference_score);
        }
        jb_member(&b, "age_ms", (double)(now_ms - d.last_ms));
        jb_member(&b, "gaps", (double)d.gaps);
        jb_member(&b, "duplicates", (double)d.duplicates);
        jb_member(&b, "messages", (double)d.messages);
        jb_raw(&b, "}");
    }
    jb_raw(&b, "]}");
    if (b.ok)
        scn_live_publish(a->live, 0, "fleet", gs_now_ns(), b.p, b.len);
    free(b.p);
}

void gs_live_stop(gs_app *a)
{
    if (!a->live)
        return;
    /* As the companion: the channels go, then a clean close (1001). */
    for (size_t i = 0; i < scn_fleet_count(a->model); i++)
        for (int s = 0; s < SCN_FLEET_STREAM_COUNT; s++)
            if (a->chans[i].live[s])
                scn_live_channel_remove(a->live, a->chans[i].live[s]);
    live_close_and_free(a->live, a->loop);
    a->live = NULL;
}
