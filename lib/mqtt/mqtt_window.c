/* The QoS 1 in-flight window (mqtt_window.h). */
#include <scentience/error.h>
#include <stdlib.h>

#include "mqtt_window.h"

int scn__mqtt_window_init(scn_mqtt_window *w, uint32_t max)
{
    w->slots = NULL;
    w->max = w->head = w->count = 0;
    w->max_sent = 0;
    if (max == 0 || max > 65535)
        return SCN_ERR_INVALID_ARG;
    w->slots = calloc(max, sizeof(*w->slots));
    if (!w->slots)
        return SCN_ERR_NOMEM;
    w->max = max;
    return 0;
}

void scn__mqtt_window_free(scn_mqtt_window *w)
{
    free(w->slots);
    w->slots = NULL;
    w->max = w->count = 0;
}

bool scn__mqtt_window_has_room(const scn_mqtt_window *w)
{
    return w->count < w->max;
}

static scn_mqtt_inflight *slot(const scn_mqtt_window *w, uint32_t i)
{
    return &w->slots[(w->head + i) % w->max];
}

bool scn__mqtt_window_sent(scn_mqtt_window *w, uint64_t seq, int mid)
{
    scn_mqtt_inflight *s = slot(w, w->count);
    bool again = seq <= w->max_sent;

    s->seq = seq;
    s->mid = mid;
    s->acked = false;
    w->count++;
    if (!again)
        w->max_sent = seq;
    return again;
}

/* Drops the acknowledged run at the head; returns its last seq or 0. */
static uint64_t pop_acked(scn_mqtt_window *w)
{
    uint64_t upto = 0;

    while (w->count && slot(w, 0)->acked) {
        upto = slot(w, 0)->seq;
        w->head = (w->head + 1) % w->max;
        w->count--;
    }
    return upto;
}

bool scn__mqtt_window_acked(scn_mqtt_window *w, int mid, uint64_t *upto)
{
    *upto = 0;
    for (uint32_t i = 0; i < w->count; i++) {
        scn_mqtt_inflight *s = slot(w, i);

        if (s->mid == mid && !s->acked) {
            s->acked = true;
            *upto = pop_acked(w);
            return true;
        }
    }
    return false;
}

uint32_t scn__mqtt_window_reset(scn_mqtt_window *w)
{
    uint32_t unacked = 0;

    for (uint32_t i = 0; i < w->count; i++)
        unacked += !slot(w, i)->acked;
    w->head = w->count = 0;
    return unacked;
}

uint64_t scn__mqtt_window_forget_upto(scn_mqtt_window *w, uint64_t seq)
{
    while (w->count && slot(w, 0)->seq <= seq) {
        w->head = (w->head + 1) % w->max;
        w->count--;
    }
    return pop_acked(w);
}
