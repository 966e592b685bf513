/* printf's "%.Nf" and "%llu" without printf (fixed.h). */
#include "fixed.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint64_t pow10[] = {1, 10, 100, 1000};

/* |x| * 10^digits rounded half to even, for |x| below 1e9. */
static uint64_t scaled(double x, unsigned digits)
{
    uint64_t m, rest, half, q;
    unsigned s;
    int e;

    /* |x| = m * 2^e exactly with m below 2^53 and, below 1e9 (2^30), e
     * negative: |x| * 10^digits = m * 10^digits / 2^-e, whose numerator
     * stays below 2^63. */
    m = (uint64_t)ldexp(frexp(fabs(x), &e), 53);
    e -= 53;
    m *= pow10[digits];
    if (-e >= 64)
        return 0; /* below 2^63 / 2^64: less than a half */
    s = (unsigned)-e;
    rest = m & ((UINT64_C(1) << s) - 1);
    half = UINT64_C(1) << (s - 1);
    q = m >> s;
    if (rest > half || (rest == half && (q & 1)))
        q++;
    return q;
}

size_t uint_text(char *buf, uint64_t u)
{
    char digits[20];
    size_t w = sizeof digits;

    do
        digits[--w] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    memcpy(buf, digits + w, sizeof digits - w);
    return sizeof digits - w;
}

size_t fixed_text(char *buf, size_t cap, double x, unsigned digits)
{
    char text[32];
    size_t n = 0;
    uint64_t q, f;

    if (digits > 3 || !(fabs(x) < 1e9))
        return (size_t)snprintf(buf, cap, "%.*f", (int)digits, x);
    q = scaled(x, digits);
    f = q % pow10[digits];
    if (signbit(x))
        text[n++] = '-';
    n += uint_text(text + n, q / pow10[digits]);
    if (digits > 0) {
        text[n++] = '.';
        for (unsigned i = digits; i > 0; i--, f /= 10)
            text[n + i - 1] = (char)('0' + f % 10);
        n += digits;
    }
    if (cap > 0) {
        size_t k = n < cap ? n : cap - 1;
        memcpy(buf, text, k);
        buf[k] = '\0';
    }
    return n;
}
