/*
 * Text helpers of the UAV codecs: messages, Wi-Fi string rules, number
 * reading and writing that ignore the C locale, bounded output.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <scentience/error.h>

#include "uav_internal.h"

/* Saturation point of scn__uav_read_int: far beyond any int32 range check,
 * far below INT64_MAX so accumulating one more digit cannot overflow. */
#define INT_SATURATE 1000000000000000000LL

/* Significant digits a decimal may carry: below 2^53, so the mantissa is an
 * exact double and one division rounds correctly. */
#define DECIMAL_DIGITS_MAX 15

static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define POW10_MAX (sizeof pow10_exact / sizeof pow10_exact[0] - 1)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Appends digits to the mantissa; leading zeros are not significant. */
static bool accumulate(const char *d, size_t n, uint64_t *m, int *sig)
{
    for (size_t k = 0; k < n; k++) {
        if (*m == 0 && d[k] == '0')
            continue;
        if (++*sig > DECIMAL_DIGITS_MAX)
            return false;
        *m = *m * 10 + (uint64_t)(d[k] - '0');
    }
    return true;
}

void scn__uav_msg(char *msg, size_t msg_cap, const char *fmt, ...)
{
    va_list ap;

    if (msg == NULL || msg_cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, msg_cap, fmt, ap);
    va_end(ap);
}

int scn__uav_check_text(const char *cmd, const char *what, const char *s,
                        size_t max, bool secret, char *msg, size_t msg_cap)
{
    if (s == NULL) {
        scn__uav_msg(msg, msg_cap, "%s: %s is missing", cmd, what);
        return SCN_ERR_INVALID_ARG;
    }
    size_t n = strnlen(s, max + 1);
    if (n == 0) {
        scn__uav_msg(msg, msg_cap, "%s: %s is empty (1-%zu bytes)", cmd, what,
                     max);
        return SCN_ERR_INVALID_ARG;
    }
    if (n > max) {
        scn__uav_msg(msg, msg_cap, "%s: %s is longer than %zu bytes", cmd, what,
                     max);
        return SCN_ERR_OUT_OF_RANGE;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > ' ' && c < 0x7f)
            continue;
        /* The byte itself is only shown for non-secrets: a password must
         * not leak even one character into a log. */
        if (secret)
            scn__uav_msg(msg, msg_cap,
                         "%s: %s has a space or a character that is not "
                         "printable ASCII (byte %zu)",
                         cmd, what, i + 1);
        else
            scn__uav_msg(msg, msg_cap,
                         "%s: %s has a space or a character that is not "
                         "printable ASCII (0x%02x at byte %zu)",
                         cmd, what, c, i + 1);
        return SCN_ERR_INVALID_ARG;
    }
    return 0;
}

bool scn__uav_read_int(const char *s, size_t len, bool canonical, int64_t *out,
                       bool *overflow)
{
    size_t i = 0;
    bool neg = false;
    int64_t v = 0;

    *overflow = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i == len)
        return false;
    if (canonical && s[i] == '0' && (len - i > 1 || neg))
        return false;
    for (; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        int d = s[i] - '0';
        if (v > (INT_SATURATE - d) / 10) {
            v = INT_SATURATE;
            *overflow = true;
        } else {
            v = v * 10 + d;
        }
    }
    *out = neg ? -v : v;
    return true;
}

bool scn__uav_read_decimal(const char *s, size_t len, double *out,
                           bool *integral)
{
    size_t i = 0;
    bool neg = false;

    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_end = i;
    if (int_end == int_start)
        return false;
    size_t frac_start = i, frac_end = i;
    bool has_point = false;
    if (i < len && s[i] == '.') {
        has_point = true;
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_end = i;
        if (frac_end == frac_start)
            return false;
    }
    if (i != len)
        return false;
    /* Trailing zeros of the fraction carry no value ("36.0000"). */
    while (frac_end > frac_start && s[frac_end - 1] == '0')
        frac_end--;

    uint64_t m = 0;
    int sig = 0;
    if (!accumulate(s + int_start, int_end - int_start, &m, &sig) ||
        !accumulate(s + frac_start, frac_end - frac_start, &m, &sig))
        return false;
    size_t nfrac = frac_end - frac_start;
    if (nfrac > POW10_MAX)
        return false;
    double v = (double)m / pow10_exact[nfrac];
    *out = neg ? -v : v;
    *integral = !has_point;
    return true;
}

void scn__uav_out_init(scn_uav_out *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    if (buf != NULL && cap > 0)
        buf[0] = '\0';
}

void scn__uav_out_put(scn_uav_out *o, const char *s, size_t n)
{
    if (o->buf != NULL && o->len + n < o->cap) {
        memcpy(o->buf + o->len, s, n);
        o->buf[o->len + n] = '\0';
    }
    o->len += n;
}

void scn__uav_out_str(scn_uav_out *o, const char *s)
{
    scn__uav_out_put(o, s, strlen(s));
}

/* u in decimal at out (20 bytes at most); returns its length. Counted
 * first, then written in place: most state values are one digit. */
static size_t uint_text(char *out, uint64_t u)
{
    size_t n = 1;

    for (uint64_t t = u; t >= 10; t /= 10)
        n++;
    for (size_t i = n; i > 0; i--, u /= 10)
        out[i - 1] = (char)('0' + u % 10);
    return n;
}

void scn__uav_out_int(scn_uav_out *o, int64_t v)
{
    char text[21];
    size_t n = 0;

    if (v < 0)
        text[n++] = '-';
    /* Negating through uint64_t keeps INT64_MIN defined. */
    n += uint_text(text + n, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    scn__uav_out_put(o, text, n);
}

/*
 * The decimal scn__uav_read_decimal() reads as a, if there is one: the
 * fewest fraction digits k for which some m below 10^15 gives m / 10^k ==
 * a, computed exactly as the reader does. a * 10^k is within a unit of m,
 * so the three integers around it are the only candidates.
 */
static bool exact_decimal(double a, uint64_t *m, unsigned *k)
{
    for (unsigned d = 0; d <= POW10_MAX; d++) {
        double x = round(a * pow10_exact[d]);
        if (x > 1e15)
            break;
        for (double c = x > 0 ? x - 1 : x; c <= x + 1; c++) {
            if (c < 1e15 && c / pow10_exact[d] == a) {
                *m = (uint64_t)c;
                *k = d;
                return true;
            }
        }
    }
    return false;
}

/* |v| rounded half away from zero to two decimals, or fewer where 15
 * significant digits leave no room, as m / 10^k; false when v is not
 * finite or that is 10^15 or more. */
static bool round_decimal(double v, uint64_t *m, unsigned *k)
{
    double a = fabs(v), x;
    unsigned d = 2;

    if (!isfinite(v) || a >= 1e15)
        return false;
    while (d > 0 && round(a * pow10_exact[d]) >= 1e15)
        d--;
    x = round(a * pow10_exact[d]);
    if (x >= 1e15)
        return false;
    *m = (uint64_t)x;
    *k = d;
    return true;
}

bool scn__uav_round_decimal(double v, double *out)
{
    uint64_t m;
    unsigned k;

    if (!round_decimal(v, &m, &k))
        return false;
    *out = (v < 0 && m != 0 ? -1.0 : 1.0) * ((double)m / pow10_exact[k]);
    return true;
}

/*
 * exact_decimal() for the usual drone decimal, two fraction digits that
 * cannot be fewer (the last is not 0): below 1e13, two different
 * m / 100 are never the same double, so an m that gives a is the one;
 * and a decimal of fewer digits would give a as 10 or 100 times another
 * m, ending in 0. false leaves a to exact_decimal().
 */
static bool cents_decimal(double a, uint64_t *m, unsigned *k)
{
    double x;

    if (!(a < 1e13))
        return false;
    x = round(a * 100.0);
    if (x / 100.0 != a || (uint64_t)x % 10 == 0)
        return false;
    *m = (uint64_t)x;
    *k = 2;
    return true;
}

bool scn__uav_out_decimal(scn_uav_out *o, double v, unsigned min_frac)
{
    uint64_t m, scale = 1, f;
    unsigned k;
    /* Sign, 15 digits, the point, 22 fraction digits at most. */
    char text[48];
    size_t n = 0;

    if (!isfinite(v) || fabs(v) >= 1e15)
        return false;
    if (!cents_decimal(fabs(v), &m, &k) && !exact_decimal(fabs(v), &m, &k) &&
        !round_decimal(v, &m, &k))
        return false;
    for (unsigned i = 0; i < k; i++)
        scale *= 10;
    if (v < 0 && m != 0)
        text[n++] = '-';
    n += uint_text(text + n, m / scale);
    if (k == 0 && min_frac == 0) {
        scn__uav_out_put(o, text, n);
        return true;
    }
    text[n++] = '.';
    /* The fraction's digits with their leading zeros, then padding. */
    f = m % scale;
    for (unsigned i = k; i > 0; i--, f /= 10)
        text[n + i - 1] = (char)('0' + f % 10);
    n += k;
    scn__uav_out_put(o, text, n);
    for (unsigned i = k; i < min_frac; i++)
        scn__uav_out_put(o, "0", 1);
    return true;
}

int scn__uav_out_end(scn_uav_out *o, size_t *written)
{
    if (o->len < o->cap) {
        if (written != NULL)
            *written = o->len;
        return 0;
    }
    if (o->buf != NULL && o->cap > 0)
        o->buf[0] = '\0';
    if (written != NULL)
        *written = o->len + 1;
    return SCN_ERR_NOMEM;
}
