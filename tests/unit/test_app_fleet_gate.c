/* apps/common/fleet_gate.c: what a fleet command must pass before it can
 * reach a drone (docs/PROTOCOL.md 12.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fleet_gate.h"

static fleet_verdict check(fleet_gate *g, const char *json, int retained,
                           fleet_request *req, char *detail)
{
    return fleet_gate_check(g, json, strlen(json), retained, req, detail, 256);
}

static fleet_verdict cmd(fleet_gate *g, const char *id, const char *command,
                         fleet_request *req, char *detail)
{
    char json[512];

    snprintf(json, sizeof(json), "{\"id\":\"%s\",\"command\":\"%s\"}", id,
             command);
    return check(g, json, 0, req, detail);
}

static void test_refused_without_opt_in(void **state)
{
    fleet_gate g;
    fleet_request r;
    char d[256];

    (void)state;
    fleet_gate_init(&g);
    assert_int_equal(cmd(&g, "1", "land", &r, d), FLEET_NOT_ENABLED);
    assert_non_null(strstr(d, "--mqtt-commands"));
    assert_int_equal(cmd(&g, "2", "emergency", &r, d), FLEET_NOT_ENABLED);
    assert_int_equal(cmd(&g, "3", "follow nh3", &r, d), FLEET_NOT_ENABLED);
    /* Echoed for the reply. */
    assert_string_equal(r.id, "3");
    assert_string_equal(r.command, "follow nh3");
}

static void test_opt_in_list(void **state)
{
    fleet_gate g;
    char why[256], list[128];

    (void)state;
    fleet_gate_init(&g);
    assert_int_equal(
        fleet_gate_allow_list(&g, "land,emergency,follow", why, sizeof(why)),
        0);
    fleet_gate_list(&g, list, sizeof(list));
    assert_string_equal(list, "land,emergency,follow");
    /* Never-list names, unknown names and empty names are usage errors. */
    const char *bad[] = {
        "takeoff", "land,forward",    "cw",         "rc", "oio", "speed",
        "ssid",    "battery?",        "land,,stop", "",   "fly", "LAND",
        "land,",   "hello_scentience"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fleet_gate h;

        fleet_gate_init(&h);
        why[0] = '\0';
        assert_int_equal(fleet_gate_allow_list(&h, bad[i], why, sizeof(why)),
                         -1);
        assert_true(why[0] != '\0');
    }
    fleet_gate_init(&g);
    assert_int_equal(fleet_gate_allow_list(&g, "takeoff", why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "never"));
}

static void test_never_motion_even_listed_everything(void **state)
{
    fleet_gate g;
    fleet_request r;
    char why[256], d[256];
    const char *motion[] = {
        "takeoff",     "up 50",           "down 50",
        "left 50",     "right 50",        "forward 100",
        "back 20",     "cw 90",           "ccw 90",
        "flip l",      "go 50 50 50 20",  "curve 20 20 20 60 40 20 20",
        "rc 0 0 10 0", "oio nh3",         "oioon",
        "speed 50",    "mdirection 1",    "ssid a pass bbbbbbbb",
        "battery?",    "hello_scentience"};

    (void)state;
    fleet_gate_init(&g);
    assert_int_equal(
        fleet_gate_allow_list(&g,
                              "land,emergency,stop,streamon,streamoff,oiooff,"
                              "follow",
                              why, sizeof(why)),
        0);
    for (size_t i = 0; i < sizeof(motion) / sizeof(motion[0]); i++) {
        d[0] = '\0';
        assert_int_equal(cmd(&g, motion[i], motion[i], &r, d), FLEET_NEVER);
        assert_non_null(strstr(d, "never"));
    }
    /* Listed ones pass, once each. */
    assert_int_equal(cmd(&g, "a", "land", &r, d), FLEET_PASS);
    assert_int_equal(r.which, FLEET_CMD_LAND);
    assert_int_equal(r.cmd.id, SCN_UAV_LAND);
    assert_int_equal(cmd(&g, "b", "emergency", &r, d), FLEET_PASS);
    assert_int_equal(r.cmd.id, SCN_UAV_EMERGENCY);
    assert_int_equal(cmd(&g, "c", "stop", &r, d), FLEET_PASS);
    assert_int_equal(cmd(&g, "d", "oiooff", &r, d), FLEET_PASS);
}

static void test_validator_first(void **state)
{
    fleet_gate g;
    fleet_request r;
    char why[256], d[256];

    (void)state;
    fleet_gate_init(&g);
    assert_int_equal(fleet_gate_allow_list(&g, "land,follow", why, sizeof(why)),
                     0);
    /* The validator decides before anything else is said about a line:
     * an out-of-range motion is invalid, not merely never. */
    assert_int_equal(cmd(&g, "1", "forward 9999", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "2", "land now", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "3", "Land", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "4", "land ", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "5", "fly away", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "6", "follow", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "7", "follow unobtainium", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "8", "follow nh3 now", &r, d), FLEET_INVALID);
    assert_int_equal(cmd(&g, "9", "followx", &r, d), FLEET_INVALID);
    /* A refused line never used up its id. */
    assert_int_equal(cmd(&g, "1", "land", &r, d), FLEET_PASS);
    assert_int_equal(cmd(&g, "f1", "follow NH3", &r, d), FLEET_PASS);
    assert_string_equal(r.follow, "NH3");
    assert_int_equal(r.which, FLEET_CMD_FOLLOW);
    assert_int_equal(cmd(&g, "f2", "follow any", &r, d), FLEET_PASS);
    assert_string_equal(r.follow, "any");
    assert_int_equal(cmd(&g, "f3", "follow off", &r, d), FLEET_PASS);
    assert_string_equal(r.follow, "");
}

static void test_malformed_retained_duplicate(void **state)
{
    fleet_gate g;
    fleet_request r;
    char why[256], d[256], big[2048], id[80];

    (void)state;
    fleet_gate_init(&g);
    assert_int_equal(fleet_gate_allow_list(&g, "land", why, sizeof(why)), 0);
    assert_int_equal(check(&g, "land", 0, &r, d), FLEET_MALFORMED);
    assert_int_equal(check(&g, "[]", 0, &r, d), FLEET_MALFORMED);
    assert_int_equal(check(&g, "{\"command\":\"land\"}", 0, &r, d),
                     FLEET_MALFORMED);
    assert_int_equal(check(&g, "{\"id\":7,\"command\":\"land\"}", 0, &r, d),
                     FLEET_MALFORMED);
    assert_int_equal(check(&g, "{\"id\":\"a\"}", 0, &r, d), FLEET_MALFORMED);
    assert_string_equal(r.id, "a");
    assert_int_equal(
        check(&g, "{\"id\":\"a\\n\",\"command\":\"land\"}", 0, &r, d),
        FLEET_MALFORMED);
    memset(id, 'i', sizeof(id));
    id[65] = '\0';
    assert_int_equal(cmd(&g, id, "land", &r, d), FLEET_MALFORMED);
    id[64] = '\0';
    assert_int_equal(cmd(&g, id, "land", &r, d), FLEET_PASS);
    snprintf(big, sizeof(big),
             "{\"id\":\"z\",\"command\":\"land\",\"pad\":"
             "\"%01100d\"}",
             0);
    assert_int_equal(check(&g, big, 0, &r, d), FLEET_MALFORMED);
    /* A NUL inside the payload ends nothing early: not JSON. */
    assert_int_equal(
        fleet_gate_check(&g, "{\"id\":\"q\"}\0{}", 13, 0, &r, d, sizeof(d)),
        FLEET_MALFORMED);
    /* Retained: old news, refused even when enabled and valid. */
    assert_int_equal(check(&g, "{\"id\":\"r\",\"command\":\"land\"}", 1, &r, d),
                     FLEET_RETAINED);
    /* Redelivery of the same id: acted on once. */
    assert_int_equal(cmd(&g, "once", "land", &r, d), FLEET_PASS);
    assert_int_equal(cmd(&g, "once", "land", &r, d), FLEET_DUPLICATE);
    /* The id ring forgets only after FLEET_IDS_KEPT others. */
    for (int i = 0; i < FLEET_IDS_KEPT - 1; i++) {
        char n[16];
        snprintf(n, sizeof(n), "n%d", i);
        assert_int_equal(cmd(&g, n, "land", &r, d), FLEET_PASS);
    }
    assert_int_equal(cmd(&g, "once", "land", &r, d), FLEET_DUPLICATE);
    assert_int_equal(cmd(&g, "n-extra", "land", &r, d), FLEET_PASS);
    assert_int_equal(cmd(&g, "n-extra2", "land", &r, d), FLEET_PASS);
    assert_int_equal(cmd(&g, "once", "land", &r, d), FLEET_PASS);
    assert_string_equal(fleet_verdict_word(FLEET_NOT_ENABLED), "not_enabled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_without_opt_in),
        cmocka_unit_test(test_opt_in_list),
        cmocka_unit_test(test_never_motion_even_listed_everything),
        cmocka_unit_test(test_validator_first),
        cmocka_unit_test(test_malformed_retained_duplicate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
