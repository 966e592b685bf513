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
#include "json_obj.h"
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

/* ,"key":v with v as the library writes numbers. */
static void number_member(json_obj *b, const char *key, double v)
{
    char num[SCN_JSON_NUMBER_MAX];

    scn_json_write_number(num, sizeof(num), v);
    json_obj_text(b, ",\"");
    json_obj_text(b, key);
    json_obj_text(b, "\":");
    json_obj_text(b, num);
}

/* A table the dashboards never get (no memory to build it, or the fan-out
 * refused it): counted and said, at most once an interval. Not kept data:
 * the exit status stays. */
static void table_unpublished(gs_app *a, int rc, uint64_t now_ms)
{
    uint64_t held;

    a->tables_unpublished++;
    if (!cli_ratelimit_allow(&a->rl_table, now_ms, &held))
        return;
    fprintf(stderr,
            P ": the fleet table was not published on /live: %s; "
              "%llu tables not published\n",
            scn_strerror(rc), (unsigned long long)a->tables_unpublished);
}

/* {"broker":"...","outages":N,"drones":[{"id":..,"online":true|false|
 * null,...}]}: no limit but memory (the model holds at most max_drones). */
void gs_live_table(gs_app *a, uint64_t now_ms)
{
    json_obj b;
    scn_fleet_drone d;
    char link[256];
    size_t n = scn_fleet_count(a->model);
    int rc;

    if (!a->live)
        return;
    json_obj_init(&b, SIZE_MAX);
    gs_link_describe(a, now_ms, link, sizeof(link));
    json_obj_text(&b, "{\"broker\":");
    json_obj_string(&b, link);
    number_member(&b, "outages", (double)a->outages);
    json_obj_text(&b, ",\"drones\":[");
    for (size_t i = 0; i < n; i++) {
        if (scn_fleet_drone_get(a->model, i, &d) != 0)
            continue;
        json_obj_text(&b, i ? ",{\"id\":" : "{\"id\":");
        json_obj_string(&b, d.id);
        json_obj_text(&b, d.online == 1   ? ",\"online\":true"
                          : d.online == 0 ? ",\"online\":false"
                                          : ",\"online\":null");
        if (d.has_battery)
            number_member(&b, "battery", d.battery_pct);
        if (d.has_position) {
            number_member(&b, "x", d.x_m);
            number_member(&b, "y", d.y_m);
            number_member(&b, "h", d.h_m);
        }
        if (d.inference[0]) {
            json_obj_text(&b, ",\"inference\":");
            json_obj_string(&b, d.inference);
            number_member(&b, "score", d.inference_score);
        }
        number_member(&b, "age_ms", (double)(now_ms - d.last_ms));
        number_member(&b, "gaps", (double)d.gaps);
        number_member(&b, "duplicates", (double)d.duplicates);
        number_member(&b, "messages", (double)d.messages);
        json_obj_text(&b, "}");
    }
    json_obj_text(&b, "]}");
    rc = b.err
             ? b.err
             : scn_live_publish(a->live, 0, "fleet", gs_now_ns(), b.buf, b.len);
    /* >= 0: the subscribers it was queued for. */
    if (rc < 0)
        table_unpublished(a, rc, now_ms);
    json_obj_free(&b);
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
