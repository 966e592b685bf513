/*
 * Keys against a real scn-sim with a key store: each kind of rejected key
 * has its own outcome, a revoked key ends an open session, a rotated key
 * file is picked up at the next connection, a missing key fails before any
 * connection.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"

#define KEY_GOOD      "SCN_TEST_good000000000000001"
#define KEY_SECOND    "SCN_TEST_second00000000000002"
#define KEY_EXPIRED   "SCN_TEST_expired0000000000003"
#define KEY_ELSEWHERE "SCN_TEST_elsewhere000000004"
#define KEY_QUOTA     "SCN_TEST_quota00000000000005"
#define KEY_REVOKE    "SCN_TEST_revokeme0000000006"
#define KEY_UNKNOWN   "SCN_TEST_unknown00000000007"

typedef struct fixture {
    sim_proc sim;
    client c;
    scn_session_options o;
    char keystore[512];
    char keyfile[512]; /* a test's key file, removed by the teardown */
} fixture;

static const char *keystore_json(bool revoke)
{
    static char buf[2048];

    snprintf(buf, sizeof(buf),
             "{\"keys\":["
             "{\"name\":\"good\",\"key\":\"" KEY_GOOD "\"},"
             "{\"name\":\"second\",\"key\":\"" KEY_SECOND "\"},"
             "{\"name\":\"expired\",\"key\":\"" KEY_EXPIRED
             "\",\"expires\":\"2020-01-01T00:00:00Z\"},"
             "{\"name\":\"elsewhere\",\"key\":\"" KEY_ELSEWHERE
             "\",\"allow\":[\"192.0.2.1\"]},"
             "{\"name\":\"quota\",\"key\":\"" KEY_QUOTA
             "\",\"quota\":0,\"quota_window_s\":3600},"
             "{\"name\":\"revokeme\",\"key\":\"" KEY_REVOKE
             "\",\"revoked\":%s}]}",
             revoke ? "true" : "false");
    return buf;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char name[64];
    const char *args[] = {"--keys", f->keystore, "--rate", "50", NULL};

    snprintf(name, sizeof(name), "auth-%d.keys.json", (int)getpid());
    test_secret_path(name, f->keystore, sizeof(f->keystore));
    if (write_file(f->keystore, keystore_json(false), 0600) != 0)
        return -1;
    if (sim_start(&f->sim, 0, args) != 0)
        return -1;
    if (client_init(&f->c, "auth", &f->o) != 0)
        return -1;
    f->o.url = f->sim.url;
    f->o.backoff.initial_ms = 100;
    f->o.backoff.max_ms = 200;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    client_free(&f->c);
    rc = sim_stop(&f->sim);
    unlink(f->keystore);
    if (f->keyfile[0])
        unlink(f->keyfile);
    free(f);
    return rc;
}

static bool ended_or_retrying(void *arg)
{
    const client *c = arg;

    for (int i = 0; i < c->nevents; i++)
        if (c->events[i].state == SCN_STATE_FAILED ||
            c->events[i].state == SCN_STATE_RECONNECTING)
            return true;
    return false;
}

/* Connects with key and waits for a terminal or reconnect outcome: the
 * first FAILED or RECONNECTING event. */
static const scn_state_event *outcome(fixture *f, const char *key)
{
    f->o.api_key = key;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    if (!run_until(f->c.loop, ended_or_retrying, &f->c, 10000))
        fail_msg("no outcome");
    for (int i = 0;; i++)
        if (f->c.events[i].state == SCN_STATE_FAILED ||
            f->c.events[i].state == SCN_STATE_RECONNECTING)
            return &f->c.events[i];
}

static void test_good_key_streams(void **state)
{
    fixture *f = *state;

    f->o.api_key = KEY_GOOD;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 10, 5000));
    assert_int_equal(f->c.state, SCN_STATE_OPEN);
    assert_string_equal(scn_session_subprotocol(f->c.s), "scentience.v1");
    assert_string_equal(scn_session_key_redacted(f->c.s), "****0001");
    assert_true(sim_log_count(&f->sim, "\"good\"") >= 1);
}

static void test_unknown_key_is_invalid(void **state)
{
    const scn_state_event *ev = outcome(*state, KEY_UNKNOWN);

    assert_int_equal(ev->state, SCN_STATE_FAILED);
    assert_int_equal(ev->reason, SCN_ERR_KEY_INVALID);
    assert_int_equal(ev->http_status, 401);
}

static void test_expired_key(void **state)
{
    const scn_state_event *ev = outcome(*state, KEY_EXPIRED);

    assert_int_equal(ev->state, SCN_STATE_FAILED);
    assert_int_equal(ev->reason, SCN_ERR_KEY_EXPIRED);
    assert_int_equal(ev->http_status, 401);
}

static void test_address_not_allowed(void **state)
{
    const scn_state_event *ev = outcome(*state, KEY_ELSEWHERE);

    assert_int_equal(ev->state, SCN_STATE_FAILED);
    assert_int_equal(ev->reason, SCN_ERR_ADDRESS_NOT_ALLOWED);
    assert_int_equal(ev->http_status, 403);
}

static void test_over_quota_retries_after(void **state)
{
    fixture *f = *state;
    const scn_state_event *ev = outcome(f, KEY_QUOTA);

    /* Only over-quota is retried, and not before Retry-After (the window
     * has an hour left, so far beyond the 200 ms backoff cap). */
    assert_int_equal(ev->state, SCN_STATE_RECONNECTING);
    assert_int_equal(ev->reason, SCN_ERR_QUOTA);
    assert_int_equal(ev->http_status, 429);
    assert_true(ev->delay_ms >= 3000 * 1000u);
}

static void test_revoked_mid_stream(void **state)
{
    fixture *f = *state;
    int i;

    f->o.api_key = KEY_REVOKE;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 5, 5000));
    assert_int_equal(write_file(f->keystore, keystore_json(true), 0600), 0);
    assert_int_equal(sim_signal(&f->sim, SIGHUP), 0);
    i = client_wait_state(&f->c, SCN_STATE_FAILED, 0, 5000);
    assert_true(i >= 0);
    assert_int_equal(f->c.events[i].reason, SCN_ERR_KEY_REVOKED);
    assert_int_equal(f->c.events[i].close_code, 4001);
    /* It ended for good: no reconnect was attempted (backoff is 100 ms). */
    run_for(f->c.loop, 500);
    for (int k = i; k < f->c.nevents; k++)
        assert_int_not_equal(f->c.events[k].state, SCN_STATE_CONNECTING);
}

static void test_rotated_key_file_is_reread(void **state)
{
    fixture *f = *state;
    char *path = f->keyfile, name[64];
    int i;

    snprintf(name, sizeof(name), "auth-%d.key", (int)getpid());
    test_secret_path(name, path, sizeof(f->keyfile));
    assert_int_equal(write_file(path, KEY_GOOD "\n", 0600), 0);
    unsetenv("SCENTIENCE_API_KEY");
    f->o.key_file = path;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_frames(&f->c, 3, 5000));
    assert_int_equal(sim_log_count(&f->sim, "\"second\""), 0);

    /* Rotate, then make the device drop every connection. */
    assert_int_equal(write_file(path, KEY_SECOND "\n", 0600), 0);
    assert_int_equal(sim_signal(&f->sim, SIGUSR2), 0);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 5000);
    assert_true(i >= 0);
    assert_true(client_wait_state(&f->c, SCN_STATE_OPEN, i, 5000) >= 0);
    assert_true(sim_wait_log(&f->sim, "\"second\"", 1, 2000) >= 1);
    assert_string_equal(scn_session_key_redacted(f->c.s), "****0002");
}

static void test_key_file_readable_by_others_refused(void **state)
{
    fixture *f = *state;
    char *path = f->keyfile, name[64];
    int connects = sim_log_count(&f->sim, "connect");

    snprintf(name, sizeof(name), "auth-%d-open.key", (int)getpid());
    test_secret_path(name, path, sizeof(f->keyfile));
    assert_int_equal(write_file(path, KEY_GOOD "\n", 0644), 0);
    unsetenv("SCENTIENCE_API_KEY");
    f->o.key_file = path;
    assert_int_equal(client_connect(&f->c, &f->o), SCN_ERR_KEY_FILE_PERMS);
    assert_null(f->c.s);
    run_for(f->c.loop, 200);
    assert_int_equal(sim_log_count(&f->sim, "connect"), connects);
}

static void test_missing_key_fails_before_connecting(void **state)
{
    fixture *f = *state;
    char path[512], name[64];

    snprintf(name, sizeof(name), "auth-%d-none.key", (int)getpid());
    test_secret_path(name, path, sizeof(path));
    unlink(path);
    unsetenv("SCENTIENCE_API_KEY");
    f->o.key_file = path;
    assert_int_equal(client_connect(&f->c, &f->o), SCN_ERR_KEY_FILE);
    f->o.key_file = NULL;
    setenv("XDG_CONFIG_HOME", "/nonexistent-scn-test", 1);
    assert_int_equal(client_connect(&f->c, &f->o), SCN_ERR_NO_KEY);
    assert_int_equal(f->c.nevents, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_key_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_is_invalid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expired_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_not_allowed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_over_quota_retries_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_revoked_mid_stream, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rotated_key_file_is_reread, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_key_file_readable_by_others_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_missing_key_fails_before_connecting, setup, teardown),
    };
    /* A test's own environment: no key leaks in from the caller's. */
    unsetenv("SCENTIENCE_API_KEY");
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
