/*
 * Device-frame codec internals: the frame layout, the single-pass frame
 * tokenizer the session routes inbound messages with, the number reader,
 * the cJSON-based strict parse other JSON messages use, and the compact
 * JSON writer shared by parsing and scn_frame_to_json().
 */
#ifndef SCN_FRAME_INTERNAL_H
#define SCN_FRAME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <scentience/error.h>
#include <scentience/frame.h>

/* Open-addressing index of key names; twice SCN_FRAME_MAX_KEYS keeps the
 * load factor at or below one half. Must be a power of two. */
#define SCN_FRAME_SLOTS (2 * SCN_FRAME_MAX_KEYS)

/* Offsets rather than pointers: the buffers may move while a parse grows
 * them, and offsets survive that. */
typedef struct scn_frame_key {
    size_t name_off; /* decoded name, NUL-terminated, in names */
    size_t name_len;
    size_t raw_off; /* value as compact JSON, NUL-terminated, in raw */
    size_t raw_len;
    uint16_t slot;   /* its index slot, so a reset clears only used slots */
    bool plain_name; /* received without escapes: written back as is */
    scn_key_kind kind;
} scn_frame_key;

/*
 * What the previous parses learnt about key order: devices send the same
 * keys in the same order in every frame, so the key at position i is
 * usually the one memo[i] names, and then its index slot and class are
 * known without hashing, probing or classifying. memo[0..memo_n) is
 * always the start of one sequence of distinct names together with the
 * slot each got when inserted in that order into an empty index, so a hit
 * at i, after hits or fresh entries at 0..i-1, gives exactly the slot the
 * probe would find, and it is free: the name is no duplicate. Only names
 * read without escapes are kept (then their text in the frame is their
 * bytes), up to SCN_FRAME_MEMO_NAME bytes. The name is kept with its
 * closing quote, zero-padded to a fixed size, so that checking and copying
 * it take a few word operations and no loop.
 */
#define SCN_FRAME_MEMO_KEYS 64
#define SCN_FRAME_MEMO_TEXT 32
#define SCN_FRAME_MEMO_NAME (SCN_FRAME_MEMO_TEXT - 1)

typedef struct scn_frame_memo {
    char text[SCN_FRAME_MEMO_TEXT]; /* name, '"', zeros */
    uint8_t len;
    uint8_t kind; /* scn_key_kind */
    uint8_t index;
    uint8_t channel;
    uint16_t slot;
} scn_frame_memo;

/* The absent value of an offset (uid, timestamp, type). */
#define SCN_FRAME_NO_OFF SIZE_MAX

/* What a "type" member made of an inbound message (see the parse below). */
typedef enum scn_frame_route {
    SCN_ROUTE_INVALID,  /* not a strict JSON object: rc says why */
    SCN_ROUTE_FRAME,    /* no "type": a device frame, rc its verdict */
    SCN_ROUTE_MESSAGE,  /* a string "type": a typed message */
    SCN_ROUTE_BAD_TYPE, /* a "type" that is not a string */
} scn_frame_route;

/*
 * Everything a parse produces lives in storage owned by the frame and
 * reused by the next parse: the fixed arrays below and two buffers that
 * only grow. A typical frame therefore costs no allocation at all.
 */
struct scn_frame {
    size_t uid_off;       /* in names, or SCN_FRAME_NO_OFF */
    size_t timestamp_off; /* in names, or SCN_FRAME_NO_OFF */
    size_t type_off;      /* first top-level string "type", in names */
    int64_t timestamp_ns;
    uint64_t seq;
    bool has_seq;
    uint32_t field_mask;    /* bit f: field f present */
    uint64_t compound_mask; /* bit 3 * c + channel: compound present */
    double fields[SCN_FIELD_COUNT];
    double compounds[SCN_COMPOUND_COUNT][3];
    size_t nkeys;
    scn_frame_key keys[SCN_FRAME_MAX_KEYS];
    uint16_t slots[SCN_FRAME_SLOTS]; /* key index + 1; 0 is free */
    /* Outlives clearing: it is about the sender, not one frame. */
    size_t memo_n;
    scn_frame_memo memo[SCN_FRAME_MEMO_KEYS];
    /* Key names and the decoded strings the typed view needs. */
    char *names;
    size_t names_len, names_cap;
    /* Every key's value as compact JSON, produced while parsing so const
     * accessors never write (concurrent readers are safe) and pointers
     * handed out never move until the next parse. */
    char *raw;
    size_t raw_len, raw_cap;
};

/* Empties the frame, keeping its storage. */
void scn__frame_clear(scn_frame *f);

/*
 * The parse the session does on every inbound message: one strict pass
 * over json[0..len) that fills the frame and finds the first top-level
 * "type". Returns 0 or an error code, and *route:
 * - SCN_ROUTE_INVALID: the text is not one strict JSON object; the code is
 *   SCN_ERR_MALFORMED or SCN_ERR_TOO_DEEP (the one scn__frame_json_parse()
 *   gives), SCN_ERR_INVALID_ARG or SCN_ERR_NOMEM.
 * - SCN_ROUTE_FRAME: no "type"; the code is what scn_frame_parse() returns.
 * - SCN_ROUTE_MESSAGE: *type is the decoded "type" string (valid until the
 *   next parse into f); returns 0. Frame rules (UID, key limit, encoding,
 *   finite numbers) do not apply to messages.
 * - SCN_ROUTE_BAD_TYPE: returns SCN_ERR_WRONG_TYPE.
 * Only SCN_ROUTE_FRAME with 0 leaves the frame filled; otherwise it is
 * empty. type may be NULL.
 */
int scn__frame_parse_inbound(scn_frame *f, const char *json, size_t len,
                             scn_frame_route *route, const char **type);

/* Hash of a key name, shared by the index writer and its readers. Eight
 * bytes per multiply rather than FNV's one: byte-wise hashing was the
 * largest cost of the whole parse. Every byte counts, so names that
 * differ only in the middle ("sensor_1_x", "sensor_2_x") still spread. */
static inline uint32_t scn_frame_name_hash(const char *s, size_t len)
{
    const uint64_t k = UINT64_C(0x9E3779B97F4A7C15);
    uint64_t h = len * k, w;

    for (; len >= 8; s += 8, len -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
    }
    if (len > 0) {
        w = 0;
        for (size_t i = 0; i < len; i++)
            w |= (uint64_t)(unsigned char)s[i] << (8 * i);
        h = (h ^ w) * k;
    }
    /* The high half mixes every input bit; slots take its low bits. */
    return (uint32_t)(h >> 32);
}

/* The index slot holding the key name[0..len), or the free slot where it
 * would go. */
static inline size_t scn_frame_probe(const scn_frame *f, const char *name,
                                     size_t len)
{
    size_t slot = scn_frame_name_hash(name, len) & (SCN_FRAME_SLOTS - 1);

    for (;;) {
        const scn_frame_key *k;
        if (f->slots[slot] == 0)
            return slot;
        k = &f->keys[f->slots[slot] - 1];
        if (k->name_len == len &&
            memcmp(f->names + k->name_off, name, len) == 0)
            return slot;
        slot = (slot + 1) & (SCN_FRAME_SLOTS - 1);
    }
}

/* A byte that stands for itself in a JSON string body: not '"' or '\\',
 * not a control byte, and ASCII (longer UTF-8 sequences need checking). */
static inline bool scn_json_plain(unsigned char ch)
{
    return ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\';
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SCN_SWAR_CTZ 1
#else
#define SCN_SWAR_CTZ 0
#endif

/*
 * The bytes of the 8-byte word w that are not scn_json_plain(), as their
 * high bits: a byte's high bit ends up set when the byte is below 0x20
 * (w - 0x20 wraps), equal to '"' or '\\' (its XOR with that byte is 0,
 * minus 1 wraps) or at least 0x80 (w itself). A borrow can also flag
 * bytes above a flagged one, never below it, so the lowest flagged byte
 * is the first special one.
 */
static inline uint64_t scn_json_special_bits(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);

    return ((w - ones * 0x20) | ((w ^ (ones * '"')) - ones) |
            ((w ^ (ones * '\\')) - ones) | w) &
           (ones << 7);
}

/*
 * How many bytes at s[0..end) are scn_json_plain(), eight at a time: the
 * string scan was the tokenizer's busiest loop. ctz finds the first
 * special byte of a word only where the lowest byte is the first in
 * memory (little-endian); elsewhere, or with ctz false (tests), a byte
 * loop looks through that word.
 */
static inline size_t scn_json_plain_span(const char *s, const char *end,
                                         bool ctz)
{
    const char *p = s;

    while (end - p >= 8) {
        uint64_t w, m;
        memcpy(&w, p, 8); /* unaligned is fine for memcpy */
        m = scn_json_special_bits(w);
        if (m != 0) {
#if SCN_SWAR_CTZ
            if (ctz)
                return (size_t)(p - s) + ((unsigned)__builtin_ctzll(m) >> 3);
#else
            (void)ctz;
#endif
            break;
        }
        p += 8;
    }
    while (p < end && scn_json_plain((unsigned char)*p))
        p++;
    return (size_t)(p - s);
}

static inline size_t scn_json_plain_len(const char *s, const char *end)
{
    return scn_json_plain_span(s, end, SCN_SWAR_CTZ != 0);
}

/*
 * Classifies a key name (case-sensitive) as scn_frame_parse() does; for
 * fields and compounds *index is the scn_field or scn_compound and
 * *channel the sensor channel.
 */
scn_key_kind scn__frame_classify(const char *name, size_t len, int *index,
                                 scn_channel *channel);

/*
 * Reads the RFC 8259 number at p[0..end): the longest prefix that is one.
 * Returns its length (0 when p does not start a number), *value (+-inf
 * when out of double's range; NaN only when a very long text could not be
 * copied for strtod(), out of memory) and *canonical: whether the text is
 * already what scn__jw_number() prints for *value, so it can be copied as
 * is.
 */
size_t scn__json_number(const char *p, const char *end, double *value,
                        bool *canonical);

/* At most this many digits in all: the mantissa stays below 2^53, so the
 * short path below is exact and needs no digit counting. */
#define SCN_JSON_SHORT_DIGITS 15

/*
 * The shape nearly every reading has: an integer part without a leading
 * zero (or "0"), an optional fraction, no exponent, 15 digits at most in
 * all. Returns its length with *value and *canonical exactly as the full
 * scn__json_number() gives them, or 0 to leave the text to that reader,
 * which handles everything (and refuses what is not a number). Inline:
 * the tokenizer reads two dozen numbers per frame.
 */
static inline size_t scn__json_number_short(const char *p, const char *end,
                                            double *value, bool *canonical)
{
    const char *s = p + (*p == '-'), *d = s;
    uint64_t m = 0;
    size_t ni, nf = 0;

    while (s < end && (unsigned char)(*s - '0') < 10)
        m = m * 10 + (uint64_t)(*s++ - '0');
    ni = (size_t)(s - d);
    if (ni == 0 || ni > SCN_JSON_SHORT_DIGITS || (ni > 1 && *d == '0'))
        return 0;
    if (s < end && *s == '.') {
        const char *f = ++s;
        while (s < end && (unsigned char)(*s - '0') < 10)
            m = m * 10 + (uint64_t)(*s++ - '0');
        nf = (size_t)(s - f);
        if (nf == 0 || ni + nf > SCN_JSON_SHORT_DIGITS)
            return 0;
    }
    if (s < end && (*s == 'e' || *s == 'E'))
        return 0;
    if (nf == 0) {
        *canonical = true;
    } else {
        /* As scn__json_number(): no trailing zero, at most 9 fraction
         * digits and 6 integer digits, below 1 at most 3 leading zeros. */
        size_t lead = 0;
        if (*d == '0')
            while (lead < nf && d[2 + lead] == '0')
                lead++;
        *canonical = nf <= 9 && s[-1] != '0' && ni <= 6 && lead <= 3;
    }
    /* Exact powers of ten: m and 10^nf are exact doubles, so the one
     * division rounds correctly, like strtod(). */
    static const double pow10[SCN_JSON_SHORT_DIGITS + 1] = {
        1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    };
    double x = nf ? (double)m / pow10[nf] : (double)m;
    *value = *p == '-' ? -x : x;
    return (size_t)(s - p);
}

/*
 * The "\u" escape at p (p[0] is the backslash, p[1] 'u'), text ending at
 * end: four hex digits, or a UTF-16 surrogate pair written as two escapes.
 * Returns the code point with *len the escape's length (6 or 12), or -1:
 * a digit that is not hex, a lone or reversed surrogate, or U+0000, which
 * no decoded string may hold (it would end the C string short, so the
 * text after it would be read by no one while it stays in the message).
 * Every JSON string the library decodes goes through it.
 */
long scn__json_u_escape(const char *p, const char *end, size_t *len);

/*
 * The strictness pass scn__frame_json_parse() runs before cJSON: control
 * bytes, a "\u" escape scn__json_u_escape() refuses, lenient numbers, depth
 * beyond SCN_FRAME_MAX_DEPTH, anything but ASCII outside strings,
 * unterminated strings. Returns 0, SCN_ERR_MALFORMED or SCN_ERR_TOO_DEEP
 * for the first problem in the text.
 * The frame tokenizer uses it to name the error of a text it refuses
 * exactly as the cJSON path would.
 */
int scn__json_prescan(const char *json, size_t len);

/*
 * Strict JSON parse of json[0..len) (no NUL terminator needed) into a
 * cJSON tree, for messages other than device frames: RFC 8259 syntax (no
 * raw control characters, no NUL bytes, "\u" escapes as
 * scn__json_u_escape() allows them, nothing but whitespace after the
 * value), and nesting checked against SCN_FRAME_MAX_DEPTH before cJSON
 * recurses. Returns 0 with *out set
 * (caller owns it), SCN_ERR_MALFORMED, SCN_ERR_TOO_DEEP or
 * SCN_ERR_INVALID_ARG.
 */
int scn__frame_json_parse(const char *json, size_t len, cJSON **out);

/*
 * Compact JSON writer. With grow set it reallocs buf as needed (oom set on
 * failure); otherwise it writes while the text fits in cap and keeps
 * counting past it, so len is always the length the full text needs.
 */
typedef struct scn_jw {
    char *buf;
    size_t len;
    size_t cap;
    bool grow;
    bool oom;
} scn_jw;

/* scn__jw_put() when the bytes do not fit: grows, or counts past cap. */
void scn__jw_put_slow(scn_jw *w, const char *s, size_t n);

/* Appends n bytes. Inline: a frame's text is built from dozens of short
 * pieces, and the call per piece cost more than the copy. */
static inline void scn__jw_put(scn_jw *w, const char *s, size_t n)
{
    if (!w->oom && w->len <= w->cap && n <= w->cap - w->len) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        return;
    }
    scn__jw_put_slow(w, s, n);
}

/* Writes s as a JSON string literal. Returns 0 or SCN_ERR_MALFORMED when
 * s is not valid UTF-8 (nothing sensible can be emitted for it). */
int scn__jw_string(scn_jw *w, const char *s);

/* Writes the n bytes at s as a JSON string literal with only the escapes
 * JSON requires; a byte that is not valid UTF-8 becomes \ufffd. The one
 * string escaper of the library and the apps (scn_json_write_string()). */
void scn__jw_string_n(scn_jw *w, const char *s, size_t n);

/* Writes a finite double so that strtod() gives it back: integral values
 * below 2^53 in magnitude as plain integers; short decimals in [1e-4, 1e6)
 * with the fewest fraction digits (at most 9) that round-trip, without
 * printf; others with the fewest of 15, 16 or 17 significant digits that
 * round-trip. */
void scn__jw_number(scn_jw *w, double x);

/* Writes the parsed frame as its canonical compact JSON (what
 * scn_frame_to_json() gives): strict JSON by construction, so what takes
 * a parsed frame never parses its text again. */
void scn__frame_write(scn_jw *w, const scn_frame *frame);
/* No less than the length scn__frame_write() writes (exact when every key
 * name is plain), found without writing. */
size_t scn__frame_write_max(const scn_frame *frame);

/* Whether the NUL-terminated s is valid UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). */
bool scn__utf8_valid(const char *s);

/* Length of the valid UTF-8 sequence at p[0..end), or 0. */
size_t scn__utf8_seq_n(const unsigned char *p, const unsigned char *end);

#endif
