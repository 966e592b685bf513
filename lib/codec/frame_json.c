/*
 * JSON text side of the frame codec: the strict cJSON parse other messages
 * use (and its pre-parse check), the compact writer used for per-key raw
 * values, and scn_frame_to_json().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>
#include <scentience/json_writer.h>

#include "frame_internal.h"

/* ---- Strict parse ------------------------------------------------------ */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_number_char(unsigned char c)
{
    return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' ||
           c == 'E';
}

/* RFC 8259 number grammar. cJSON hands any run of number characters to
 * strtod, which also takes "+1", ".5", "01" and "1.". */
static bool number_ok(const unsigned char *p, size_t n)
{
    size_t i = 0, start;

    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0') {
        i++;
    } else if (i < n && p[i] >= '1' && p[i] <= '9') {
        while (i < n && is_digit(p[i]))
            i++;
    } else {
        return false;
    }
    if (i < n && p[i] == '.') {
        start = ++i;
        while (i < n && is_digit(p[i]))
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        start = i;
        while (i < n && is_digit(p[i]))
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const char *p)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

long scn__json_u_escape(const char *p, const char *end, size_t *len)
{
    long cp, lo;

    if (end - p < 6 || (cp = hex4(p + 2)) <= 0 ||
        (cp >= 0xDC00 && cp <= 0xDFFF))
        return -1;
    *len = 6;
    if (cp < 0xD800 || cp > 0xDBFF)
        return cp;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
        (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF)
        return -1;
    *len = 12;
    return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
}

/*
 * One pass over the text for what cJSON lets through or handles badly:
 * NUL and control bytes (cJSON treats every byte <= 0x20 as whitespace and
 * copies control bytes into strings), "\u" escapes that are not four hex
 * digits of a character other than U+0000 (cJSON reads bad digits as 0,
 * and a 0 silently cuts the string short), lenient numbers, and nesting,
 * which is checked here so that cJSON never recurses deeper than
 * SCN_FRAME_MAX_DEPTH.
 */
int scn__json_prescan(const char *json, size_t len)
{
    const unsigned char *p = (const unsigned char *)json;
    size_t i = 0;
    int depth = 0;

    while (i < len) {
        unsigned char c = p[i];
        if (c == '"') {
            for (i++;; i++) {
                if (i >= len)
                    return SCN_ERR_MALFORMED;
                c = p[i];
                if (c == '"')
                    break;
                if (c < 0x20)
                    return SCN_ERR_MALFORMED;
                if (c == '\\') {
                    size_t n;
                    if (i + 1 >= len)
                        return SCN_ERR_MALFORMED;
                    if (p[i + 1] != 'u') {
                        i++;
                        continue;
                    }
                    /* cJSON reads a bad hex digit as 0 and cuts the
                     * string there: check all of them here. */
                    if (scn__json_u_escape(json + i, json + len, &n) < 0)
                        return SCN_ERR_MALFORMED;
                    i += n - 1;
                }
            }
            i++;
        } else if (c == '{' || c == '[') {
            if (++depth > SCN_FRAME_MAX_DEPTH)
                return SCN_ERR_TOO_DEEP;
            i++;
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
            i++;
        } else if (is_number_char(c) && c != 'e' && c != 'E') {
            size_t start = i;
            while (i < len && is_number_char(p[i]))
                i++;
            if (!number_ok(p + start, i - start))
                return SCN_ERR_MALFORMED;
        } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
                   c >= 0x80) {
            /* Outside strings only ASCII is valid; this also refuses a
             * byte order mark, which RFC 8259 forbids on the wire. */
            return SCN_ERR_MALFORMED;
        } else {
            i++;
        }
    }
    return 0;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int scn__frame_json_parse(const char *json, size_t len, cJSON **out)
{
    const char *end = NULL;
    cJSON *root;
    int rc;

    if (out == NULL || (json == NULL && len > 0))
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (len == 0)
        return SCN_ERR_MALFORMED;
    rc = scn__json_prescan(json, len);
    if (rc != 0)
        return rc;
    /* require_null_terminated would read json[len]; check the tail
     * ourselves. A NULL result may also be cJSON running out of memory,
     * which it does not tell apart from bad syntax. */
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root == NULL)
        return SCN_ERR_MALFORMED;
    for (const char *p = end; p < json + len; p++) {
        if (!is_ws(*p)) {
            cJSON_Delete(root);
            return SCN_ERR_MALFORMED;
        }
    }
    *out = root;
    return 0;
}

/* ---- Writer ------------------------------------------------------------ */

void scn__jw_put_slow(scn_jw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    if (w->len > w->cap || n > w->cap - w->len) {
        if (!w->grow) {
            w->len += n;
            return;
        }
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->oom = true;
                return;
            }
            cap *= 2;
        }
        char *buf = realloc(w->buf, cap);
        if (buf == NULL) {
            w->oom = true;
            return;
        }
        w->buf = buf;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Length of the valid UTF-8 sequence at p, or 0. Reading stops at the
 * first byte that is not a continuation byte, so a NUL is never passed. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned char c = p[0];

    if (c < 0x80)
        return 1;
    if (c < 0xC2) /* stray continuation, or overlong 2-byte form */
        return 0;
    if ((p[1] & 0xC0) != 0x80)
        return 0;
    if (c < 0xE0)
        return 2;
    if ((c == 0xE0 && p[1] < 0xA0) || /* overlong */
        (c == 0xED && p[1] >= 0xA0))  /* UTF-16 surrogate */
        return 0;
    if ((p[2] & 0xC0) != 0x80)
        return 0;
    if (c < 0xF0)
        return 3;
    if (c > 0xF4 || (c == 0xF0 && p[1] < 0x90) || /* overlong */
        (c == 0xF4 && p[1] >= 0x90))              /* above U+10FFFF */
        return 0;
    if ((p[3] & 0xC0) != 0x80)
        return 0;
    return 4;
}

size_t scn__utf8_seq_n(const unsigned char *p, const unsigned char *end)
{
    size_t need;

    if (p[0] < 0x80)
        return 1;
    /* A sequence cut by end is invalid; otherwise utf8_seq() reads only
     * bytes of the sequence its lead byte announces. */
    need = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    if ((size_t)(end - p) < need)
        return 0;
    return utf8_seq(p);
}

bool scn__utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

void scn__jw_string_n(scn_jw *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    const unsigned char *run = p;

    scn__jw_put(w, "\"", 1);
    for (; p < end; p++) {
        unsigned char c;
        /* Runs of plain ASCII, eight bytes at a time. */
        p += scn_json_plain_len((const char *)p, (const char *)end);
        if (p >= end)
            break;
        c = *p;
        if (c >= 0x80) {
            /* Valid UTF-8 is written as it is; a byte that is not gets
             * U+FFFD, so the output stays valid JSON in valid UTF-8. */
            size_t n = scn__utf8_seq_n(p, end);
            if (n) {
                p += n - 1;
                continue;
            }
            scn__jw_put(w, (const char *)run, (size_t)(p - run));
            scn__jw_put(w, "\\ufffd", 6);
            run = p + 1;
            continue;
        }
        scn__jw_put(w, (const char *)run, (size_t)(p - run));
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
        case '\\':
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
            break;
        }
        scn__jw_put(w, esc, n);
        run = p + 1;
    }
    scn__jw_put(w, (const char *)run, (size_t)(p - run));
    scn__jw_put(w, "\"", 1);
}

int scn__jw_string(scn_jw *w, const char *s)
{
    if (!scn__utf8_valid(s))
        return SCN_ERR_MALFORMED;
    scn__jw_string_n(w, s, strlen(s));
    return 0;
}

/* Writes the unsigned decimal u into out (no terminator); returns its
 * length. */
static size_t put_u64(char *out, uint64_t u)
{
    char digits[24];
    size_t nd = 0, n = 0;

    do {
        digits[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (nd)
        out[n++] = digits[--nd];
    return n;
}

/*
 * Short decimals (sensor readings like 6.23 or 4.5) without printf: the
 * first d in 1..9 for which m = round(x * 10^d) gives m / 10^d == x. Both
 * m and 10^d are exact doubles, so the division is the correctly rounded
 * value of the decimal m·10^-d, which therefore reads back as x: the text
 * round-trips. Returns 0 when no such short form exists (printf path).
 */
static size_t short_decimal(double x, char *out)
{
    static const double pow10[] = {1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double ax = fabs(x);
    size_t n = 0;

    if (!(ax >= 1e-4 && ax < 1e6))
        return 0;
    for (int d = 0; d < 9; d++) {
        double m = nearbyint(ax * pow10[d]);
        if (m / pow10[d] != ax)
            continue;
        uint64_t u = (uint64_t)m, scale = 1;
        for (int i = 0; i <= d; i++)
            scale *= 10;
        if (signbit(x))
            out[n++] = '-';
        n += put_u64(out + n, u / scale);
        out[n++] = '.';
        /* Fraction digits with their leading zeros; trailing zeros cannot
         * occur, or a smaller d would have matched. */
        char frac[16];
        size_t nf = put_u64(frac, u % scale);
        for (size_t z = nf; z < (size_t)d + 1; z++)
            out[n++] = '0';
        memcpy(out + n, frac, nf);
        return n + nf;
    }
    return 0;
}

void scn__jw_number(scn_jw *w, double x)
{
    char tmp[48];
    size_t n = 0;

    if (x > -9007199254740992.0 && x < 9007199254740992.0 &&
        (double)(int64_t)x == x) {
        /* Exact integer: digits by hand, cheaper than printf. */
        char digits[24];
        size_t nd = 0;
        uint64_t u = x < 0 ? (uint64_t)(-(int64_t)x) : (uint64_t)x;
        do {
            digits[nd++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (signbit(x))
            tmp[n++] = '-';
        while (nd)
            tmp[n++] = digits[--nd];
        scn__jw_put(w, tmp, n);
        return;
    }

    n = short_decimal(x, tmp);
    if (n) {
        scn__jw_put(w, tmp, n);
        return;
    }

    char g[40];
    for (int prec = 15;; prec++) {
        snprintf(g, sizeof g, "%.*g", prec, x);
        if (prec == 17 || strtod(g, NULL) == x)
            break;
    }
    /* The application may have set LC_NUMERIC: whatever %g printed as the
     * decimal point (one or more bytes) becomes '.'. */
    bool in_point = false;
    for (const char *p = g; *p; p++) {
        char c = *p;
        if (is_digit((unsigned char)c) || c == '-' || c == '+' || c == 'e') {
            tmp[n++] = c;
            in_point = false;
        } else if (!in_point) {
            tmp[n++] = '.';
            in_point = true;
        }
    }
    scn__jw_put(w, tmp, n);
}

/* ---- The public pieces ------------------------------------------------- */

/* A piece written whole or not at all (json_writer.h). */
static size_t piece_end(const scn_jw *w, char *out, size_t cap)
{
    if (cap > 0)
        out[w->len < cap ? w->len : 0] = '\0';
    return w->len;
}

size_t scn_json_write_string(char *out, size_t cap, const char *s, size_t len)
{
    scn_jw w = {.buf = out, .cap = cap};

    if (out == NULL)
        w.cap = 0;
    if (s == NULL) {
        s = "";
        len = 0;
    }
    scn__jw_string_n(&w, s, len);
    return piece_end(&w, out, w.cap);
}

size_t scn_json_write_number(char *out, size_t cap, double x)
{
    scn_jw w = {.buf = out, .cap = cap};

    if (out == NULL)
        w.cap = 0;
    if (isfinite(x))
        scn__jw_number(&w, x);
    else
        scn__jw_put(&w, "null", 4);
    return piece_end(&w, out, w.cap);
}

/* ---- Serialisation ----------------------------------------------------- */

/*
 * The whole text when every name is plain (the usual frame) and it fits:
 * one length pass, then the pieces copied without a capacity check each.
 * Returns false, having written nothing, when the general writer must do
 * it.
 */
static bool frame_write_plain(scn_jw *w, const scn_frame *frame)
{
    size_t total = 2 + (frame->nkeys ? frame->nkeys - 1 : 0);

    for (size_t i = 0; i < frame->nkeys; i++) {
        const scn_frame_key *k = &frame->keys[i];
        if (!k->plain_name)
            return false;
        total += k->name_len + k->raw_len + 3; /* "name": */
    }
    if (w->oom || w->len > w->cap || total > w->cap - w->len)
        return false;
    char *o = w->buf + w->len;
    *o++ = '{';
    for (size_t i = 0; i < frame->nkeys; i++) {
        const scn_frame_key *k = &frame->keys[i];
        if (i > 0)
            *o++ = ',';
        *o++ = '"';
        memcpy(o, frame->names + k->name_off, k->name_len);
        o += k->name_len;
        *o++ = '"';
        *o++ = ':';
        memcpy(o, frame->raw + k->raw_off, k->raw_len);
        o += k->raw_len;
    }
    *o++ = '}';
    w->len += total;
    return true;
}

size_t scn__frame_write_max(const scn_frame *frame)
{
    size_t total = 2 + (frame->nkeys ? frame->nkeys - 1 : 0);

    /* An escaped name takes at most 6 bytes a byte ("\u00XX"). */
    for (size_t i = 0; i < frame->nkeys; i++) {
        const scn_frame_key *k = &frame->keys[i];
        total += k->raw_len + 3 + (k->plain_name ? 1 : 6) * k->name_len;
    }
    return total;
}

void scn__frame_write(scn_jw *w, const scn_frame *frame)
{
    if (frame_write_plain(w, frame))
        return;
    scn__jw_put(w, "{", 1);
    for (size_t i = 0; i < frame->nkeys; i++) {
        const scn_frame_key *k = &frame->keys[i];
        if (i > 0)
            scn__jw_put(w, ",", 1);
        /* Names were validated as UTF-8 when parsed. */
        if (k->plain_name) {
            scn__jw_put(w, "\"", 1);
            scn__jw_put(w, frame->names + k->name_off, k->name_len);
            scn__jw_put(w, "\":", 2);
        } else {
            scn__jw_string_n(w, frame->names + k->name_off, k->name_len);
            scn__jw_put(w, ":", 1);
        }
        scn__jw_put(w, frame->raw + k->raw_off, k->raw_len);
    }
    scn__jw_put(w, "}", 1);
}

int scn_frame_to_json(const scn_frame *frame, char *buf, size_t cap,
                      size_t *written)
{
    scn_jw w = {.buf = buf, .cap = cap};

    if (frame == NULL || written == NULL || (buf == NULL && cap > 0))
        return SCN_ERR_INVALID_ARG;
    scn__frame_write(&w, frame);
    if (w.len >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        *written = w.len + 1;
        return SCN_ERR_NOMEM;
    }
    buf[w.len] = '\0';
    *written = w.len;
    return 0;
}
