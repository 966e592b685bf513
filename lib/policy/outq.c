/* Two outbound lanes with shared watermarks. Control (requests, commands)
 * must arrive or fail loudly; telemetry is only worth its newest values, so
 * it sheds its oldest instead of blocking the producer. */
#include "outq.h"

#include <scentience/error.h>

#include <stddef.h>
#include <string.h>

int scn__outq_init(scn_outq *q, const scn_outq_limits *limits, size_t headroom)
{
    int rc;

    memset(q, 0, sizeof(*q)); /* scn__outq_free is safe after a failure */
    if (!limits || !limits->control_msgs || !limits->control_bytes ||
        !limits->telemetry_msgs || !limits->telemetry_bytes ||
        !limits->high_water || limits->low_water >= limits->high_water)
        return SCN_ERR_INVALID_ARG;
    rc = scn__msgq_init(&q->lane[SCN_LANE_CONTROL], limits->control_msgs,
                        limits->control_bytes, headroom);
    if (rc == 0)
        rc =
            scn__msgq_init(&q->lane[SCN_LANE_TELEMETRY], limits->telemetry_msgs,
                           limits->telemetry_bytes, headroom);
    if (rc) {
        scn__outq_free(q);
        return rc;
    }
    q->high_water = limits->high_water;
    q->low_water = limits->low_water;
    return 0;
}

void scn__outq_free(scn_outq *q)
{
    scn__msgq_free(&q->lane[0]);
    scn__msgq_free(&q->lane[1]);
}

size_t scn__outq_count(const scn_outq *q)
{
    return q->lane[0].count + q->lane[1].count;
}

size_t scn__outq_bytes(const scn_outq *q)
{
    return q->lane[0].bytes + q->lane[1].bytes;
}

static void note_high_water(scn_outq *q, int *wm)
{
    if (!q->above && scn__outq_bytes(q) >= q->high_water) {
        q->above = true;
        if (wm)
            *wm = SCN_WM_HIGH;
    }
}

int scn__outq_push(scn_outq *q, scn_lane lane, const void *data, size_t len,
                   size_t *dropped, int *wm)
{
    scn_msgq *mq;
    size_t n = 0;
    int rc;

    if (dropped)
        *dropped = 0;
    if (wm)
        *wm = SCN_WM_NONE;
    if (lane != SCN_LANE_CONTROL && lane != SCN_LANE_TELEMETRY)
        return SCN_ERR_INVALID_ARG;
    mq = &q->lane[lane];
    if (len > mq->cap_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    if (lane == SCN_LANE_CONTROL) {
        if (!scn__msgq_fits(mq, len)) {
            q->rejected_control++;
            return SCN_ERR_QUEUE_FULL;
        }
    } else {
        while (!scn__msgq_fits(mq, len) && mq->count) {
            scn__msgq_pop(mq);
            n++;
        }
        q->dropped_telemetry += n;
        if (dropped)
            *dropped = n;
    }
    rc = scn__msgq_push(mq, data, len);
    if (rc)
        return rc;
    note_high_water(q, wm);
    return 0;
}

int scn__outq_push_urgent(scn_outq *q, const void *data, size_t len, int *wm)
{
    return scn__outq_push_tagged(q, true, data, len, 0, wm);
}

int scn__outq_push_tagged(scn_outq *q, bool urgent, const void *data,
                          size_t len, uint64_t tag, int *wm)
{
    scn_msgq *mq = &q->lane[SCN_LANE_CONTROL];
    int rc;

    if (wm)
        *wm = SCN_WM_NONE;
    if (len > mq->cap_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    if (!scn__msgq_fits(mq, len)) {
        q->rejected_control++;
        return SCN_ERR_QUEUE_FULL;
    }
    rc = scn__msgq_push_tagged(mq, data, len, urgent, tag);
    if (rc)
        return rc;
    note_high_water(q, wm);
    return 0;
}

scn_msg *scn__outq_peek(scn_outq *q, scn_lane *lane)
{
    scn_msg *m = scn__msgq_peek(&q->lane[SCN_LANE_CONTROL]);
    scn_lane l = SCN_LANE_CONTROL;

    if (!m) {
        m = scn__msgq_peek(&q->lane[SCN_LANE_TELEMETRY]);
        l = SCN_LANE_TELEMETRY;
    }
    if (m && lane)
        *lane = l;
    return m;
}

void scn__outq_pop(scn_outq *q, scn_lane lane, int *wm)
{
    if (wm)
        *wm = SCN_WM_NONE;
    if (lane != SCN_LANE_CONTROL && lane != SCN_LANE_TELEMETRY)
        return;
    scn__msgq_pop(&q->lane[lane]);
    if (q->above && scn__outq_bytes(q) <= q->low_water) {
        q->above = false;
        if (wm)
            *wm = SCN_WM_LOW;
    }
}

size_t scn__outq_clear(scn_outq *q)
{
    size_t n = scn__msgq_clear(&q->lane[0]) + scn__msgq_clear(&q->lane[1]);

    q->above = false;
    return n;
}
