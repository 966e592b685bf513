/*
 * UAV command rules: every range at and beyond both edges, go and curve
 * geometry, Wi-Fi strings, oio compounds, the raw-line grammar, and the
 * promise that a raw line and the typed command get the same verdict and
 * the same message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include <scentience/uav.h>

#define MSG_CAP 256

/* Parses a raw line; returns the code and leaves the message in msg. */
static int raw(const char *line, scn_uav_cmd *cmd, char *msg)
{
    return scn_uav_cmd_parse(line, strlen(line), cmd, msg, MSG_CAP);
}

/* A raw line that must pass and format back to itself. */
static void raw_ok(const char *line)
{
    scn_uav_cmd cmd;
    char msg[MSG_CAP], out[SCN_UAV_LINE_MAX + 1];
    size_t n = 0;
    int rc = raw(line, &cmd, msg);

    if (rc != 0)
        fail_msg("\"%s\": %s (%s)", line, scn_err_name(rc), msg);
    assert_string_equal(msg, "");
    assert_int_equal(
        scn_uav_cmd_format(&cmd, out, sizeof out, &n, msg, MSG_CAP), 0);
    assert_string_equal(out, line);
    assert_int_equal(n, strlen(line));
}

/* A raw line that must fail with err and a message holding every needle
 * (NULL-terminated list). */
static void raw_fails(const char *line, int err, ...)
{
    scn_uav_cmd cmd;
    char msg[MSG_CAP];
    const char *needle;
    va_list ap;
    int rc = raw(line, &cmd, msg);

    if (rc != err)
        fail_msg("\"%s\": got %s (%s), want %s", line, scn_err_name(rc), msg,
                 scn_err_name(err));
    /* Cleared on error: nothing half-parsed can be sent by mistake. */
    assert_int_equal(cmd.id, 0);
    assert_int_equal(cmd.arg[0], 0);
    va_start(ap, err);
    while ((needle = va_arg(ap, const char *)) != NULL) {
        if (strstr(msg, needle) == NULL)
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", line, msg, needle);
    }
    va_end(ap);
}

/* Typed result and message must equal the raw line's. */
static void same_verdict(int typed_rc, const char *typed_msg, const char *line)
{
    scn_uav_cmd cmd;
    char msg[MSG_CAP];
    int rc = raw(line, &cmd, msg);

    if (rc != typed_rc || strcmp(msg, typed_msg) != 0)
        fail_msg("\"%s\": raw %s \"%s\", typed %s \"%s\"", line,
                 scn_err_name(rc), msg, scn_err_name(typed_rc), typed_msg);
}

static const scn_uav_cmd_id moves[] = {SCN_UAV_UP,      SCN_UAV_DOWN,
                                       SCN_UAV_LEFT,    SCN_UAV_RIGHT,
                                       SCN_UAV_FORWARD, SCN_UAV_BACK};

static void test_move_edges(void **state)
{
    static const struct {
        int v;
        int err;
    } cases[] = {{19, SCN_ERR_OUT_OF_RANGE},
                 {20, 0},
                 {500, 0},
                 {501, SCN_ERR_OUT_OF_RANGE},
                 {-20, SCN_ERR_OUT_OF_RANGE},
                 {0, SCN_ERR_OUT_OF_RANGE}};
    (void)state;
    for (size_t m = 0; m < sizeof moves / sizeof moves[0]; m++) {
        const char *name = scn_uav_cmd_name(moves[m]);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            scn_uav_cmd cmd;
            char msg[MSG_CAP], line[64], want[128];
            int rc = scn_uav_cmd_move(&cmd, moves[m], cases[i].v, msg, MSG_CAP);
            assert_int_equal(rc, cases[i].err);
            snprintf(line, sizeof line, "%s %d", name, cases[i].v);
            same_verdict(rc, msg, line);
            if (rc == 0) {
                raw_ok(line);
                continue;
            }
            snprintf(want, sizeof want,
                     "%s: distance %d out of range 20-500 cm", name,
                     cases[i].v);
            assert_string_equal(msg, want);
        }
    }
}

static void test_rotate_edges(void **state)
{
    static const int vals[] = {0, 1, 360, 361, -90};
    static const int errs[] = {SCN_ERR_OUT_OF_RANGE, 0, 0, SCN_ERR_OUT_OF_RANGE,
                               SCN_ERR_OUT_OF_RANGE};
    static const scn_uav_cmd_id ids[] = {SCN_UAV_CW, SCN_UAV_CCW};
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            scn_uav_cmd cmd;
            char msg[MSG_CAP], line[64];
            int rc = scn_uav_cmd_rotate(&cmd, ids[k], vals[i], msg, MSG_CAP);
            assert_int_equal(rc, errs[i]);
            snprintf(line, sizeof line, "%s %d", scn_uav_cmd_name(ids[k]),
                     vals[i]);
            same_verdict(rc, msg, line);
            if (rc != 0) {
                assert_non_null(strstr(msg, "angle"));
                assert_non_null(strstr(msg, "1-360 degrees"));
            }
        }
    }
}

static void test_speed_edges(void **state)
{
    static const int vals[] = {9, 10, 100, 101};
    static const int errs[] = {SCN_ERR_OUT_OF_RANGE, 0, 0,
                               SCN_ERR_OUT_OF_RANGE};
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        scn_uav_cmd cmd;
        char msg[MSG_CAP], line[64];
        int rc = scn_uav_cmd_speed(&cmd, vals[i], msg, MSG_CAP);
        assert_int_equal(rc, errs[i]);
        snprintf(line, sizeof line, "speed %d", vals[i]);
        same_verdict(rc, msg, line);
        if (rc != 0) {
            char want[96];
            snprintf(want, sizeof want,
                     "speed: speed %d out of range 10-100 cm/s", vals[i]);
            assert_string_equal(msg, want);
        }
    }
}

static void test_rc_edges(void **state)
{
    static const int vals[] = {-101, -100, 100, 101};
    static const int errs[] = {SCN_ERR_OUT_OF_RANGE, 0, 0,
                               SCN_ERR_OUT_OF_RANGE};
    static const char *axis[] = {"a (", "b (", "c (", "d ("};
    (void)state;
    for (int ax = 0; ax < 4; ax++) {
        for (size_t i = 0; i < 4; i++) {
            int v[4] = {0, 0, 0, 0};
            scn_uav_cmd cmd;
            char msg[MSG_CAP], line[64];
            v[ax] = vals[i];
            int rc = scn_uav_cmd_rc(&cmd, v[0], v[1], v[2], v[3], msg, MSG_CAP);
            assert_int_equal(rc, errs[i]);
            snprintf(line, sizeof line, "rc %d %d %d %d", v[0], v[1], v[2],
                     v[3]);
            same_verdict(rc, msg, line);
            if (rc == 0) {
                raw_ok(line);
            } else {
                assert_ptr_equal(strstr(msg, "rc: "), msg);
                assert_non_null(strstr(msg, axis[ax]));
                assert_non_null(strstr(msg, "-100 to 100"));
            }
        }
    }
    raw_fails("rc 1 2 3", SCN_ERR_INVALID_ARG, "rc a b c d", NULL);
    raw_fails("rc 1 2 3 4 5", SCN_ERR_INVALID_ARG, "got 5", NULL);
}

static void test_flip(void **state)
{
    static const char ok[] = "lrfb";
    scn_uav_cmd cmd;
    char msg[MSG_CAP], line[16];
    (void)state;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(scn_uav_cmd_flip(&cmd, ok[i], msg, MSG_CAP), 0);
        snprintf(line, sizeof line, "flip %c", ok[i]);
        raw_ok(line);
    }
    assert_int_equal(scn_uav_cmd_flip(&cmd, 'x', msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_string_equal(msg, "flip: direction \"x\" is not one of l r f b");
    same_verdict(SCN_ERR_INVALID_ARG, msg, "flip x");
    assert_int_equal(scn_uav_cmd_flip(&cmd, 'L', msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    same_verdict(SCN_ERR_INVALID_ARG, msg, "flip L");
    assert_int_equal(scn_uav_cmd_flip(&cmd, '\0', msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    raw_fails("flip lr", SCN_ERR_INVALID_ARG, "\"lr\"", "l r f b", NULL);
    raw_fails("flip", SCN_ERR_INVALID_ARG, "expected 1 argument", NULL);
    raw_fails("flip l r", SCN_ERR_INVALID_ARG, "got 2", NULL);
}

static void test_mdirection_edges(void **state)
{
    static const int vals[] = {-1, 0, 1, 2, 3};
    static const int errs[] = {SCN_ERR_OUT_OF_RANGE, 0, 0, 0,
                               SCN_ERR_OUT_OF_RANGE};
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        scn_uav_cmd cmd;
        char msg[MSG_CAP], line[32];
        int rc = scn_uav_cmd_mdirection(&cmd, vals[i], msg, MSG_CAP);
        assert_int_equal(rc, errs[i]);
        snprintf(line, sizeof line, "mdirection %d", vals[i]);
        same_verdict(rc, msg, line);
        if (rc != 0) {
            assert_non_null(strstr(msg, "mdirection: direction"));
            assert_non_null(strstr(msg, "0-2"));
        }
    }
}

static void test_integer_syntax(void **state)
{
    (void)state;
    raw_fails("up 20.5", SCN_ERR_INVALID_ARG, "up: distance \"20.5\"",
              "not a plain integer", "20-500 cm", NULL);
    raw_fails("up +20", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_fails("up 020", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_fails("up 2e1", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_fails("up 0x20", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_fails("up -", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_fails("up 20x", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_fails("mdirection -0", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_fails("mdirection 00", SCN_ERR_INVALID_ARG, "plain integer", NULL);
    raw_ok("mdirection 0");
    raw_ok("go 0 0 -21 10");
    /* A negative where none is allowed is a range error, as typed. */
    raw_fails("up -20", SCN_ERR_OUT_OF_RANGE,
              "up: distance -20 out of range 20-500 cm", NULL);
    /* Too big for an int: still a range error naming the number. */
    raw_fails("up 99999999999999999999999", SCN_ERR_OUT_OF_RANGE,
              "distance 999999999999", "20-500 cm", NULL);
    raw_fails("rc -9999999999 0 0 0", SCN_ERR_OUT_OF_RANGE,
              "-9999999999 out of range -100 to 100", NULL);
}

static void test_go(void **state)
{
    static const struct {
        int x, y, z, s, err;
        const char *needle;
    } cases[] = {
        {100, 0, 50, 30, 0, NULL},
        {-500, 500, -500, 10, 0, NULL},
        {500, -500, 500, 100, 0, NULL},
        {-501, 0, 0, 50, SCN_ERR_OUT_OF_RANGE, "x -501 out of range"},
        {501, 0, 0, 50, SCN_ERR_OUT_OF_RANGE, "x 501 out of range"},
        {0, 501, 0, 50, SCN_ERR_OUT_OF_RANGE, "y 501 out of range"},
        {0, 0, -501, 50, SCN_ERR_OUT_OF_RANGE, "z -501 out of range"},
        {100, 0, 0, 9, SCN_ERR_OUT_OF_RANGE, "speed 9 out of range 10-100"},
        {100, 0, 0, 10, 0, NULL},
        {100, 0, 0, 100, 0, NULL},
        {100, 0, 0, 101, SCN_ERR_OUT_OF_RANGE, "speed 101"},
        /* Too small a move on every axis. */
        {20, 20, 20, 50, SCN_ERR_OUT_OF_RANGE,
         "(20 20 20) are all within -20 to 20 cm"},
        {-20, -20, -20, 50, SCN_ERR_OUT_OF_RANGE, "all within"},
        {0, 0, 0, 50, SCN_ERR_OUT_OF_RANGE, "all within"},
        {20, -20, 0, 50, SCN_ERR_OUT_OF_RANGE, "all within"},
        {21, 0, 0, 50, 0, NULL},
        {0, -21, 0, 50, 0, NULL},
        {0, 0, 21, 50, 0, NULL},
        {20, 20, -21, 50, 0, NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scn_uav_cmd cmd;
        char msg[MSG_CAP], line[64];
        int rc = scn_uav_cmd_go(&cmd, cases[i].x, cases[i].y, cases[i].z,
                                cases[i].s, msg, MSG_CAP);
        snprintf(line, sizeof line, "go %d %d %d %d", cases[i].x, cases[i].y,
                 cases[i].z, cases[i].s);
        if (rc != cases[i].err)
            fail_msg("%s: %s (%s)", line, scn_err_name(rc), msg);
        same_verdict(rc, msg, line);
        if (rc == 0)
            raw_ok(line);
        else if (strstr(msg, cases[i].needle) == NULL ||
                 strncmp(msg, "go: ", 4) != 0)
            fail_msg("%s: message \"%s\"", line, msg);
    }
    raw_fails("go 100 0 50", SCN_ERR_INVALID_ARG, "go: expected 4 arguments",
              "got 3", "go x y z speed", NULL);
    raw_fails("go 100 0 50 30 1", SCN_ERR_INVALID_ARG, "got 5", NULL);
    raw_fails("go", SCN_ERR_INVALID_ARG, "got 0", NULL);
}

static void test_curve(void **state)
{
    static const struct {
        int p[7], err;
        const char *needle;
    } cases[] = {
        /* Circle of radius exactly 50 and exactly 1000: both accepted. */
        {{-100, 0, 0, -50, -50, 0, 30}, 0, NULL},
        {{-320, 160, 0, 200, -200, 0, 30}, 0, NULL},
        {{-100, 10, 0, -100, 0, 0, 30}, 0, NULL},   /* 50.25 */
        {{-500, 170, 0, 500, 100, 0, 30}, 0, NULL}, /* 999.79 */
        {{-90, 10, 0, 0, 50, 0, 30},
         SCN_ERR_OUT_OF_RANGE,
         "arc radius 49 cm out of range 50-1000 cm"},
        {{-500, 70, 0, 250, -150, 0, 30},
         SCN_ERR_OUT_OF_RANGE,
         "arc radius 1001 cm out of range 50-1000 cm"},
        /* In three dimensions too. */
        {{100, 100, 100, 200, 0, 100, 60}, 0, NULL},
        /* Degenerate: collinear with the origin, a point on the origin,
         * twice the same point. */
        {{100, 0, 0, 200, 0, 0, 30}, SCN_ERR_OUT_OF_RANGE, "in line"},
        {{100, 100, 100, -50, -50, -50, 30}, SCN_ERR_OUT_OF_RANGE, "in line"},
        {{0, 0, 0, 100, 50, 0, 30}, SCN_ERR_OUT_OF_RANGE, "in line"},
        {{100, 50, 0, 100, 50, 0, 30}, SCN_ERR_OUT_OF_RANGE, "in line"},
        /* Speed 10-60, not 10-100. */
        {{-100, 0, 0, -50, -50, 0, 9},
         SCN_ERR_OUT_OF_RANGE,
         "speed 9 out of range 10-60 cm/s"},
        {{-100, 0, 0, -50, -50, 0, 10}, 0, NULL},
        {{-100, 0, 0, -50, -50, 0, 60}, 0, NULL},
        {{-100, 0, 0, -50, -50, 0, 61}, SCN_ERR_OUT_OF_RANGE, "speed 61"},
        /* Coordinates -500..500, each checked and named. */
        {{501, 0, 0, 0, 100, 0, 30}, SCN_ERR_OUT_OF_RANGE, "x1 501"},
        {{100, -501, 0, 0, 100, 0, 30}, SCN_ERR_OUT_OF_RANGE, "y1 -501"},
        {{100, 0, 501, 0, 100, 0, 30}, SCN_ERR_OUT_OF_RANGE, "z1 501"},
        {{100, 0, 0, -501, 100, 0, 30}, SCN_ERR_OUT_OF_RANGE, "x2 -501"},
        {{100, 0, 0, 0, 501, 0, 30}, SCN_ERR_OUT_OF_RANGE, "y2 501"},
        {{100, 0, 0, 0, 100, -501, 30},
         SCN_ERR_OUT_OF_RANGE,
         "z2 -501 out of range -500 to 500 cm"},
        /* Extremes that stress the integer arithmetic. */
        {{-500, -500, -500, 500, 500, 499, 60},
         SCN_ERR_OUT_OF_RANGE,
         "arc radius"},
        {{500, 500, 500, -500, 500, -500, 60}, 0, NULL}, /* 750 */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *p = cases[i].p;
        scn_uav_cmd cmd;
        char msg[MSG_CAP], line[96];
        int rc = scn_uav_cmd_curve(&cmd, p[0], p[1], p[2], p[3], p[4], p[5],
                                   p[6], msg, MSG_CAP);
        snprintf(line, sizeof line, "curve %d %d %d %d %d %d %d", p[0], p[1],
                 p[2], p[3], p[4], p[5], p[6]);
        if (rc != cases[i].err)
            fail_msg("%s: %s (%s)", line, scn_err_name(rc), msg);
        same_verdict(rc, msg, line);
        if (rc == 0)
            raw_ok(line);
        else if (strstr(msg, cases[i].needle) == NULL ||
                 strncmp(msg, "curve: ", 7) != 0)
            fail_msg("%s: message \"%s\"", line, msg);
    }
    raw_fails("curve 1 2 3 4 5 6", SCN_ERR_INVALID_ARG, "expected 7", "got 6",
              NULL);
    raw_fails("curve 1 2 3 4 5 6 7 8", SCN_ERR_INVALID_ARG, "got 8", NULL);
}

static void test_wifi_strings(void **state)
{
    char name32[33], name33[34], pw63[64], pw64[65], line[160];
    scn_uav_cmd cmd;
    char msg[MSG_CAP];
    (void)state;

    memset(name32, 'n', 32);
    name32[32] = '\0';
    memset(name33, 'n', 33);
    name33[33] = '\0';
    memset(pw63, 'p', 63);
    pw63[63] = '\0';
    memset(pw64, 'p', 64);
    pw64[64] = '\0';

    raw_ok("ssid drone pass secret123");
    raw_ok("ap HomeNet s3cr3t!#");
    raw_ok("ssid pass pass pass");
    assert_int_equal(scn_uav_cmd_ssid(&cmd, name32, pw63, msg, MSG_CAP), 0);
    snprintf(line, sizeof line, "ssid %s pass %s", name32, pw63);
    raw_ok(line);
    assert_true(strlen(line) <= SCN_UAV_LINE_MAX);

    assert_int_equal(scn_uav_cmd_ssid(&cmd, name33, "pw", msg, MSG_CAP),
                     SCN_ERR_OUT_OF_RANGE);
    assert_string_equal(msg, "ssid: name is longer than 32 bytes");
    snprintf(line, sizeof line, "ssid %s pass pw", name33);
    same_verdict(SCN_ERR_OUT_OF_RANGE, msg, line);
    assert_int_equal(scn_uav_cmd_ap(&cmd, "net", pw64, msg, MSG_CAP),
                     SCN_ERR_OUT_OF_RANGE);
    assert_string_equal(msg, "ap: password is longer than 63 bytes");
    snprintf(line, sizeof line, "ap net %s", pw64);
    same_verdict(SCN_ERR_OUT_OF_RANGE, msg, line);

    assert_int_equal(scn_uav_cmd_ssid(&cmd, "", "pw", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "ssid: name is empty"));
    assert_int_equal(scn_uav_cmd_ap(&cmd, "net", "", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "ap: password is empty"));
    assert_int_equal(scn_uav_cmd_ssid(&cmd, NULL, "pw", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);

    /* Spaces, control and non-ASCII bytes; a password never shows. */
    assert_int_equal(scn_uav_cmd_ssid(&cmd, "my drone", "pw", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "ssid: name has a space"));
    assert_int_equal(scn_uav_cmd_ssid(&cmd, "n\tx", "pw", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_ssid(&cmd, "n\x7fx", "pw", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_ap(&cmd, "caf\xc3\xa9", "pw", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(
        scn_uav_cmd_ap(&cmd, "net", "hunter2 secret", msg, MSG_CAP),
        SCN_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "ap: password has a space"));
    assert_null(strstr(msg, "hunter2"));
    assert_int_equal(scn_uav_cmd_ssid(&cmd, "n", "topsecret\x01", msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_null(strstr(msg, "topsecret"));
    assert_null(strstr(msg, "0x01"));
    raw_fails("ap net hunter2\x01", SCN_ERR_INVALID_ARG, "control", NULL);

    /* Grammar of the raw forms. */
    raw_fails("ssid drone PASS pw", SCN_ERR_INVALID_ARG, "\"pass\"", NULL);
    raw_fails("ssid drone pw", SCN_ERR_INVALID_ARG, "expected 3", NULL);
    raw_fails("ssid drone pass", SCN_ERR_INVALID_ARG, "got 2", NULL);
    raw_fails("ssid drone pass a b", SCN_ERR_INVALID_ARG, "got 4", NULL);
    raw_fails("ssid  pass pw", SCN_ERR_INVALID_ARG, "single spaces", NULL);
    raw_fails("ap net", SCN_ERR_INVALID_ARG, "ap SSID PASSWORD", NULL);
    raw_fails("ap net pw extra", SCN_ERR_INVALID_ARG, "got 3", NULL);

    /* A struct filled by hand without a terminator is refused, not read
     * past its end. */
    memset(&cmd, 0, sizeof cmd);
    cmd.id = SCN_UAV_SSID;
    memset(cmd.ssid, 'a', sizeof cmd.ssid);
    memcpy(cmd.password, "pw", 3);
    assert_int_equal(scn_uav_cmd_validate(&cmd, msg, MSG_CAP),
                     SCN_ERR_OUT_OF_RANGE);
}

static void test_redacted(void **state)
{
    scn_uav_cmd cmd;
    char msg[MSG_CAP], out[SCN_UAV_LINE_MAX + 1];
    (void)state;
    assert_int_equal(scn_uav_cmd_ssid(&cmd, "drone", "hunter2", msg, MSG_CAP),
                     0);
    assert_int_equal(
        scn_uav_cmd_format_redacted(&cmd, out, sizeof out, NULL, msg, MSG_CAP),
        0);
    assert_string_equal(out, "ssid drone pass ****");
    assert_int_equal(scn_uav_cmd_ap(&cmd, "net", "hunter2", msg, MSG_CAP), 0);
    assert_int_equal(
        scn_uav_cmd_format_redacted(&cmd, out, sizeof out, NULL, msg, MSG_CAP),
        0);
    assert_string_equal(out, "ap net ****");
    assert_int_equal(scn_uav_cmd_move(&cmd, SCN_UAV_UP, 20, msg, MSG_CAP), 0);
    assert_int_equal(
        scn_uav_cmd_format_redacted(&cmd, out, sizeof out, NULL, msg, MSG_CAP),
        0);
    assert_string_equal(out, "up 20");
}

static void test_oio(void **state)
{
    scn_uav_cmd cmd;
    char msg[MSG_CAP], out[SCN_UAV_LINE_MAX + 1];
    (void)state;
    raw_ok("oio nh3");
    raw_ok("oio c2h5oh");
    raw_ok("oio voc");
    /* Any case in, lowercase out. */
    static const char *mixed[] = {"oio NH3", "oio Nh3", "oio nH3"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(raw(mixed[i], &cmd, msg), 0);
        assert_int_equal(cmd.compound, SCN_NH3);
        assert_int_equal(
            scn_uav_cmd_format(&cmd, out, sizeof out, NULL, msg, MSG_CAP), 0);
        assert_string_equal(out, "oio nh3");
    }
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++) {
        char want[32];
        const char *n = scn_compound_name((scn_compound)c);
        size_t k = 0;
        assert_int_equal(scn_uav_cmd_oio(&cmd, (scn_compound)c, msg, MSG_CAP),
                         0);
        assert_int_equal(
            scn_uav_cmd_format(&cmd, out, sizeof out, NULL, msg, MSG_CAP), 0);
        k = (size_t)snprintf(want, sizeof want, "oio ");
        for (; *n; n++)
            want[k++] = (char)(*n >= 'A' && *n <= 'Z' ? *n + 32 : *n);
        want[k] = '\0';
        assert_string_equal(out, want);
        raw_ok(want);
    }
    raw_fails("oio xyz", SCN_ERR_INVALID_ARG, "oio: unknown compound \"xyz\"",
              "nh3", NULL);
    raw_fails("oio nh3_a", SCN_ERR_INVALID_ARG, "unknown compound", NULL);
    raw_fails("oio", SCN_ERR_INVALID_ARG, "expected 1 argument", NULL);
    raw_fails("oio nh3 co", SCN_ERR_INVALID_ARG, "got 2", NULL);
    assert_int_equal(scn_uav_cmd_oio(&cmd, SCN_COMPOUND_COUNT, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "oio: unknown compound"));
}

static void test_line_grammar(void **state)
{
    char line[200];
    scn_uav_cmd cmd;
    char msg[MSG_CAP];
    (void)state;

    raw_fails("", SCN_ERR_INVALID_ARG, "empty", NULL);
    raw_fails("fly 20", SCN_ERR_UNKNOWN_TYPE, "unknown command \"fly\"", NULL);
    raw_fails("TAKEOFF", SCN_ERR_UNKNOWN_TYPE, "unknown command", NULL);
    raw_fails("hello", SCN_ERR_UNKNOWN_TYPE, NULL);
    raw_fails("battery", SCN_ERR_UNKNOWN_TYPE, NULL);
    raw_fails("takeoff now", SCN_ERR_INVALID_ARG, "takeoff: takes no arguments",
              NULL);
    raw_fails("battery? 1", SCN_ERR_INVALID_ARG, "no arguments", NULL);
    raw_fails("speed", SCN_ERR_INVALID_ARG, "speed: expected 1", NULL);
    raw_fails("takeoff ", SCN_ERR_INVALID_ARG, "trailing space", NULL);
    raw_fails(" takeoff", SCN_ERR_INVALID_ARG, "starts with a space", NULL);
    raw_fails("up  20", SCN_ERR_INVALID_ARG, "single spaces", NULL);
    raw_fails("takeoff\n", SCN_ERR_INVALID_ARG, "control", NULL);
    raw_fails("takeoff\r\n", SCN_ERR_INVALID_ARG, "control", NULL);
    raw_fails("up\t20", SCN_ERR_INVALID_ARG, "control", NULL);
    raw_fails("up 20\x7f", SCN_ERR_INVALID_ARG, "0x7f", NULL);
    raw_fails("oio nh\xc3\xa9", SCN_ERR_INVALID_ARG, "non-ASCII", NULL);
    /* A NUL inside the given length is refused like any control byte. */
    assert_int_equal(scn_uav_cmd_parse("land\0x", 6, &cmd, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_parse("land\0x", 4, &cmd, msg, MSG_CAP), 0);
    assert_int_equal(cmd.id, SCN_UAV_LAND);

    /* 128 bytes: judged on content; 129: too long. */
    memset(line, 'a', sizeof line);
    line[128] = '\0';
    raw_fails(line, SCN_ERR_UNKNOWN_TYPE, NULL);
    line[128] = 'a';
    line[129] = '\0';
    raw_fails(line, SCN_ERR_MESSAGE_TOO_BIG, "129 bytes", "128", NULL);

    /* NULL handling. */
    assert_int_equal(scn_uav_cmd_parse(NULL, 3, &cmd, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_parse("land", 4, NULL, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_parse("land", 4, &cmd, NULL, 0), 0);
    /* A short message buffer truncates, still terminated. */
    char small[8];
    assert_int_equal(scn_uav_cmd_parse("up 600", 6, &cmd, small, sizeof small),
                     SCN_ERR_OUT_OF_RANGE);
    assert_string_equal(small, "up: dis");
}

static void test_documented_session(void **state)
{
    static const char *lines[] = {
        "hello_scentience",
        "takeoff",
        "battery?",
        "speed 50",
        "go 100 0 50 30",
        "oioon",
        "oio nh3",
        "streamon",
        "streamoff",
        "oiooff",
        "land",
        "stop",
        "emergency",
        "speed?",
        "time?",
        "wifi?",
        "gps?",
        "ble?",
        "pos?",
        "sdk?",
        "sn?",
        "olfa?",
        "olfb?",
        "cw 90",
        "ccw 1",
        "flip b",
        "rc -100 0 50 100",
        "mdirection 2",
        "curve 100 100 0 200 0 0 20",
    };
    (void)state;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        raw_ok(lines[i]);
}

static void test_classification(void **state)
{
    (void)state;
    for (int i = 0; i < SCN_UAV_CMD_COUNT; i++) {
        scn_uav_cmd_id id = (scn_uav_cmd_id)i;
        const char *n = scn_uav_cmd_name(id);
        scn_uav_kind k = scn_uav_cmd_kind(id);
        scn_uav_timeout t = scn_uav_cmd_timeout(id);
        bool read = n[strlen(n) - 1] == '?';

        assert_non_null(n);
        /* Reads, and only reads, end in '?' and expect a value. */
        assert_int_equal(read, k == SCN_UAV_KIND_READ);
        assert_int_equal(read, scn_uav_cmd_answer_class(id) !=
                                   SCN_UAV_ANSWER_CLASS_ACK);
        /* Long exactly for takeoff, land and motions. */
        assert_int_equal(t == SCN_UAV_TIMEOUT_LONG, k == SCN_UAV_KIND_MOTION ||
                                                        id == SCN_UAV_TAKEOFF ||
                                                        id == SCN_UAV_LAND);
    }
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_EMERGENCY),
                     SCN_UAV_KIND_EMERGENCY);
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_HELLO), SCN_UAV_KIND_CONTROL);
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_TAKEOFF), SCN_UAV_KIND_CONTROL);
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_OIO), SCN_UAV_KIND_CONTROL);
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_RC), SCN_UAV_KIND_SET);
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_AP), SCN_UAV_KIND_SET);
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_CURVE), SCN_UAV_KIND_MOTION);
    assert_int_equal(scn_uav_cmd_kind(SCN_UAV_FLIP), SCN_UAV_KIND_MOTION);
    assert_int_equal(scn_uav_cmd_timeout(SCN_UAV_STREAMON),
                     SCN_UAV_TIMEOUT_SHORT);
    assert_int_equal(scn_uav_cmd_timeout(SCN_UAV_SPEED), SCN_UAV_TIMEOUT_SHORT);
    assert_int_equal(scn_uav_cmd_timeout(SCN_UAV_OIO), SCN_UAV_TIMEOUT_SHORT);
    assert_int_equal(scn_uav_cmd_timeout(SCN_UAV_EMERGENCY),
                     SCN_UAV_TIMEOUT_SHORT);
    assert_int_equal(scn_uav_cmd_timeout(SCN_UAV_GO), SCN_UAV_TIMEOUT_LONG);
    assert_int_equal(scn_uav_cmd_answer_class(SCN_UAV_READ_POS),
                     SCN_UAV_ANSWER_CLASS_POS);
    assert_int_equal(scn_uav_cmd_answer_class(SCN_UAV_READ_SN),
                     SCN_UAV_ANSWER_CLASS_TEXT);
    assert_int_equal(scn_uav_cmd_answer_class(SCN_UAV_READ_BATTERY),
                     SCN_UAV_ANSWER_CLASS_INT);
    assert_null(scn_uav_cmd_name(SCN_UAV_CMD_COUNT));
}

static void test_constructor_misuse(void **state)
{
    scn_uav_cmd cmd;
    char msg[MSG_CAP];
    (void)state;
    assert_int_equal(scn_uav_cmd_move(&cmd, SCN_UAV_CW, 90, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "\"cw\""));
    assert_int_equal(scn_uav_cmd_rotate(&cmd, SCN_UAV_UP, 90, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_simple(&cmd, SCN_UAV_UP, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_simple(&cmd, SCN_UAV_CMD_COUNT, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_simple(NULL, SCN_UAV_LAND, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_cmd_simple(&cmd, SCN_UAV_READ_SN, msg, MSG_CAP),
                     0);
    assert_string_equal(msg, "");
    assert_int_equal(scn_uav_cmd_validate(NULL, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);
    memset(&cmd, 0, sizeof cmd);
    cmd.id = SCN_UAV_CMD_COUNT;
    assert_int_equal(scn_uav_cmd_validate(&cmd, msg, MSG_CAP),
                     SCN_ERR_UNKNOWN_TYPE);
}

static void test_format(void **state)
{
    scn_uav_cmd cmd;
    char msg[MSG_CAP], out[32];
    size_t n = 0;
    (void)state;

    assert_int_equal(scn_uav_cmd_go(&cmd, -100, 0, 50, 30, msg, MSG_CAP), 0);
    /* "go -100 0 50 30" is 15 bytes: 16 fit, 15 do not. */
    assert_int_equal(scn_uav_cmd_format(&cmd, out, 16, &n, msg, MSG_CAP), 0);
    assert_string_equal(out, "go -100 0 50 30");
    assert_int_equal(n, 15);
    assert_int_equal(scn_uav_cmd_format(&cmd, out, 15, &n, msg, MSG_CAP),
                     SCN_ERR_NOMEM);
    assert_string_equal(out, "");
    assert_int_equal(n, 16);
    assert_int_equal(scn_uav_cmd_format(&cmd, NULL, 0, &n, msg, MSG_CAP),
                     SCN_ERR_NOMEM);
    assert_int_equal(n, 16);
    assert_int_equal(scn_uav_cmd_format(&cmd, NULL, 5, &n, msg, MSG_CAP),
                     SCN_ERR_INVALID_ARG);

    /* A struct edited by hand after construction is validated again. */
    cmd.arg[3] = 500;
    strcpy(out, "junk");
    assert_int_equal(
        scn_uav_cmd_format(&cmd, out, sizeof out, &n, msg, MSG_CAP),
        SCN_ERR_OUT_OF_RANGE);
    assert_string_equal(out, "");
    assert_string_equal(msg, "go: speed 500 out of range 10-100 cm/s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_move_edges),
        cmocka_unit_test(test_rotate_edges),
        cmocka_unit_test(test_speed_edges),
        cmocka_unit_test(test_rc_edges),
        cmocka_unit_test(test_flip),
        cmocka_unit_test(test_mdirection_edges),
        cmocka_unit_test(test_integer_syntax),
        cmocka_unit_test(test_go),
        cmocka_unit_test(test_curve),
        cmocka_unit_test(test_wifi_strings),
        cmocka_unit_test(test_redacted),
        cmocka_unit_test(test_oio),
        cmocka_unit_test(test_line_grammar),
        cmocka_unit_test(test_documented_session),
        cmocka_unit_test(test_classification),
        cmocka_unit_test(test_constructor_misuse),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
