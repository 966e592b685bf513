/* Connection state machine. Time comes in as an argument so that tests can
 * step through reconnect schedules and keepalive edges exactly. */
#include "fsm.h"

#include <scentience/error.h>

#include <string.h>

#define DEFAULT_PING_MS    5000u
#define DEFAULT_IDLE_MS    15000u
#define DEFAULT_CONNECT_MS 10000u

/* Clock values that go backwards count as no time elapsed. */
static uint64_t since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

static uint64_t add_sat(uint64_t t, uint64_t d)
{
    return t > UINT64_MAX - d ? UINT64_MAX : t + d;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static scn_transition no_change(const scn_fsm *f)
{
    scn_transition tr;

    memset(&tr, 0, sizeof(tr));
    tr.state = tr.previous = f->state;
    return tr;
}

static scn_transition enter(scn_fsm *f, scn_state to, uint64_t now, int reason,
                            uint32_t delay_ms)
{
    scn_transition tr;

    tr.changed = true;
    tr.previous = f->state;
    tr.state = to;
    tr.reason = reason;
    tr.last_error = 0;
    tr.delay_ms = delay_ms;
    tr.attempt = f->failures;
    f->state = to;
    f->state_since = now;
    f->reason = reason;
    return tr;
}

void scn__fsm_init(scn_fsm *f, const scn_fsm_config *cfg)
{
    uint64_t seed = cfg ? cfg->seed : 0;

    memset(f, 0, sizeof(*f));
    f->state = SCN_STATE_IDLE;
    scn__backoff_init(&f->backoff, cfg ? &cfg->backoff : NULL);
    scn__rng_seed(&f->rng, seed ? seed : scn__rng_os_seed());
    f->ping_interval_ms =
        cfg && cfg->ping_interval_ms ? cfg->ping_interval_ms : DEFAULT_PING_MS;
    f->idle_timeout_ms =
        cfg && cfg->idle_timeout_ms ? cfg->idle_timeout_ms : DEFAULT_IDLE_MS;
    f->connect_timeout_ms = cfg && cfg->connect_timeout_ms
                                ? cfg->connect_timeout_ms
                                : DEFAULT_CONNECT_MS;
}

scn_transition scn__fsm_start(scn_fsm *f, uint64_t now)
{
    if (f->state != SCN_STATE_IDLE)
        return no_change(f);
    return enter(f, SCN_STATE_CONNECTING, now, 0, 0);
}

scn_transition scn__fsm_opened(scn_fsm *f, uint64_t now)
{
    if (f->state != SCN_STATE_CONNECTING)
        return no_change(f);
    /* failures stay: a server that accepts and drops at once must still
     * back off. Only a healthy period (see scn__fsm_failed) resets them. */
    f->opens++;
    f->last_rx = now;
    f->last_ping = 0;
    return enter(f, SCN_STATE_OPEN, now, 0, 0);
}

scn_transition scn__fsm_failed(scn_fsm *f, uint64_t now,
                               const scn_failure *failure)
{
    scn_verdict v;
    uint32_t delay, max_attempts = f->backoff.policy.max_attempts;

    if (f->state != SCN_STATE_CONNECTING && f->state != SCN_STATE_OPEN &&
        f->state != SCN_STATE_RECONNECTING)
        return no_change(f);
    if (f->state == SCN_STATE_OPEN &&
        since(now, f->state_since) >= f->backoff.policy.healthy_ms) {
        scn__backoff_reset(&f->backoff);
        f->failures = 0;
    }
    if (f->failures != UINT32_MAX)
        f->failures++;
    f->last_ping = 0;
    v = scn__classify(failure);
    /* The server's end of stream is an end, not a failure. */
    if (v.err == SCN_ERR_END_OF_STREAM)
        return enter(f, SCN_STATE_CLOSED, now, v.err, 0);
    if (!v.retry)
        return enter(f, SCN_STATE_FAILED, now, v.err, 0);
    /* max_attempts counts connection attempts: with 3, the third
     * consecutive failure is final. */
    if (max_attempts && f->failures >= max_attempts) {
        scn_transition tr =
            enter(f, SCN_STATE_FAILED, now, SCN_ERR_ATTEMPTS_EXHAUSTED, 0);

        tr.last_error = v.err; /* the user's "why", which the limit hides */
        return tr;
    }
    delay = scn__backoff_next(&f->backoff, &f->rng);
    if (delay < v.min_delay_ms)
        delay = v.min_delay_ms;
    f->last_delay_ms = delay;
    f->reconnect_at = add_sat(now, delay);
    return enter(f, SCN_STATE_RECONNECTING, now, v.err, delay);
}

scn_transition scn__fsm_fatal(scn_fsm *f, uint64_t now, int err)
{
    if (f->state == SCN_STATE_CLOSED || f->state == SCN_STATE_FAILED)
        return no_change(f);
    /* Not a connection failure: the attempt count stays as it was. */
    f->last_ping = 0;
    return enter(f, SCN_STATE_FAILED, now, err, 0);
}

void scn__fsm_rx(scn_fsm *f, uint64_t now)
{
    if (now > f->last_rx)
        f->last_rx = now;
}

void scn__fsm_ping_sent(scn_fsm *f, uint64_t now)
{
    f->last_ping = now;
}

uint32_t scn__fsm_pong(scn_fsm *f, uint64_t now)
{
    uint64_t rtt;

    scn__fsm_rx(f, now);
    if (f->last_ping == 0)
        return 0;
    rtt = since(now, f->last_ping);
    f->last_ping = 0;
    return rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
}

/* OPEN: dead peer first (it makes a ping pointless), then ping. */
static scn_tick tick_open(scn_fsm *f, uint64_t now)
{
    scn_tick t = {SCN_ACT_NONE, SCN_FAIL_DEAD_PEER, UINT64_MAX};
    uint64_t idle_at = add_sat(f->last_rx, f->idle_timeout_ms);
    uint64_t ping_at = add_sat(f->last_rx, f->ping_interval_ms);

    if (now >= idle_at) {
        t.action = SCN_ACT_DROP;
        t.drop_kind = SCN_FAIL_DEAD_PEER;
        t.next_deadline = now; /* report the failure, then ask again */
        return t;
    }
    /* An outstanding ping is repeated once per interval, not sooner. */
    if (f->last_ping)
        ping_at = ping_at > add_sat(f->last_ping, f->ping_interval_ms)
                      ? ping_at
                      : add_sat(f->last_ping, f->ping_interval_ms);
    if (now >= ping_at) {
        t.action = SCN_ACT_PING;
        /* The caller sends it now, so the next one is an interval away. */
        ping_at = add_sat(now, f->ping_interval_ms);
    }
    t.next_deadline = min_u64(idle_at, ping_at);
    return t;
}

scn_tick scn__fsm_tick(scn_fsm *f, uint64_t now, scn_transition *tr)
{
    scn_tick t = {SCN_ACT_NONE, SCN_FAIL_CONNECT, UINT64_MAX};
    uint64_t at;

    if (tr)
        *tr = no_change(f);
    switch (f->state) {
    case SCN_STATE_OPEN:
        return tick_open(f, now);
    case SCN_STATE_CONNECTING:
        at = add_sat(f->state_since, f->connect_timeout_ms);
        if (now >= at) {
            t.action = SCN_ACT_DROP;
            t.drop_kind = SCN_FAIL_CONNECT_TIMEOUT;
            t.next_deadline = now;
        } else {
            t.next_deadline = at;
        }
        return t;
    case SCN_STATE_RECONNECTING:
        if (now < f->reconnect_at) {
            t.next_deadline = f->reconnect_at;
            return t;
        }
        if (tr)
            *tr = enter(f, SCN_STATE_CONNECTING, now, 0, 0);
        else
            enter(f, SCN_STATE_CONNECTING, now, 0, 0);
        t.action = SCN_ACT_CONNECT;
        t.next_deadline = add_sat(now, f->connect_timeout_ms);
        return t;
    default:
        return t;
    }
}

scn_transition scn__fsm_close(scn_fsm *f, uint64_t now)
{
    switch (f->state) {
    case SCN_STATE_CONNECTING:
    case SCN_STATE_OPEN:
        return enter(f, SCN_STATE_CLOSING, now, 0, 0);
    case SCN_STATE_IDLE:
    case SCN_STATE_RECONNECTING:
        return enter(f, SCN_STATE_CLOSED, now, 0, 0);
    default:
        return no_change(f);
    }
}

scn_transition scn__fsm_closed(scn_fsm *f, uint64_t now)
{
    if (f->state != SCN_STATE_CLOSING)
        return no_change(f);
    return enter(f, SCN_STATE_CLOSED, now, 0, 0);
}
