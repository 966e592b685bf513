/*
 * ISO-8601 UTC timestamps <-> nanoseconds since the Unix epoch. The civil
 * calendar arithmetic is done here rather than with timegm()/gmtime_r() so
 * the result never depends on TZ, the C library, or time_t's width.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <scentience/error.h>
#include <scentience/frame.h>

#define NS_PER_S  1000000000
#define NS_PER_MS 1000000

/* Proleptic Gregorian leap year. */
static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/*
 * Day number of March 1st of year y in a calendar whose years start in
 * March, so the leap day is the last day of its year. Years are offset by
 * 400 (one full Gregorian cycle) to keep every quantity positive for the
 * years we handle (>= -399), so plain integer division is floor division.
 */
static int64_t march1(int64_t y)
{
    int64_t yy = y + 400;
    return 365 * yy + yy / 4 - yy / 100 + yy / 400;
}

/* Days from the start of March to the start of month mp (0 = March). Month
 * lengths from March repeat as 31,30,31,30,31 every five months, which is
 * what (153 * mp + 2) / 5 counts. */
static int64_t days_before_month(int mp)
{
    return (153 * mp + 2) / 5;
}

/* Absolute day number of a civil date in the same shifted calendar. */
static int64_t civil_day(int64_t y, int m, int d)
{
    int mp = m >= 3 ? m - 3 : m + 9;
    return march1(m >= 3 ? y : y - 1) + days_before_month(mp) + d - 1;
}

static int64_t days_from_epoch(int64_t y, int m, int d)
{
    return civil_day(y, m, d) - civil_day(1970, 1, 1);
}

/* Inverse of days_from_epoch. */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t n = days + civil_day(1970, 1, 1);
    /* 146097 days per 400 years: the estimate is off by at most one. */
    int64_t yy = n * 400 / 146097 - 400;
    while (march1(yy + 1) <= n)
        yy++;
    while (march1(yy) > n)
        yy--;
    int doy = (int)(n - march1(yy));
    int mp = (5 * doy + 2) / 153;
    *d = doy - (int)days_before_month(mp) + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = *m <= 2 ? yy + 1 : yy;
}

/* Reads exactly n ASCII digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

int scn_timestamp_parse(const char *text, int64_t *ns)
{
    int y, mo, d, h, mi, s, frac = 0;
    const char *p = text;

    if (text == NULL || ns == NULL)
        return SCN_ERR_WRONG_TYPE;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
        !expect(&p, '-') || !digits(&p, 2, &d) || !expect(&p, 'T') ||
        !digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
        !expect(&p, ':') || !digits(&p, 2, &s))
        return SCN_ERR_WRONG_TYPE;
    if (*p == '.') {
        int n = 0;
        p++;
        while (p[n] >= '0' && p[n] <= '9') {
            if (n == 9)
                return SCN_ERR_WRONG_TYPE;
            frac = frac * 10 + (p[n] - '0');
            n++;
        }
        if (n == 0)
            return SCN_ERR_WRONG_TYPE;
        for (int i = n; i < 9; i++)
            frac *= 10;
        p += n;
    }
    /* UTC only: a device clock in another zone is a configuration error we
     * would rather surface than silently convert. */
    if (*p == 'Z')
        p++;
    else if (p[0] == '+' && p[1] == '0' && p[2] == '0' && p[3] == ':' &&
             p[4] == '0' && p[5] == '0')
        p += 6;
    else
        return SCN_ERR_WRONG_TYPE;
    if (*p != '\0')
        return SCN_ERR_WRONG_TYPE;

    /* Leap seconds (":60") are rejected: the epoch count has no slot for
     * them, and devices synchronised by NTP smear rather than emit them. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return SCN_ERR_WRONG_TYPE;

    int64_t secs = days_from_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    /* int64 nanoseconds span 1677-09-21T00:12:43.145224192Z to
     * 2262-04-11T23:47:16.854775807Z. */
    if (secs > INT64_MAX / NS_PER_S ||
        (secs == INT64_MAX / NS_PER_S && frac > INT64_MAX % NS_PER_S))
        return SCN_ERR_WRONG_TYPE;
    if (secs < INT64_MIN / NS_PER_S - 1 ||
        (secs == INT64_MIN / NS_PER_S - 1 &&
         frac < NS_PER_S + INT64_MIN % NS_PER_S))
        return SCN_ERR_WRONG_TYPE;
    /* For negative seconds go through secs + 1 so the product never
     * overflows at the bottom of the range. */
    if (secs >= 0)
        *ns = secs * NS_PER_S + frac;
    else
        *ns = (secs + 1) * NS_PER_S - (NS_PER_S - frac);
    return 0;
}

int scn_timestamp_format(int64_t ns, char *buf, size_t cap)
{
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" is 24 characters; years stay within
     * 1677..2262 for any int64. */
    if (buf == NULL || cap < 25)
        return SCN_ERR_INVALID_ARG;

    /* Truncating the partial first millisecond of the range (its start is
     * INT64_MIN = ...43.145224192) would write an instant before the range,
     * which the parser refuses: it is written as the first whole one. */
    int64_t sub_ms = ns % NS_PER_MS;
    if (sub_ms < 0 && ns - INT64_MIN < NS_PER_MS + sub_ms)
        ns += -sub_ms;

    /* Floor division so instants before 1970 format like the ones after. */
    int64_t secs = ns / NS_PER_S;
    int64_t sub = ns % NS_PER_S;
    if (sub < 0) {
        sub += NS_PER_S;
        secs--;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
             (int)(sub / 1000000));
    return 0;
}
