/* Every classification row of docs/PROTOCOL.md, and Retry-After parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <scentience/error.h>
#include "classify.h"

static scn_verdict of_kind(scn_failure_kind kind)
{
    scn_failure f;

    memset(&f, 0, sizeof(f));
    f.kind = kind;
    return scn__classify(&f);
}

static scn_verdict of_http(int status, const char *detail, uint32_t ra_ms)
{
    scn_failure f;

    memset(&f, 0, sizeof(f));
    f.kind = SCN_FAIL_HTTP_STATUS;
    f.http_status = status;
    f.detail = detail;
    f.retry_after_ms = ra_ms;
    return scn__classify(&f);
}

static scn_verdict of_close(int code, const char *detail, uint32_t ra_ms)
{
    scn_failure f;

    memset(&f, 0, sizeof(f));
    f.kind = SCN_FAIL_CLOSE;
    f.close_code = code;
    f.detail = detail;
    f.retry_after_ms = ra_ms;
    return scn__classify(&f);
}

#define assert_verdict(v, e, r, d)                                             \
    do {                                                                       \
        scn_verdict v_ = (v);                                                  \
        assert_int_equal(v_.err, (e));                                         \
        assert_int_equal(v_.retry, (r));                                       \
        assert_int_equal(v_.min_delay_ms, (d));                                \
    } while (0)

static void test_transport_failures(void **state)
{
    (void)state;
    assert_verdict(of_kind(SCN_FAIL_CONNECT), SCN_ERR_NETWORK, true, 0);
    assert_verdict(of_kind(SCN_FAIL_RESOLVE), SCN_ERR_RESOLVE, true, 0);
    assert_verdict(of_kind(SCN_FAIL_TLS), SCN_ERR_TLS, true, 0);
    assert_verdict(of_kind(SCN_FAIL_LOST), SCN_ERR_NETWORK, true, 0);
    assert_verdict(of_kind(SCN_FAIL_DEAD_PEER), SCN_ERR_DEAD_PEER, true, 0);
    assert_verdict(of_kind(SCN_FAIL_CONNECT_TIMEOUT), SCN_ERR_TIMEOUT, true, 0);
    assert_verdict(of_kind(SCN_FAIL_TOO_BIG), SCN_ERR_MESSAGE_TOO_BIG, true, 0);
}

static void test_http_401_variants(void **state)
{
    (void)state;
    assert_verdict(of_http(401,
                           "Bearer error=\"invalid_token\", "
                           "error_description=\"expired\"",
                           0),
                   SCN_ERR_KEY_EXPIRED, false, 0);
    assert_verdict(of_http(401,
                           "Bearer error=\"invalid_token\", "
                           "error_description=\"revoked\"",
                           0),
                   SCN_ERR_KEY_REVOKED, false, 0);
    /* Parameter order, spacing, token form and case do not matter. */
    assert_verdict(of_http(401,
                           "Bearer error_description = Revoked ,"
                           "error=invalid_token",
                           0),
                   SCN_ERR_KEY_REVOKED, false, 0);
    assert_verdict(of_http(401,
                           "Bearer realm=\"scn\", "
                           "error_description=\"expi\\red\"",
                           0),
                   SCN_ERR_KEY_EXPIRED, false, 0);
    assert_verdict(of_http(401, NULL, 0), SCN_ERR_KEY_INVALID, false, 0);
    assert_verdict(of_http(401, "", 0), SCN_ERR_KEY_INVALID, false, 0);
    assert_verdict(of_http(401, "Bearer error=\"invalid_token\"", 0),
                   SCN_ERR_KEY_INVALID, false, 0);
    assert_verdict(of_http(401,
                           "Bearer error=\"invalid_token\", "
                           "error_description=\"malformed\"",
                           0),
                   SCN_ERR_KEY_INVALID, false, 0);
    assert_verdict(of_http(401, "Bearer error_description=\"expired soon\"", 0),
                   SCN_ERR_KEY_INVALID, false, 0);
    assert_verdict(of_http(401,
                           "Bearer error_description=\"expiredexpiredexpired"
                           "expired\"",
                           0),
                   SCN_ERR_KEY_INVALID, false, 0);
    /* The words inside another parameter's quoted value do not count. */
    assert_verdict(of_http(401,
                           "Bearer realm=\"a, error_description=expired\", "
                           "error=\"invalid_token\"",
                           0),
                   SCN_ERR_KEY_INVALID, false, 0);
    /* Nor does a similarly named parameter. */
    assert_verdict(of_http(401, "Bearer x_error_description=\"expired\"", 0),
                   SCN_ERR_KEY_INVALID, false, 0);
    /* 401 stays fatal even with a Retry-After. */
    assert_verdict(of_http(401, NULL, 5000), SCN_ERR_KEY_INVALID, false, 0);
}

static void test_http_statuses(void **state)
{
    static const int fatal_4xx[] = {400, 402, 405, 409, 418, 426, 451, 499};
    static const int retry_other[] = {0,   100, 101, 200, 204, 301,
                                      302, 307, 399, 600, 999, -1};
    size_t i;

    (void)state;
    assert_verdict(of_http(403, NULL, 0), SCN_ERR_ADDRESS_NOT_ALLOWED, false,
                   0);
    assert_verdict(of_http(404, NULL, 0), SCN_ERR_DEVICE_UNKNOWN, false, 0);
    assert_verdict(of_http(429, NULL, 0), SCN_ERR_QUOTA, true,
                   SCN_QUOTA_DEFAULT_RETRY_MS);
    assert_verdict(of_http(429, NULL, 120000), SCN_ERR_QUOTA, true, 120000);
    assert_verdict(of_http(500, NULL, 0), SCN_ERR_SERVER, true, 0);
    assert_verdict(of_http(503, NULL, 7000), SCN_ERR_SERVER, true, 7000);
    assert_verdict(of_http(599, NULL, 1), SCN_ERR_SERVER, true, 1);
    for (i = 0; i < sizeof(fatal_4xx) / sizeof(fatal_4xx[0]); i++)
        assert_verdict(of_http(fatal_4xx[i], NULL, 0), SCN_ERR_HANDSHAKE, false,
                       0);
    for (i = 0; i < sizeof(retry_other) / sizeof(retry_other[0]); i++)
        assert_verdict(of_http(retry_other[i], NULL, 0), SCN_ERR_HANDSHAKE,
                       true, 0);
}

static void test_close_codes(void **state)
{
    static const int other[] = {0,    1002, 1003, 1007, 1010, 1014,
                                3000, 4000, 4005, 4999, 65535};
    size_t i;

    (void)state;
    assert_verdict(of_close(1000, NULL, 0), SCN_ERR_PEER_CLOSED, true, 0);
    assert_verdict(of_close(1001, NULL, 0), SCN_ERR_GOING_AWAY, true, 0);
    assert_verdict(of_close(1012, NULL, 0), SCN_ERR_GOING_AWAY, true, 0);
    assert_verdict(of_close(1006, NULL, 0), SCN_ERR_NETWORK, true, 0);
    assert_verdict(of_close(1008, NULL, 0), SCN_ERR_POLICY, false, 0);
    assert_verdict(of_close(1009, NULL, 0), SCN_ERR_MESSAGE_TOO_BIG, true, 0);
    assert_verdict(of_close(1011, NULL, 0), SCN_ERR_SERVER, true, 0);
    assert_verdict(of_close(1013, NULL, 0), SCN_ERR_TRY_AGAIN, true, 0);
    assert_verdict(of_close(4001, NULL, 0), SCN_ERR_KEY_REVOKED, false, 0);
    assert_verdict(of_close(4002, NULL, 0), SCN_ERR_KEY_EXPIRED, false, 0);
    assert_verdict(of_close(4003, NULL, 0), SCN_ERR_ADDRESS_NOT_ALLOWED, false,
                   0);
    assert_verdict(of_close(4004, NULL, 0), SCN_ERR_DEVICE_UNKNOWN, false, 0);
    assert_verdict(of_close(4010, NULL, 0), SCN_ERR_END_OF_STREAM, false, 0);
    assert_verdict(of_close(4029, NULL, 0), SCN_ERR_QUOTA, true,
                   SCN_QUOTA_DEFAULT_RETRY_MS);
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        assert_verdict(of_close(other[i], "retry_after=5", 0),
                       SCN_ERR_PEER_CLOSED, true, 0);
}

static void test_close_retry_after(void **state)
{
    (void)state;
    assert_verdict(of_close(1013, "retry_after=30", 0), SCN_ERR_TRY_AGAIN, true,
                   30000);
    assert_verdict(of_close(1013, "busy; retry_after=2", 0), SCN_ERR_TRY_AGAIN,
                   true, 2000);
    assert_verdict(of_close(1013, "busy retry_after=0", 0), SCN_ERR_TRY_AGAIN,
                   true, 0);
    /* Not a whole word, or not a number: ignored. */
    assert_verdict(of_close(1013, "xretry_after=30", 0), SCN_ERR_TRY_AGAIN,
                   true, 0);
    assert_verdict(of_close(1013, "retry_after=soon", 0), SCN_ERR_TRY_AGAIN,
                   true, 0);
    assert_verdict(of_close(1013, "retry_after=1.5", 0), SCN_ERR_TRY_AGAIN,
                   true, 0);
    assert_verdict(of_close(1013, "retry_after=30s", 0), SCN_ERR_TRY_AGAIN,
                   true, 0);
    /* Capped at 24 h. */
    assert_verdict(of_close(1013, "retry_after=99999999999999", 0),
                   SCN_ERR_TRY_AGAIN, true, 86400000u);

    /* 4029: retry_after_ms, then the reason text, then the default. */
    assert_verdict(of_close(4029, "retry_after=120", 5000), SCN_ERR_QUOTA, true,
                   5000);
    assert_verdict(of_close(4029, "quota exceeded, retry_after=120", 0),
                   SCN_ERR_QUOTA, true, 120000);
    assert_verdict(of_close(4029, "quota exceeded", 0), SCN_ERR_QUOTA, true,
                   SCN_QUOTA_DEFAULT_RETRY_MS);
    assert_verdict(of_close(4029, "retry_after=", 0), SCN_ERR_QUOTA, true,
                   SCN_QUOTA_DEFAULT_RETRY_MS);
    /* The second occurrence is found when the first is not a word. */
    assert_verdict(of_close(4029, "noretry_after=1 retry_after=3", 0),
                   SCN_ERR_QUOTA, true, 3000);
}

static void test_null_failure(void **state)
{
    (void)state;
    assert_verdict(scn__classify(NULL), SCN_ERR_INVALID_ARG, false, 0);
}

static void test_retry_after_seconds(void **state)
{
    uint32_t ms = 7;

    (void)state;
    assert_int_equal(scn__parse_retry_after("120", 0, &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(scn__parse_retry_after("  5\t", 0, &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(scn__parse_retry_after("0", 0, &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(scn__parse_retry_after("86400", 0, &ms), 0);
    assert_int_equal(ms, 86400000u);
    assert_int_equal(scn__parse_retry_after("86401", 0, &ms), 0);
    assert_int_equal(ms, 86400000u);
    assert_int_equal(scn__parse_retry_after("184467440737095516160", 0, &ms),
                     0);
    assert_int_equal(ms, 86400000u);

    ms = 7;
    assert_int_equal(scn__parse_retry_after("", 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after("   ", 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after("-1", 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after("+1", 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after("1.5", 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after("12a", 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after("1 2", 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after(NULL, 0, &ms), SCN_ERR_MALFORMED);
    assert_int_equal(ms, 7); /* untouched on error */
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

static void test_retry_after_dates(void **state)
{
    int64_t t = utc(1994, 11, 6, 8, 49, 37);
    int64_t leap = utc(2024, 2, 29, 23, 59, 59);
    uint32_t ms = 7;

    (void)state;
    assert_int_equal(t, 784111777); /* the RFC's example date */
    assert_int_equal(
        scn__parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30, &ms),
        0);
    assert_int_equal(ms, 30000);
    assert_int_equal(
        scn__parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t - 1, &ms),
        0);
    assert_int_equal(ms, 1000);
    assert_int_equal(
        scn__parse_retry_after("Sun Nov  6 08:49:37 1994", t - 2, &ms), 0);
    assert_int_equal(ms, 2000);
    assert_int_equal(scn__parse_retry_after("Thu, 29 Feb 2024 23:59:59 GMT",
                                            leap - 3600, &ms),
                     0);
    assert_int_equal(ms, 3600000);
    /* In the past or now: no wait. Far future: 24 h. */
    assert_int_equal(
        scn__parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 100, &ms),
        0);
    assert_int_equal(ms, 0);
    assert_int_equal(scn__parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                                            t - 86400 * 3, &ms),
                     0);
    assert_int_equal(ms, 86400000u);

    ms = 7;
    /* Dates need a clock. */
    assert_int_equal(
        scn__parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 0, &ms),
        SCN_ERR_MALFORMED);
    assert_int_equal(
        scn__parse_retry_after("Wed, 29 Feb 2023 00:00:00 GMT", t, &ms),
        SCN_ERR_MALFORMED);
    assert_int_equal(
        scn__parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", t, &ms),
        SCN_ERR_MALFORMED);
    assert_int_equal(
        scn__parse_retry_after("Sun, 06 Nov 1994 24:00:00 GMT", t, &ms),
        SCN_ERR_MALFORMED);
    assert_int_equal(
        scn__parse_retry_after("Sun, 06 Nov 1994 08:49:37 UTC", t, &ms),
        SCN_ERR_MALFORMED);
    assert_int_equal(scn__parse_retry_after("tomorrow", t, &ms),
                     SCN_ERR_MALFORMED);
    assert_int_equal(ms, 7);
}

/* A request's answer (POST /v1/predict, PROTOCOL.md 9.6) and the cloud's
 * error messages (9.2) read the same table as the handshake and close
 * codes: one refusal means one error wherever it comes from. */
static void test_one_table(void **state)
{
    bool ends;

    (void)state;
    assert_int_equal(scn__status_error(400, NULL), SCN_ERR_MALFORMED);
    assert_int_equal(scn__status_error(401, "expired"), SCN_ERR_KEY_EXPIRED);
    assert_int_equal(scn__status_error(401, "revoked"), SCN_ERR_KEY_REVOKED);
    assert_int_equal(scn__status_error(401, "invalid"), SCN_ERR_KEY_INVALID);
    assert_int_equal(scn__status_error(401, NULL), SCN_ERR_KEY_INVALID);
    assert_int_equal(scn__status_error(403, "address"),
                     SCN_ERR_ADDRESS_NOT_ALLOWED);
    assert_int_equal(scn__status_error(413, "too_big"),
                     SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(scn__status_error(429, "quota"), SCN_ERR_QUOTA);
    /* A request's 404 is no unknown device; 5xx and others: the server. */
    assert_int_equal(scn__status_error(404, NULL), SCN_ERR_SERVER);
    assert_int_equal(scn__status_error(503, NULL), SCN_ERR_SERVER);
    assert_int_equal(scn__status_error(302, NULL), SCN_ERR_SERVER);
    /* A handshake's 400 and 413 are a failed handshake, not a request's. */
    assert_int_equal(of_http(400, NULL, 0).err, SCN_ERR_HANDSHAKE);
    assert_int_equal(of_http(413, NULL, 0).err, SCN_ERR_HANDSHAKE);

    /* Each cloud code ending the session names the error of its close. */
    assert_int_equal(scn__cloud_code_error("quota", &ends), SCN_ERR_QUOTA);
    assert_true(ends);
    assert_int_equal(of_close(4029, NULL, 0).err, SCN_ERR_QUOTA);
    assert_int_equal(scn__cloud_code_error("revoked", &ends),
                     of_close(4001, NULL, 0).err);
    assert_true(ends);
    assert_int_equal(scn__cloud_code_error("expired", &ends),
                     of_close(4002, NULL, 0).err);
    assert_true(ends);
    assert_int_equal(scn__cloud_code_error("gone", &ends), SCN_ERR_NOT_FOUND);
    assert_false(ends);
    assert_int_equal(scn__cloud_code_error("too_big", &ends),
                     SCN_ERR_MESSAGE_TOO_BIG);
    assert_false(ends);
    assert_int_equal(scn__cloud_code_error("whatever", &ends), SCN_ERR_SERVER);
    assert_false(ends);
    assert_int_equal(scn__cloud_code_error(NULL, &ends), SCN_ERR_SERVER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transport_failures),
        cmocka_unit_test(test_http_401_variants),
        cmocka_unit_test(test_http_statuses),
        cmocka_unit_test(test_close_codes),
        cmocka_unit_test(test_close_retry_after),
        cmocka_unit_test(test_null_failure),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_dates),
        cmocka_unit_test(test_one_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
