/* One server connection's deadlines. */
#include "conn_timers.h"

static void earliest(uint64_t *next, uint64_t due)
{
    if (due < *next)
        *next = due;
}

scn_conn_due scn__conn_timers_check(const scn_conn_clock *c,
                                    const scn_conn_limits *l, uint64_t now,
                                    uint64_t *next)
{
    uint64_t n = UINT64_MAX, due;
    scn_conn_due what = SCN_DUE_NONE;

    switch (c->phase) {
    case SCN_PHASE_HTTP:
        if (l->request_ms) {
            due = c->phase_ms + l->request_ms;
            if (now >= due)
                what = SCN_DUE_REQUEST_TIME;
            earliest(&n, due);
        }
        break;
    case SCN_PHASE_CLOSING:
        if (l->close_ms) {
            due = c->phase_ms + l->close_ms;
            if (now >= due)
                what = SCN_DUE_CLOSE_TIME;
            earliest(&n, due);
        }
        break;
    case SCN_PHASE_WS:
        if (l->ping_ms && c->ping_ms) {
            due = c->ping_ms + l->pong_ms;
            if (now >= due)
                what = SCN_DUE_DEAD;
            earliest(&n, due);
        } else if (l->ping_ms) {
            due = c->rx_ms + l->ping_ms;
            if (now >= due)
                what = SCN_DUE_PING;
            earliest(&n, due);
        }
        if (c->idle_ms && what != SCN_DUE_DEAD) {
            due = c->msg_ms + c->idle_ms;
            if (now >= due)
                what = SCN_DUE_IDLE;
            earliest(&n, due);
        }
        break;
    }
    if (next)
        *next = n;
    return what;
}

void scn__conn_clock_phase(scn_conn_clock *c, scn_conn_phase phase,
                           uint64_t now)
{
    c->phase = phase;
    c->phase_ms = now;
    c->rx_ms = now;
    c->msg_ms = now;
    c->ping_ms = 0;
}

void scn__conn_clock_rx(scn_conn_clock *c, uint64_t now)
{
    c->rx_ms = now;
    c->ping_ms = 0;
}

void scn__conn_clock_message(scn_conn_clock *c, uint64_t now)
{
    c->msg_ms = now;
}
