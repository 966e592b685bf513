/*
 * JSON number tokens to doubles for the frame tokenizer: RFC 8259 grammar,
 * an exact fast path for short decimals, strtod() for the rest, and
 * whether the token already is the canonical text scn__jw_number() prints.
 */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame_internal.h"

/* 2^53: every integer up to here is exact in a double. */
#define EXACT_LIMIT (UINT64_C(1) << 53)

/* Exponents beyond this go to strtod anyway; clamping keeps the sum of
 * exponent and scale from overflowing on absurd inputs. */
#define EXP_CLAMP 100000

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Tokens longer than this (absurd for a reading) are copied to the heap
 * for strtod() rather than to the stack. */
#define STACK_COPY 64

/* strtod() on a NUL-terminated copy, with '.' turned into the locale's
 * decimal point, which strtod() insists on (cJSON does the same). NaN
 * when the copy cannot be made. */
static double slow_strtod(const char *p, size_t n)
{
    char stack[STACK_COPY + 16], *buf = stack;
    const char *dp = localeconv()->decimal_point;
    size_t dpn = dp ? strlen(dp) : 0, o = 0;
    double x;

    if (dpn == 0 || dpn > 8) { /* no real locale has these */
        dp = ".";
        dpn = 1;
    }
    if (n > STACK_COPY && (buf = malloc(n + dpn + 1)) == NULL)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            memcpy(buf + o, dp, dpn);
            o += dpn;
        } else {
            buf[o++] = p[i];
        }
    }
    buf[o] = '\0';
    x = strtod(buf, NULL);
    if (buf != stack)
        free(buf);
    return x;
}

size_t scn__json_number(const char *p, const char *end, double *value,
                        bool *canonical)
{
    /* Exact powers of ten: every one up to 1e22 is a double. */
    static const double pow10[] = {
        1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    const char *s = p;
    uint64_t m = 0;
    int nd = 0; /* significant digits in m (after leading zeros) */
    int int_digits = 0, frac_digits = 0, frac_lead_zeros = 0;
    long exp = 0;
    bool neg = false, has_exp = false, int_zero = false;
    double x;
    size_t n;

    /* The common shape first; the rest of this reader gives the same
     * answer for it, only slower. */
    if (p < end && (n = scn__json_number_short(p, end, value, canonical)) != 0)
        return n;
    if (s < end && *s == '-') {
        neg = true;
        s++;
    }
    if (s >= end || !is_digit(*s))
        return 0;
    if (*s == '0') {
        int_zero = true;
        int_digits = 1;
        s++;
    } else {
        for (; s < end && is_digit(*s); s++, int_digits++) {
            if (nd < 19)
                m = m * 10 + (uint64_t)(*s - '0');
            nd++;
        }
    }
    if (s < end && *s == '.') {
        const char *f = ++s;
        for (; s < end && is_digit(*s); s++) {
            if (m == 0 && nd == 0 && *s == '0') {
                frac_lead_zeros++;
            } else {
                if (nd < 19)
                    m = m * 10 + (uint64_t)(*s - '0');
                nd++;
            }
        }
        frac_digits = (int)(s - f);
        if (frac_digits == 0)
            return 0;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        bool eneg = false;
        const char *e;
        has_exp = true;
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        e = s;
        for (; s < end && is_digit(*s); s++)
            if (exp < EXP_CLAMP)
                exp = exp * 10 + (*s - '0');
        if (s == e)
            return 0;
        if (eneg)
            exp = -exp;
    }

    /* Canonical when scn__jw_number() would print these very characters:
     * integers of at most 15 digits (below 2^53, printed as integers),
     * and plain decimals in [1e-4, 1e6) with 1 to 9 fraction digits, the
     * last not 0, and at most 15 significant digits. Two different
     * decimals of 15 or fewer digits never read as the same double, so no
     * shorter form exists for the writer to find instead. */
    if (has_exp)
        *canonical = false;
    else if (frac_digits == 0)
        *canonical = int_digits <= 15;
    else
        *canonical = frac_digits <= 9 && s[-1] != '0' && int_digits <= 6 &&
                     nd <= 15 && (!int_zero || frac_lead_zeros <= 3);

    /* Exact fast path (Clinger): m and 10^|e| are both exact doubles, so
     * one multiplication or division rounds correctly, like strtod(). */
    long e10 = exp - frac_digits;
    if (m == 0) {
        x = 0.0;
    } else if (nd <= 19 && m <= EXACT_LIMIT && e10 >= -22 && e10 <= 22) {
        x = (double)m;
        x = e10 < 0 ? x / pow10[-e10] : x * pow10[e10];
    } else {
        x = slow_strtod(p + neg, (size_t)(s - p) - neg);
    }
    *value = neg ? -x : x;
    return (size_t)(s - p);
}
