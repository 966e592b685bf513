/*
 * Text from a peer made safe for a log line or a terminal: a hostile
 * device, drone or cloud must not be able to forge a log line (CR, LF),
 * drive the terminal (ESC, C1 controls, BEL) or reorder what is shown
 * (bidirectional overrides).
 */
#include <scentience/log.h>

#include <stdint.h>
#include <stdio.h>

typedef struct esc_out {
    char *buf;
    size_t cap;
    size_t written; /* bytes stored, always below cap (room for the NUL) */
    size_t len;     /* the size the whole text needs */
    int full;       /* something did not fit: store nothing more */
} esc_out;

static void put(esc_out *o, const char *s, size_t n)
{
    if (!o->full && o->written + n < o->cap) {
        for (size_t i = 0; i < n; i++)
            o->buf[o->written + i] = s[i];
        o->written += n;
    } else {
        o->full = 1; /* never half an escape, nor anything after it */
    }
    o->len += n;
}

/* Length of the valid UTF-8 sequence at s[0..len) (2-4 bytes, shortest
 * form, no surrogates, at most U+10FFFF) and its code point; 0 when the
 * bytes there are not one. */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
    size_t n, i;
    uint32_t c, min;

    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2, c = s[0] & 0x1Fu, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3, c = s[0] & 0x0Fu, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4, c = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* Code points a terminal acts on rather than shows: C1 controls (8-bit
 * CSI, OSC...), bidirectional controls, line and paragraph separators. */
static int invisible(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E ||
           c == 0x200F || (c >= 0x2028 && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

size_t scn_escape_text(char *out, size_t cap, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    esc_out o = {out, cap, 0, 0, 0};
    char e[12];
    size_t i = 0, n;
    uint32_t cp;

    while (s && i < len) {
        unsigned char b = s[i];

        if (b >= 0x20 && b < 0x7F && b != '\\') {
            put(&o, (const char *)&s[i], 1);
            i++;
        } else if (b == '\\') {
            put(&o, "\\\\", 2);
            i++;
        } else if (b == '\n' || b == '\r' || b == '\t') {
            e[0] = '\\';
            e[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : 't';
            put(&o, e, 2);
            i++;
        } else if (b >= 0x80 && (n = utf8_seq(s + i, len - i, &cp)) != 0) {
            if (invisible(cp))
                put(&o, e,
                    (size_t)snprintf(e, sizeof(e), "\\u%04x", (unsigned)cp));
            else
                put(&o, (const char *)&s[i], n);
            i += n;
        } else {
            /* Other controls, DEL, NUL and bytes that are not UTF-8. */
            put(&o, e, (size_t)snprintf(e, sizeof(e), "\\x%02x", b));
            i++;
        }
    }
    if (cap)
        out[o.written] = '\0';
    return o.len;
}
