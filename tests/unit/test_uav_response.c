/*
 * Answers of the drone: ok, error with or without a reason, read values,
 * malformed text kept raw, and whether an answer could belong to a
 * command (used to resynchronise after a timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include <scentience/uav.h>

static int parse(scn_uav_cmd_id cmd, const char *text, scn_uav_answer *a)
{
    return scn_uav_answer_parse(cmd, text, strlen(text), a);
}

/* text must be malformed as an answer to cmd, with raw kept. */
static void malformed(scn_uav_cmd_id cmd, const char *text)
{
    scn_uav_answer a;
    int rc = parse(cmd, text, &a);

    if (rc != SCN_ERR_MALFORMED)
        fail_msg("%s <- \"%s\": %s, want MALFORMED", scn_uav_cmd_name(cmd),
                 text, scn_err_name(rc));
    assert_int_equal(a.kind, SCN_UAV_ANSWER_MALFORMED);
    assert_int_equal(a.cmd, cmd);
    assert_string_equal(a.raw, text);
    assert_int_equal(a.raw_len, strlen(text));
    assert_false(a.raw_truncated);
    assert_string_equal(a.text, "");
    assert_false(a.is_integer);
    assert_true(a.number == 0.0);
    assert_int_equal(scn_uav_answer_err(&a), SCN_ERR_MALFORMED);
    assert_false(scn_uav_answer_could_belong(cmd, text, strlen(text)));
}

/* An integer answer. */
static void integer(scn_uav_cmd_id cmd, const char *text, int64_t want)
{
    scn_uav_answer a;
    int rc = parse(cmd, text, &a);

    if (rc != 0)
        fail_msg("%s <- \"%s\": %s", scn_uav_cmd_name(cmd), text,
                 scn_err_name(rc));
    assert_int_equal(a.kind, SCN_UAV_ANSWER_NUMBER);
    assert_true(a.is_integer);
    assert_int_equal(a.integer, want);
    assert_true(a.number == (double)want);
    assert_int_equal(scn_uav_answer_err(&a), 0);
    assert_true(scn_uav_answer_could_belong(cmd, text, strlen(text)));
}

static void test_ok(void **state)
{
    scn_uav_answer a;
    static const char *oks[] = {"ok",   "OK",   "Ok",  "ok\r\n",
                                "ok\n", "ok  ", "ok\t"};
    (void)state;
    for (int id = 0; id < SCN_UAV_CMD_COUNT; id++) {
        bool ack = scn_uav_cmd_answer_class((scn_uav_cmd_id)id) ==
                   SCN_UAV_ANSWER_CLASS_ACK;
        for (size_t i = 0; i < sizeof oks / sizeof oks[0]; i++) {
            int rc = parse((scn_uav_cmd_id)id, oks[i], &a);
            if (!ack) {
                /* "ok" to a read is a late answer to something else. */
                assert_int_equal(rc, SCN_ERR_MALFORMED);
                continue;
            }
            assert_int_equal(rc, 0);
            assert_int_equal(a.kind, SCN_UAV_ANSWER_OK);
            assert_int_equal(scn_uav_answer_err(&a), 0);
        }
    }
    /* raw is what arrived, terminator included. */
    assert_int_equal(parse(SCN_UAV_TAKEOFF, "ok\r\n", &a), 0);
    assert_string_equal(a.raw, "ok\r\n");
    assert_int_equal(a.raw_len, 4);
    malformed(SCN_UAV_TAKEOFF, "okay");
    malformed(SCN_UAV_TAKEOFF, "ok!");
    malformed(SCN_UAV_TAKEOFF, " ok");
    malformed(SCN_UAV_TAKEOFF, "o k");
    malformed(SCN_UAV_TAKEOFF, "");
    malformed(SCN_UAV_TAKEOFF, "\r\n");
    malformed(SCN_UAV_TAKEOFF, "75");
    malformed(SCN_UAV_LAND, "36.0, 48.0");
    malformed(SCN_UAV_SPEED, "ok ok");
}

static void test_error(void **state)
{
    scn_uav_answer a;
    char long_reason[200];
    (void)state;

    assert_int_equal(parse(SCN_UAV_TAKEOFF, "error", &a), 0);
    assert_int_equal(a.kind, SCN_UAV_ANSWER_ERROR);
    assert_string_equal(a.text, "");
    assert_int_equal(scn_uav_answer_err(&a), SCN_ERR_UAV_REFUSED);

    assert_int_equal(parse(SCN_UAV_RC, "error Not joystick", &a), 0);
    assert_int_equal(a.kind, SCN_UAV_ANSWER_ERROR);
    assert_string_equal(a.text, "Not joystick");

    assert_int_equal(parse(SCN_UAV_UP, "error out of range\r\n", &a), 0);
    assert_string_equal(a.text, "out of range");
    assert_string_equal(a.raw, "error out of range\r\n");

    assert_int_equal(parse(SCN_UAV_LAND, "ERROR", &a), 0);
    assert_int_equal(a.kind, SCN_UAV_ANSWER_ERROR);
    assert_int_equal(parse(SCN_UAV_LAND, "error ", &a), 0);
    assert_string_equal(a.text, "");

    /* Every command may be refused, reads included. */
    for (int id = 0; id < SCN_UAV_CMD_COUNT; id++) {
        assert_int_equal(parse((scn_uav_cmd_id)id, "error No valid imu", &a),
                         0);
        assert_int_equal(a.kind, SCN_UAV_ANSWER_ERROR);
        assert_true(
            scn_uav_answer_could_belong((scn_uav_cmd_id)id, "error", 5));
    }

    /* A long reason is cut, not refused. */
    memcpy(long_reason, "error ", 6);
    memset(long_reason + 6, 'r', 150);
    long_reason[156] = '\0';
    assert_int_equal(parse(SCN_UAV_STOP, long_reason, &a), 0);
    assert_int_equal(strlen(a.text), SCN_UAV_REASON_MAX);
    assert_int_equal(a.raw_len, SCN_UAV_RAW_MAX);
    assert_true(a.raw_truncated);
    /* A cut that ends between words leaves no trailing space: the reason
     * reads the same as the answer "error <reason>" would (a fuzz find). */
    memset(long_reason + 6 + 60, ' ', 5);
    assert_int_equal(parse(SCN_UAV_STOP, long_reason, &a), 0);
    assert_int_equal(strlen(a.text), 60);

    malformed(SCN_UAV_TAKEOFF, "errorx");
    malformed(SCN_UAV_TAKEOFF, "error:bad");
    malformed(SCN_UAV_TAKEOFF, "error bad\x01thing");
    malformed(SCN_UAV_TAKEOFF, "err");
}

static void test_integers(void **state)
{
    static const scn_uav_cmd_id ints[] = {SCN_UAV_READ_BATTERY,
                                          SCN_UAV_READ_TIME, SCN_UAV_READ_WIFI,
                                          SCN_UAV_READ_GPS, SCN_UAV_READ_BLE};
    (void)state;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        integer(ints[i], "75", 75);
        integer(ints[i], "75\r\n", 75);
        integer(ints[i], "0", 0);
        integer(ints[i], "075", 75); /* lenient on input */
        malformed(ints[i], "75x");
        malformed(ints[i], "7 5");
        malformed(ints[i], "+75");
        malformed(ints[i], " 75");
        malformed(ints[i], "75.0");
        malformed(ints[i], "0x4b");
        malformed(ints[i], "-");
        malformed(ints[i], "seventy");
        malformed(ints[i], "1e2");
    }
    integer(SCN_UAV_READ_BATTERY, "100", 100);
    malformed(SCN_UAV_READ_BATTERY, "101");
    malformed(SCN_UAV_READ_BATTERY, "-1");
    integer(SCN_UAV_READ_TIME, "115", 115);
    malformed(SCN_UAV_READ_TIME, "-1");
    integer(SCN_UAV_READ_WIFI, "-5", -5);
    integer(SCN_UAV_READ_GPS, "2147483647", INT32_MAX);
    integer(SCN_UAV_READ_GPS, "-2147483648", INT32_MIN);
    malformed(SCN_UAV_READ_GPS, "2147483648");
    malformed(SCN_UAV_READ_GPS, "-2147483649");
    malformed(SCN_UAV_READ_BLE, "99999999999999999999999999");
    /* A NUL inside the length is a control byte. */
    scn_uav_answer a;
    assert_int_equal(scn_uav_answer_parse(SCN_UAV_READ_WIFI,
                                          "2\0"
                                          "1",
                                          3, &a),
                     SCN_ERR_MALFORMED);
    assert_int_equal(a.raw_len, 3);
    assert_int_equal(memcmp(a.raw,
                            "2\0"
                            "1",
                            4),
                     0);
}

static void test_numbers(void **state)
{
    scn_uav_answer a;
    (void)state;
    integer(SCN_UAV_READ_SPEED, "20", 20);
    integer(SCN_UAV_READ_OLFA, "2000", 2000);
    integer(SCN_UAV_READ_OLFB, "-3", -3);

    /* Some firmware prints speed? as "100.0". */
    assert_int_equal(parse(SCN_UAV_READ_SPEED, "100.0\r\n", &a), 0);
    assert_int_equal(a.kind, SCN_UAV_ANSWER_NUMBER);
    assert_false(a.is_integer);
    assert_true(a.number == 100.0);
    /* Correctly rounded, like a C literal. */
    assert_int_equal(parse(SCN_UAV_READ_OLFA, "6.23", &a), 0);
    assert_true(a.number == 6.23);
    assert_int_equal(parse(SCN_UAV_READ_OLFB, "0.1", &a), 0);
    assert_true(a.number == 0.1);
    assert_int_equal(parse(SCN_UAV_READ_OLFB, "-0.000001", &a), 0);
    assert_true(a.number == -0.000001);
    assert_int_equal(parse(SCN_UAV_READ_OLFA, "123456789012345", &a), 0);
    assert_true(a.number == 123456789012345.0);
    assert_int_equal(parse(SCN_UAV_READ_OLFA, "1.50000000000000000000", &a), 0);
    assert_true(a.number == 1.5);
    /* Leading zeros are not significant digits either. */
    assert_int_equal(parse(SCN_UAV_READ_OLFA, "0000.000000000000000012345", &a),
                     0);
    assert_true(a.number == 0.000000000000000012345);
    /* Beyond int32 without a fraction: still a number, not an integer. */
    assert_int_equal(parse(SCN_UAV_READ_OLFA, "3000000000", &a), 0);
    assert_false(a.is_integer);
    assert_true(a.number == 3e9);

    malformed(SCN_UAV_READ_SPEED, "-1");
    malformed(SCN_UAV_READ_SPEED, "-0.5");
    malformed(SCN_UAV_READ_SPEED, "100.");
    malformed(SCN_UAV_READ_SPEED, ".5");
    malformed(SCN_UAV_READ_SPEED, "1e2");
    malformed(SCN_UAV_READ_SPEED, "100,0");
    malformed(SCN_UAV_READ_SPEED, "nan");
    malformed(SCN_UAV_READ_SPEED, "inf");
    malformed(SCN_UAV_READ_OLFA, "1234567890123456.5");
    malformed(SCN_UAV_READ_OLFA, "2000 ppb");
}

static void test_pos(void **state)
{
    static const struct {
        const char *text;
        double x, y;
    } good[] = {
        {"36.0000, 48.9994", 36.0, 48.9994},
        {"36.0000,48.9994", 36.0, 48.9994},
        {"36.0000 ,  48.9994\r\n", 36.0, 48.9994},
        {"-1.5, 2", -1.5, 2.0},
        {"0, 0", 0.0, 0.0},
    };
    scn_uav_answer a;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc = parse(SCN_UAV_READ_POS, good[i].text, &a);
        if (rc != 0)
            fail_msg("\"%s\": %s", good[i].text, scn_err_name(rc));
        assert_int_equal(a.kind, SCN_UAV_ANSWER_POS);
        assert_true(a.pos[0] == good[i].x);
        assert_true(a.pos[1] == good[i].y);
        assert_int_equal(scn_uav_answer_err(&a), 0);
    }
    malformed(SCN_UAV_READ_POS, "36.0000");
    malformed(SCN_UAV_READ_POS, "36.0000, ");
    malformed(SCN_UAV_READ_POS, ", 48.9994");
    malformed(SCN_UAV_READ_POS, "36.0000 48.9994");
    malformed(SCN_UAV_READ_POS, "36.0000; 48.9994");
    malformed(SCN_UAV_READ_POS, "1, 2, 3");
    malformed(SCN_UAV_READ_POS, "a, b");
    malformed(SCN_UAV_READ_POS, "1,\t2");
    malformed(SCN_UAV_READ_POS, "ok");
}

static void test_words(void **state)
{
    scn_uav_answer a;
    char w32[40];
    (void)state;
    assert_int_equal(parse(SCN_UAV_READ_SDK, "1.0.0-scentience", &a), 0);
    assert_int_equal(a.kind, SCN_UAV_ANSWER_WORD);
    assert_string_equal(a.text, "1.0.0-scentience");
    assert_int_equal(parse(SCN_UAV_READ_SN, "SCN00001\r\n", &a), 0);
    assert_string_equal(a.text, "SCN00001");
    assert_int_equal(parse(SCN_UAV_READ_SN, "12345", &a), 0);
    assert_string_equal(a.text, "12345");

    memset(w32, 'S', 32);
    w32[32] = '\0';
    assert_int_equal(parse(SCN_UAV_READ_SN, w32, &a), 0);
    assert_string_equal(a.text, w32);
    w32[32] = 'S';
    w32[33] = '\0';
    malformed(SCN_UAV_READ_SN, w32);
    malformed(SCN_UAV_READ_SN, "SCN 0001");
    malformed(SCN_UAV_READ_SN, "SCN\x01");
    malformed(SCN_UAV_READ_SN, "SCN\xc3\xa9");
    malformed(SCN_UAV_READ_SDK, "ok");
    malformed(SCN_UAV_READ_SDK, "");
    assert_int_equal(parse(SCN_UAV_READ_SDK, "error", &a), 0);
    assert_int_equal(a.kind, SCN_UAV_ANSWER_ERROR);
}

static void test_raw_kept(void **state)
{
    scn_uav_answer a;
    char big[300];
    (void)state;
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(parse(SCN_UAV_READ_BATTERY, big, &a), SCN_ERR_MALFORMED);
    assert_int_equal(a.raw_len, SCN_UAV_RAW_MAX);
    assert_true(a.raw_truncated);
    assert_int_equal(strlen(a.raw), SCN_UAV_RAW_MAX);
    assert_int_equal(memcmp(a.raw, big, SCN_UAV_RAW_MAX), 0);

    /* Exactly SCN_UAV_RAW_MAX bytes: kept whole. */
    big[SCN_UAV_RAW_MAX] = '\0';
    assert_int_equal(parse(SCN_UAV_READ_BATTERY, big, &a), SCN_ERR_MALFORMED);
    assert_false(a.raw_truncated);
    assert_string_equal(a.raw, big);
}

static void test_could_belong(void **state)
{
    (void)state;
#define BELONGS(cmd, text) scn_uav_answer_could_belong(cmd, text, strlen(text))
    assert_true(BELONGS(SCN_UAV_TAKEOFF, "ok"));
    assert_false(BELONGS(SCN_UAV_TAKEOFF, "80"));
    assert_false(BELONGS(SCN_UAV_GO, "36.0, 48.0"));
    assert_true(BELONGS(SCN_UAV_READ_BATTERY, "80"));
    assert_false(BELONGS(SCN_UAV_READ_BATTERY, "ok"));
    assert_false(BELONGS(SCN_UAV_READ_BATTERY, "150"));
    assert_true(BELONGS(SCN_UAV_READ_WIFI, "150"));
    assert_false(BELONGS(SCN_UAV_READ_BATTERY, "36.0, 48.0"));
    assert_true(BELONGS(SCN_UAV_READ_POS, "36.0, 48.0"));
    assert_true(BELONGS(SCN_UAV_READ_SN, "SCN00001"));
    assert_false(BELONGS(SCN_UAV_READ_BATTERY, "SCN00001"));
    assert_true(BELONGS(SCN_UAV_EMERGENCY, "error"));
    assert_false(BELONGS(SCN_UAV_CMD_COUNT, "ok"));
#undef BELONGS
    assert_false(scn_uav_answer_could_belong(SCN_UAV_TAKEOFF, NULL, 0));
}

static void test_bad_arguments(void **state)
{
    scn_uav_answer a;
    (void)state;
    assert_int_equal(scn_uav_answer_parse(SCN_UAV_TAKEOFF, "ok", 2, NULL),
                     SCN_ERR_INVALID_ARG);
    a.kind = SCN_UAV_ANSWER_OK;
    assert_int_equal(scn_uav_answer_parse(SCN_UAV_CMD_COUNT, "ok", 2, &a),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(a.kind, SCN_UAV_ANSWER_MALFORMED);
    assert_int_equal(scn_uav_answer_parse(SCN_UAV_TAKEOFF, NULL, 2, &a),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_uav_answer_parse(SCN_UAV_TAKEOFF, NULL, 0, &a),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn_uav_answer_err(NULL), SCN_ERR_INVALID_ARG);
    assert_string_equal(scn_err_name(SCN_ERR_UAV_REFUSED), "UAV_REFUSED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_pos),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_raw_kept),
        cmocka_unit_test(test_could_belong),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
