/* The connection state machine: transitions, keepalive at exact edges,
 * reconnect schedule, healthy reset and attempt limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include "fsm.h"

#define SEED 0x5EED5EEDull

static const scn_failure lost = {SCN_FAIL_LOST, 0, 0, NULL, 0};

static void make(scn_fsm *f, uint32_t max_attempts)
{
    scn_fsm_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.seed = SEED;
    cfg.backoff.max_attempts = max_attempts;
    scn__fsm_init(f, &cfg);
}

/* Brings f to OPEN at time t. */
static void open_at(scn_fsm *f, uint64_t t)
{
    scn_transition tr;

    if (f->state == SCN_STATE_IDLE)
        scn__fsm_start(f, t);
    tr = scn__fsm_opened(f, t);
    assert_true(tr.changed);
    assert_int_equal(f->state, SCN_STATE_OPEN);
}

/* An independent model of the jitter: the same stream, ceilings by hand. */
static uint32_t ceiling_for(uint32_t attempt)
{
    uint64_t c = 500;

    while (attempt-- && c < 30000)
        c *= 2;
    return c > 30000 ? 30000 : (uint32_t)c;
}

static void test_init_defaults(void **state)
{
    scn_fsm f;

    (void)state;
    make(&f, 0);
    assert_int_equal(f.state, SCN_STATE_IDLE);
    assert_int_equal(f.ping_interval_ms, 5000);
    assert_int_equal(f.idle_timeout_ms, 15000);
    assert_int_equal(f.connect_timeout_ms, 10000);
    assert_int_equal(f.backoff.policy.initial_ms, 500);
    assert_int_equal(f.failures, 0);
    assert_int_equal(f.opens, 0);
}

static void test_start_and_open(void **state)
{
    scn_transition tr;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    tr = scn__fsm_opened(&f, 5); /* not connecting yet */
    assert_false(tr.changed);
    tr = scn__fsm_start(&f, 100);
    assert_true(tr.changed);
    assert_int_equal(tr.previous, SCN_STATE_IDLE);
    assert_int_equal(tr.state, SCN_STATE_CONNECTING);
    assert_int_equal(tr.reason, 0);
    assert_int_equal(f.state_since, 100);
    tr = scn__fsm_start(&f, 101);
    assert_false(tr.changed);
    tr = scn__fsm_opened(&f, 200);
    assert_true(tr.changed);
    assert_int_equal(tr.previous, SCN_STATE_CONNECTING);
    assert_int_equal(tr.state, SCN_STATE_OPEN);
    assert_int_equal(f.opens, 1);
    assert_int_equal(f.last_rx, 200);
}

static void test_connect_timeout_edge(void **state)
{
    scn_transition tr;
    scn_tick t;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    scn__fsm_start(&f, 1000);
    t = scn__fsm_tick(&f, 10999, &tr);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, 11000);
    assert_false(tr.changed);
    t = scn__fsm_tick(&f, 11000, &tr);
    assert_int_equal(t.action, SCN_ACT_DROP);
    assert_int_equal(t.drop_kind, SCN_FAIL_CONNECT_TIMEOUT);
    assert_int_equal(f.state, SCN_STATE_CONNECTING); /* caller reports */
}

static void test_keepalive_edges(void **state)
{
    scn_tick t;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    open_at(&f, 1000);
    t = scn__fsm_tick(&f, 5999, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, 6000);
    t = scn__fsm_tick(&f, 6000, NULL); /* idle exactly ping_interval */
    assert_int_equal(t.action, SCN_ACT_PING);
    assert_int_equal(t.next_deadline, 11000);
    scn__fsm_ping_sent(&f, 6000);
    /* Outstanding ping: no second one before an interval has passed. */
    t = scn__fsm_tick(&f, 6001, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, 11000);
    t = scn__fsm_tick(&f, 10999, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    t = scn__fsm_tick(&f, 11000, NULL);
    assert_int_equal(t.action, SCN_ACT_PING);
    scn__fsm_ping_sent(&f, 11000);
    t = scn__fsm_tick(&f, 15999, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, 16000); /* idle wins over ping 16000 */
    t = scn__fsm_tick(&f, 16000, NULL);       /* idle exactly idle_timeout */
    assert_int_equal(t.action, SCN_ACT_DROP);
    assert_int_equal(t.drop_kind, SCN_FAIL_DEAD_PEER);
}

static void test_traffic_defers_keepalive(void **state)
{
    scn_tick t;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    open_at(&f, 1000);
    scn__fsm_rx(&f, 4000);
    t = scn__fsm_tick(&f, 8999, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, 9000);
    t = scn__fsm_tick(&f, 9000, NULL);
    assert_int_equal(t.action, SCN_ACT_PING);
    scn__fsm_ping_sent(&f, 9000);
    assert_int_equal(scn__fsm_pong(&f, 9040), 40);
    assert_int_equal(f.last_ping, 0);
    assert_int_equal(f.last_rx, 9040);
    /* A stray pong: no round trip, but it is traffic all the same. */
    assert_int_equal(scn__fsm_pong(&f, 9050), 0);
    assert_int_equal(f.last_rx, 9050);
    t = scn__fsm_tick(&f, 14049, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, 14050);
    t = scn__fsm_tick(&f, 14050, NULL);
    assert_int_equal(t.action, SCN_ACT_PING);
    t = scn__fsm_tick(&f, 24049, NULL);
    assert_int_equal(t.action, SCN_ACT_PING); /* still not sent */
    assert_int_equal(t.next_deadline, 24050);
    t = scn__fsm_tick(&f, 24050, NULL);
    assert_int_equal(t.action, SCN_ACT_DROP);
    /* An older timestamp never moves last_rx back. */
    scn__fsm_rx(&f, 5);
    assert_int_equal(f.last_rx, 9050);
}

static void test_reconnect_schedule_exact(void **state)
{
    scn_transition tr;
    scn_tick t;
    scn_fsm f;
    scn_rng ref;
    uint64_t now = 1000;
    uint32_t i;

    (void)state;
    make(&f, 0);
    scn__rng_seed(&ref, SEED);
    scn__fsm_start(&f, now);
    for (i = 0; i < 10; i++) {
        uint32_t expect = scn__rng_upto(&ref, ceiling_for(i));

        tr = scn__fsm_failed(&f, now, &lost);
        assert_true(tr.changed);
        assert_int_equal(tr.previous, SCN_STATE_CONNECTING);
        assert_int_equal(tr.state, SCN_STATE_RECONNECTING);
        assert_int_equal(tr.reason, SCN_ERR_NETWORK);
        assert_int_equal(tr.last_error, 0);
        assert_int_equal(tr.attempt, i + 1);
        assert_int_equal(tr.delay_ms, expect);
        assert_true(tr.delay_ms <= 30000);
        assert_int_equal(f.reconnect_at, now + expect);
        if (expect > 0) {
            t = scn__fsm_tick(&f, now + expect - 1, &tr);
            assert_int_equal(t.action, SCN_ACT_NONE);
            assert_int_equal(t.next_deadline, now + expect);
            assert_false(tr.changed);
        }
        now += expect;
        t = scn__fsm_tick(&f, now, &tr);
        assert_int_equal(t.action, SCN_ACT_CONNECT);
        assert_int_equal(t.next_deadline, now + 10000);
        assert_true(tr.changed);
        assert_int_equal(tr.previous, SCN_STATE_RECONNECTING);
        assert_int_equal(tr.state, SCN_STATE_CONNECTING);
        now += 10;
    }
}

/* Opening does not reset the schedule: a server that accepts and drops at
 * once keeps backing off. A healthy period does reset it. */
static void test_healthy_reset(void **state)
{
    scn_transition tr;
    scn_fsm f;
    scn_rng ref;
    uint64_t now = 1000;

    (void)state;
    make(&f, 0);
    scn__rng_seed(&ref, SEED);
    scn__fsm_start(&f, now);
    tr = scn__fsm_failed(&f, now, &lost);
    assert_int_equal(tr.delay_ms, scn__rng_upto(&ref, 500));
    now = f.reconnect_at;
    scn__fsm_tick(&f, now, NULL);
    tr = scn__fsm_failed(&f, now, &lost);
    assert_int_equal(tr.delay_ms, scn__rng_upto(&ref, 1000));
    now = f.reconnect_at;
    scn__fsm_tick(&f, now, NULL);

    /* Open for 9999 ms: not healthy, the ceiling keeps growing. */
    open_at(&f, now);
    assert_int_equal(f.failures, 2);
    tr = scn__fsm_failed(&f, now + 9999, &lost);
    assert_int_equal(tr.previous, SCN_STATE_OPEN);
    assert_int_equal(tr.attempt, 3);
    assert_int_equal(tr.delay_ms, scn__rng_upto(&ref, 2000));
    now = f.reconnect_at;
    scn__fsm_tick(&f, now, NULL);

    /* Open for exactly healthy_ms: the schedule starts over. */
    open_at(&f, now);
    tr = scn__fsm_failed(&f, now + 10000, &lost);
    assert_int_equal(tr.attempt, 1);
    assert_int_equal(f.failures, 1);
    assert_int_equal(tr.delay_ms, scn__rng_upto(&ref, 500));
    assert_int_equal(f.backoff.attempt, 1);
    assert_int_equal(f.opens, 2);
}

static void test_min_delay_from_verdict(void **state)
{
    scn_failure quota = {SCN_FAIL_HTTP_STATUS, 429, 0, NULL, 0};
    scn_failure busy = {SCN_FAIL_CLOSE, 0, 1013, "retry_after=7", 0};
    scn_transition tr;
    scn_fsm f;
    scn_rng ref;

    (void)state;
    make(&f, 0);
    scn__rng_seed(&ref, SEED);
    scn__fsm_start(&f, 0);
    tr = scn__fsm_failed(&f, 0, &quota);
    assert_int_equal(tr.state, SCN_STATE_RECONNECTING);
    assert_int_equal(tr.reason, SCN_ERR_QUOTA);
    assert_int_equal(tr.delay_ms, SCN_QUOTA_DEFAULT_RETRY_MS);
    assert_int_equal(f.reconnect_at, SCN_QUOTA_DEFAULT_RETRY_MS);
    /* The jitter draw still happened: the schedule advanced. */
    scn__rng_upto(&ref, 500);
    assert_int_equal(f.backoff.attempt, 1);
    scn__fsm_tick(&f, f.reconnect_at, NULL);
    open_at(&f, 60000);
    tr = scn__fsm_failed(&f, 60001, &busy);
    assert_int_equal(tr.reason, SCN_ERR_TRY_AGAIN);
    assert_int_equal(tr.delay_ms, 7000); /* ceiling 1000 < 7000 */
    scn__rng_upto(&ref, 1000);
    /* A min_delay below the draw leaves the draw. */
    busy.detail = "retry_after=0";
    scn__fsm_tick(&f, f.reconnect_at, NULL);
    tr = scn__fsm_failed(&f, 70000, &busy);
    assert_int_equal(tr.delay_ms, scn__rng_upto(&ref, 2000));
}

static void test_fatal(void **state)
{
    scn_failure bad = {SCN_FAIL_HTTP_STATUS, 401, 0,
                       "Bearer error_description=\"revoked\"", 0};
    scn_transition tr;
    scn_tick t;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    scn__fsm_start(&f, 10);
    tr = scn__fsm_failed(&f, 20, &bad);
    assert_true(tr.changed);
    assert_int_equal(tr.previous, SCN_STATE_CONNECTING);
    assert_int_equal(tr.state, SCN_STATE_FAILED);
    assert_int_equal(tr.reason, SCN_ERR_KEY_REVOKED);
    assert_int_equal(tr.attempt, 1);
    assert_int_equal(tr.delay_ms, 0);
    assert_int_equal(f.reason, SCN_ERR_KEY_REVOKED);
    /* Terminal: everything else is ignored. */
    tr = scn__fsm_failed(&f, 30, &lost);
    assert_false(tr.changed);
    assert_int_equal(tr.state, SCN_STATE_FAILED);
    assert_false(scn__fsm_start(&f, 30).changed);
    assert_false(scn__fsm_close(&f, 30).changed);
    t = scn__fsm_tick(&f, 40, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, UINT64_MAX);

    /* Revoked while open: close code 4001 ends it too. */
    {
        scn_failure close4001 = {SCN_FAIL_CLOSE, 0, 4001, NULL, 0};

        make(&f, 0);
        open_at(&f, 100);
        tr = scn__fsm_failed(&f, 200, &close4001);
        assert_int_equal(tr.state, SCN_STATE_FAILED);
        assert_int_equal(tr.reason, SCN_ERR_KEY_REVOKED);
    }
}

/* Close 4010: the server has no more data. The session ends CLOSED, not
 * FAILED, and never reconnects. */
static void test_end_of_stream(void **state)
{
    scn_failure end = {SCN_FAIL_CLOSE, 0, 4010, "end of recording", 0};
    scn_transition tr;
    scn_tick t;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    open_at(&f, 100);
    tr = scn__fsm_failed(&f, 200, &end);
    assert_true(tr.changed);
    assert_int_equal(tr.previous, SCN_STATE_OPEN);
    assert_int_equal(tr.state, SCN_STATE_CLOSED);
    assert_int_equal(tr.reason, SCN_ERR_END_OF_STREAM);
    assert_int_equal(tr.delay_ms, 0);
    t = scn__fsm_tick(&f, 100000, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_false(scn__fsm_failed(&f, 300, &lost).changed);
}

static void test_attempt_limit(void **state)
{
    scn_transition tr;
    scn_fsm f;
    uint64_t now = 0;

    (void)state;
    make(&f, 3);
    scn__fsm_start(&f, now);
    tr = scn__fsm_failed(&f, now, &lost);
    assert_int_equal(tr.state, SCN_STATE_RECONNECTING);
    assert_int_equal(tr.attempt, 1);
    now = f.reconnect_at;
    scn__fsm_tick(&f, now, NULL);
    tr = scn__fsm_failed(&f, now, &lost);
    assert_int_equal(tr.state, SCN_STATE_RECONNECTING);
    assert_int_equal(tr.attempt, 2);
    now = f.reconnect_at;
    scn__fsm_tick(&f, now, NULL);
    /* An open that drops at once still counts. */
    open_at(&f, now);
    tr = scn__fsm_failed(&f, now + 1, &lost);
    assert_int_equal(tr.previous, SCN_STATE_OPEN);
    assert_int_equal(tr.state, SCN_STATE_FAILED);
    assert_int_equal(tr.reason, SCN_ERR_ATTEMPTS_EXHAUSTED);
    /* Why the last attempt failed stays told. */
    assert_int_equal(tr.last_error, SCN_ERR_NETWORK);
    assert_int_equal(tr.attempt, 3);

    /* A healthy session before the third failure starts the count over. */
    make(&f, 3);
    now = 0;
    scn__fsm_start(&f, now);
    scn__fsm_failed(&f, now, &lost);
    now = f.reconnect_at;
    scn__fsm_tick(&f, now, NULL);
    scn__fsm_failed(&f, now, &lost);
    now = f.reconnect_at;
    scn__fsm_tick(&f, now, NULL);
    open_at(&f, now);
    tr = scn__fsm_failed(&f, now + 10000, &lost);
    assert_int_equal(tr.state, SCN_STATE_RECONNECTING);
    assert_int_equal(tr.attempt, 1);
}

static void test_close_paths(void **state)
{
    scn_transition tr;
    scn_tick t;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    tr = scn__fsm_close(&f, 1); /* IDLE: straight to CLOSED */
    assert_true(tr.changed);
    assert_int_equal(tr.previous, SCN_STATE_IDLE);
    assert_int_equal(tr.state, SCN_STATE_CLOSED);
    assert_false(scn__fsm_closed(&f, 2).changed);

    make(&f, 0);
    open_at(&f, 10);
    tr = scn__fsm_close(&f, 20);
    assert_int_equal(tr.state, SCN_STATE_CLOSING);
    assert_false(scn__fsm_close(&f, 21).changed);
    /* Failures while closing are ignored; no keepalive either. */
    assert_false(scn__fsm_failed(&f, 22, &lost).changed);
    t = scn__fsm_tick(&f, 1000000, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
    tr = scn__fsm_closed(&f, 30);
    assert_true(tr.changed);
    assert_int_equal(tr.previous, SCN_STATE_CLOSING);
    assert_int_equal(tr.state, SCN_STATE_CLOSED);

    make(&f, 0);
    scn__fsm_start(&f, 10);
    assert_int_equal(scn__fsm_close(&f, 11).state, SCN_STATE_CLOSING);

    make(&f, 0);
    scn__fsm_start(&f, 10);
    scn__fsm_failed(&f, 11, &lost);
    tr = scn__fsm_close(&f, 12); /* RECONNECTING: nothing to close */
    assert_int_equal(tr.previous, SCN_STATE_RECONNECTING);
    assert_int_equal(tr.state, SCN_STATE_CLOSED);
    t = scn__fsm_tick(&f, 100000, NULL);
    assert_int_equal(t.action, SCN_ACT_NONE);
}

static void test_local_fatal(void **state)
{
    scn_transition tr;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    scn__fsm_start(&f, 10);
    scn__fsm_failed(&f, 20, &lost);
    tr = scn__fsm_fatal(&f, 30, SCN_ERR_KEY_FILE_PERMS);
    assert_true(tr.changed);
    assert_int_equal(tr.previous, SCN_STATE_RECONNECTING);
    assert_int_equal(tr.state, SCN_STATE_FAILED);
    assert_int_equal(tr.reason, SCN_ERR_KEY_FILE_PERMS);
    assert_int_equal(tr.attempt, 1); /* not counted as an attempt */
    assert_false(scn__fsm_fatal(&f, 40, SCN_ERR_KEY_FILE).changed);
    assert_int_equal(f.reason, SCN_ERR_KEY_FILE_PERMS);

    make(&f, 0);
    open_at(&f, 10);
    tr = scn__fsm_fatal(&f, 30, SCN_ERR_NOMEM);
    assert_int_equal(tr.previous, SCN_STATE_OPEN);
    assert_int_equal(tr.state, SCN_STATE_FAILED);

    make(&f, 0);
    scn__fsm_close(&f, 1);
    assert_false(scn__fsm_fatal(&f, 2, SCN_ERR_NOMEM).changed);
    assert_int_equal(f.state, SCN_STATE_CLOSED);
}

static void test_idle_states_tick(void **state)
{
    scn_transition tr;
    scn_tick t;
    scn_fsm f;

    (void)state;
    make(&f, 0);
    t = scn__fsm_tick(&f, 123, &tr);
    assert_int_equal(t.action, SCN_ACT_NONE);
    assert_int_equal(t.next_deadline, UINT64_MAX);
    assert_false(tr.changed);
    assert_false(scn__fsm_failed(&f, 5, &lost).changed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_defaults),
        cmocka_unit_test(test_start_and_open),
        cmocka_unit_test(test_connect_timeout_edge),
        cmocka_unit_test(test_keepalive_edges),
        cmocka_unit_test(test_traffic_defers_keepalive),
        cmocka_unit_test(test_reconnect_schedule_exact),
        cmocka_unit_test(test_healthy_reset),
        cmocka_unit_test(test_min_delay_from_verdict),
        cmocka_unit_test(test_fatal),
        cmocka_unit_test(test_end_of_stream),
        cmocka_unit_test(test_attempt_limit),
        cmocka_unit_test(test_close_paths),
        cmocka_unit_test(test_local_fatal),
        cmocka_unit_test(test_idle_states_tick),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
