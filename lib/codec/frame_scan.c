/*
 * The frame tokenizer: one strict pass over a device frame's JSON text
 * that fills the frame's arrays directly (no tree, no allocation once the
 * buffers have grown), writes each value's canonical text as it goes, and
 * finds "type" so the session can route messages in the same pass.
 *
 * Errors come in two classes, so that every text gets the code the cJSON
 * path (scn__frame_json_parse() and the frame rules after it) gave it:
 * - syntax: anything that is not one strict JSON object. The pass stops,
 *   and the code is what scn__json_prescan() finds first, else MALFORMED.
 * - frame rules (key limit, duplicate keys, UTF-8, non-finite numbers,
 *   types of known keys): the first one in key order is kept while the
 *   pass goes on, because a syntax error later still wins, and because a
 *   message with a string "type" is not held to frame rules at all.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

#include "frame_internal.h"

/* 2^53: from here on doubles skip integers, so a SEQ that reads as 2^53 or
 * more may not be the number that was sent. */
#define SEQ_LIMIT 9007199254740992.0

/* Longest text scn__jw_number() writes ("-1.7976931348623157e+308"). */
#define NUMBER_TEXT_MAX 32

typedef enum type_seen { TYPE_NONE, TYPE_STRING, TYPE_OTHER } type_seen;

/* What a top-level value was, for the typed view. */
typedef enum vkind { V_OTHER, V_STRING, V_NUMBER } vkind;

typedef struct value_info {
    vkind kind;
    double num;
    size_t dec_off; /* V_STRING with decoding asked for: in names */
} value_info;

typedef struct scan {
    scn_frame *f;
    const char *p, *end;
    int fatal; /* SCN_ERR_NOMEM once a buffer could not grow */
    int rule;  /* first frame-rule error, in key order */
    type_seen type;
} scan;

/* ---- Buffers ----------------------------------------------------------- */

static bool grow(char **buf, size_t *cap, size_t need)
{
    size_t c = *cap ? *cap : 256;
    char *b;

    while (c < need) {
        if (c > SIZE_MAX / 2)
            return false;
        c *= 2;
    }
    b = realloc(*buf, c);
    if (b == NULL)
        return false;
    *buf = b;
    *cap = c;
    return true;
}

/* Room for n more bytes of raw text; false (fatal set) when out of memory. */
static inline bool raw_room(scan *c, size_t n)
{
    scn_frame *f = c->f;

    if (f->raw_cap - f->raw_len >= n)
        return true;
    if (!grow(&f->raw, &f->raw_cap, f->raw_len + n)) {
        c->fatal = SCN_ERR_NOMEM;
        return false;
    }
    return true;
}

static inline bool names_room(scan *c, size_t n)
{
    scn_frame *f = c->f;

    if (f->names_cap - f->names_len >= n)
        return true;
    if (!grow(&f->names, &f->names_cap, f->names_len + n)) {
        c->fatal = SCN_ERR_NOMEM;
        return false;
    }
    return true;
}

static inline void raw_put(scn_frame *f, const char *s, size_t n)
{
    memcpy(f->raw + f->raw_len, s, n);
    f->raw_len += n;
}

static inline void rule(scan *c, int err)
{
    if (c->rule == 0)
        c->rule = err;
}

static inline void skip_ws(scan *c)
{
    const char *p = c->p;

    /* Tokens mostly follow each other directly: one test for that. */
    if (p < c->end && (unsigned char)*p > ' ')
        return;
    while (p < c->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    c->p = p;
}

/* ---- Strings ----------------------------------------------------------- */

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Decodes the escaped string body s[0..n) into out (room for n bytes: no
 * escape decodes longer than it is written). Returns the decoded length,
 * or -1 on a bad escape: unknown letter, bad hex, "\u0000" (it would cut
 * the C string short), or a surrogate that is not a proper pair.
 */
static long decode(const char *s, size_t n, char *out)
{
    const char *p = s, *end = s + n;
    char *o = out;

    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (end - p < 2)
            return -1;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            *o++ = p[1];
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            size_t elen;
            long cp = scn__json_u_escape(p, end, &elen);
            if (cp < 0)
                return -1;
            o += put_utf8(o, (unsigned long)cp);
            p += elen;
            continue;
        }
        default:
            return -1;
        }
        p += 2;
    }
    return o - out;
}

/*
 * Finds the end of the string whose body starts at c->p (just past the
 * opening quote): *body_len bytes before the closing quote, which c->p is
 * left past. Raw control bytes and an unterminated string are syntax
 * errors (false); invalid UTF-8 only breaks a frame rule. Escapes are
 * skipped here and checked when decoded.
 */
static inline bool string_end(scan *c, size_t *body_len, bool *escaped)
{
    const char *s = c->p, *p = s, *end = c->end;
    bool esc = false;

    for (;;) {
        unsigned char ch;
        /* Most frame strings are plain ASCII throughout. */
        p += scn_json_plain_len(p, end);
        if (p >= end)
            return false;
        ch = (unsigned char)*p;
        if (ch == '"')
            break;
        if (ch == '\\') {
            if (end - p < 2)
                return false;
            esc = true;
            p += 2;
            continue;
        }
        if (ch < 0x20)
            return false;
        size_t n = scn__utf8_seq_n((const unsigned char *)p,
                                   (const unsigned char *)end);
        if (n == 0) {
            rule(c, SCN_ERR_MALFORMED);
            n = 1;
        }
        p += n;
    }
    *body_len = (size_t)(p - s);
    *escaped = esc;
    c->p = p + 1;
    return true;
}

/*
 * Decodes the string body s[0..n) to the end of names (NUL-terminated,
 * not committed: names_len is unchanged). Returns its length, or -1 with
 * fatal set or on a bad escape.
 */
static long decode_to_names(scan *c, const char *s, size_t n, bool escaped)
{
    scn_frame *f = c->f;
    char *out;
    long len;

    if (!names_room(c, n + 1))
        return -1;
    out = f->names + f->names_len;
    if (escaped) {
        len = decode(s, n, out);
        if (len < 0)
            return -1;
    } else {
        memcpy(out, s, n);
        len = (long)n;
    }
    out[len] = '\0';
    return len;
}

/* A string value or nested key at c->p (on its opening quote): its
 * canonical text to raw, and with decode its decoded text committed to
 * names at *dec_off. */
static bool string_value(scan *c, bool want_decoded, size_t *dec_off)
{
    scn_frame *f = c->f;
    const char *s = ++c->p;
    size_t n;
    bool escaped;

    if (!string_end(c, &n, &escaped))
        return false;
    if (!escaped) {
        /* Nothing to escape in the canonical form either: copy. */
        if (!raw_room(c, n + 2))
            return false;
        f->raw[f->raw_len] = '"';
        memcpy(f->raw + f->raw_len + 1, s, n);
        f->raw[f->raw_len + 1 + n] = '"';
        f->raw_len += n + 2;
        if (!want_decoded)
            return true;
    }
    long len = decode_to_names(c, s, n, escaped);
    if (len < 0)
        return false;
    if (escaped) {
        scn_jw w = {f->raw, f->raw_len, f->raw_cap, true, false};
        scn__jw_string_n(&w, f->names + f->names_len, (size_t)len);
        f->raw = w.buf;
        f->raw_cap = w.cap;
        f->raw_len = w.len;
        if (w.oom) {
            c->fatal = SCN_ERR_NOMEM;
            return false;
        }
    }
    if (want_decoded) {
        *dec_off = f->names_len;
        f->names_len += (size_t)len + 1;
    }
    return true;
}

/* ---- Values ------------------------------------------------------------ */

static bool number_value(scan *c, double *out)
{
    scn_frame *f = c->f;
    double x;
    bool canonical;
    size_t n = scn__json_number_short(c->p, c->end, &x, &canonical);

    if (n == 0)
        n = scn__json_number(c->p, c->end, &x, &canonical);
    if (n == 0)
        return false;
    if (isnan(x)) {
        c->fatal = SCN_ERR_NOMEM;
        return false;
    }
    if (!raw_room(c, n > NUMBER_TEXT_MAX ? n : NUMBER_TEXT_MAX))
        return false;
    if (!isfinite(x)) {
        /* JSON has no way to say it back. */
        rule(c, SCN_ERR_OUT_OF_RANGE);
    } else if (canonical) {
        /* A fixed-size copy (room for it was made above) is cheaper than
         * one of n bytes; what lies past n is overwritten next. */
        if (c->end - c->p >= NUMBER_TEXT_MAX)
            memcpy(f->raw + f->raw_len, c->p, NUMBER_TEXT_MAX);
        else
            memcpy(f->raw + f->raw_len, c->p, n);
        f->raw_len += n;
    } else {
        scn_jw w = {f->raw, f->raw_len, f->raw_cap, false, false};
        scn__jw_number(&w, x);
        f->raw_len = w.len;
    }
    c->p += n;
    *out = x;
    return true;
}

static bool literal(scan *c, const char *word, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    if (!raw_room(c, n))
        return false;
    raw_put(c->f, word, n);
    c->p += n;
    return true;
}

static bool value(scan *c, int depth, value_info *vi, bool want_decoded);

/* An object or array at c->p; depth is the level it would have. */
static bool container(scan *c, int depth)
{
    bool obj = *c->p == '{';
    char close = obj ? '}' : ']';

    if (depth > SCN_FRAME_MAX_DEPTH)
        return false; /* scn__json_prescan() says TOO_DEEP */
    if (!raw_room(c, 1))
        return false;
    raw_put(c->f, c->p, 1);
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        if (!raw_room(c, 1))
            return false;
        raw_put(c->f, &close, 1);
        c->p++;
        return true;
    }
    for (;;) {
        value_info vi;
        if (obj) {
            if (c->p >= c->end || *c->p != '"' || !string_value(c, false, NULL))
                return false;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ':' || !raw_room(c, 1))
                return false;
            raw_put(c->f, ":", 1);
            c->p++;
            skip_ws(c);
        }
        if (!value(c, depth + 1, &vi, false))
            return false;
        skip_ws(c);
        if (c->p >= c->end || !raw_room(c, 1))
            return false;
        if (*c->p == close) {
            raw_put(c->f, &close, 1);
            c->p++;
            return true;
        }
        if (*c->p != ',')
            return false;
        raw_put(c->f, ",", 1);
        c->p++;
        skip_ws(c);
    }
}

/* Any value at c->p (whitespace already skipped). */
static bool value(scan *c, int depth, value_info *vi, bool want_decoded)
{
    vi->kind = V_OTHER;
    if (c->p >= c->end)
        return false;
    switch (*c->p) {
    case '"':
        vi->kind = V_STRING;
        return string_value(c, want_decoded, &vi->dec_off);
    case '{':
    case '[':
        return container(c, depth);
    case 't':
        return literal(c, "true", 4);
    case 'f':
        return literal(c, "false", 5);
    case 'n':
        return literal(c, "null", 4);
    default:
        vi->kind = V_NUMBER;
        return number_value(c, &vi->num);
    }
}

/* ---- Keys -------------------------------------------------------------- */

static int compound_of(const char *n, size_t len)
{
#define IS(lit) (memcmp(n, lit, sizeof(lit) - 1) == 0)
    switch (len) {
    case 2:
        return IS("NO") ? SCN_NO : IS("CO") ? SCN_CO : IS("H2") ? SCN_H2 : -1;
    case 3:
        switch (n[0]) {
        case 'C':
            return IS("CO2") ? SCN_CO2 : IS("CH4") ? SCN_CH4 : -1;
        case 'N':
            return IS("NH3") ? SCN_NH3 : IS("NO2") ? SCN_NO2 : -1;
        case 'H':
            return IS("H2S") ? SCN_H2S : -1;
        case 'S':
            return IS("SO2") ? SCN_SO2 : -1;
        case 'V':
            return IS("VOC") ? SCN_VOC : -1;
        }
        return -1;
    case 4:
        return IS("C3H8") ? SCN_C3H8 : IS("HCHO") ? SCN_HCHO : -1;
    case 5:
        return IS("C4H10") ? SCN_C4H10 : -1;
    case 6:
        return IS("C2H5OH") ? SCN_C2H5OH : -1;
    }
    return -1;
}

/* Frame keys are case-sensitive, as JSON names are. A switch on the
 * length picks the one or few names to compare. */
scn_key_kind scn__frame_classify(const char *n, size_t len, int *index,
                                 scn_channel *channel)
{
    int c;

    *channel = SCN_CHANNEL_SINGLE;
    if (len == 0)
        return SCN_KEY_UNKNOWN;
    if (n[0] == '_')
        return SCN_KEY_EXTENSION;
    switch (len) {
    case 3:
        if (IS("UID"))
            return SCN_KEY_UID;
        if (IS("SEQ"))
            return SCN_KEY_SEQ;
        break;
    case 6:
        if (IS("BATT_v"))
            return *index = SCN_FIELD_BATT_V, SCN_KEY_FIELD;
        break;
    case 9:
        if (IS("TIMESTAMP"))
            return SCN_KEY_TIMESTAMP;
        if (IS("BATT_time"))
            return *index = SCN_FIELD_BATT_TIME, SCN_KEY_FIELD;
        break;
    case 11:
        if (IS("STATUS_opuA"))
            return *index = SCN_FIELD_STATUS_OPU_A, SCN_KEY_FIELD;
        if (IS("BATT_health"))
            return *index = SCN_FIELD_BATT_HEALTH, SCN_KEY_FIELD;
        if (IS("BATT_charge"))
            return *index = SCN_FIELD_BATT_CHARGE, SCN_KEY_FIELD;
        break;
    case 12:
        if (IS("ENV_humidity"))
            return *index = SCN_FIELD_ENV_HUMIDITY, SCN_KEY_FIELD;
        break;
    case 15:
        if (IS("ENV_pressureHpa"))
            return *index = SCN_FIELD_ENV_PRESSURE_HPA, SCN_KEY_FIELD;
        break;
    case 16:
        if (IS("ENV_temperatureC"))
            return *index = SCN_FIELD_ENV_TEMPERATURE_C, SCN_KEY_FIELD;
        break;
    }
#undef IS
    if ((c = compound_of(n, len)) >= 0) {
        *index = c;
        return SCN_KEY_COMPOUND;
    }
    if (len > 2 && n[len - 2] == '_' &&
        (n[len - 1] == 'A' || n[len - 1] == 'B') &&
        (c = compound_of(n, len - 2)) >= 0) {
        *index = c;
        *channel = n[len - 1] == 'A' ? SCN_CHANNEL_A : SCN_CHANNEL_B;
        return SCN_KEY_COMPOUND;
    }
    return SCN_KEY_UNKNOWN;
}

/* Type-checks a known key and stores it in the typed view. Duplicates were
 * refused before, so every slot is written at most once per parse. */
static int interpret(scn_frame *f, scn_key_kind kind, int index,
                     scn_channel channel, const value_info *vi)
{
    double v = vi->num;

    switch (kind) {
    case SCN_KEY_UID:
        if (vi->kind != V_STRING)
            return SCN_ERR_WRONG_TYPE;
        f->uid_off = vi->dec_off;
        break;
    case SCN_KEY_TIMESTAMP:
        if (vi->kind != V_STRING ||
            scn_timestamp_parse(f->names + vi->dec_off, &f->timestamp_ns) != 0)
            return SCN_ERR_WRONG_TYPE;
        f->timestamp_off = vi->dec_off;
        break;
    case SCN_KEY_SEQ:
        if (vi->kind != V_NUMBER)
            return SCN_ERR_WRONG_TYPE;
        if (!(v >= 0 && v < SEQ_LIMIT) || (double)(uint64_t)v != v)
            return SCN_ERR_OUT_OF_RANGE;
        f->seq = (uint64_t)v;
        f->has_seq = true;
        break;
    case SCN_KEY_FIELD:
        if (vi->kind != V_NUMBER)
            return SCN_ERR_WRONG_TYPE;
        f->fields[index] = v;
        f->field_mask |= 1u << index;
        break;
    case SCN_KEY_COMPOUND:
        /* Kept as received even when <= 0: the device should have omitted
         * it, but refusing the whole reading would lose the rest. */
        if (vi->kind != V_NUMBER)
            return SCN_ERR_WRONG_TYPE;
        f->compounds[index][channel] = v;
        f->compound_mask |= UINT64_C(1) << (3 * index + (int)channel);
        break;
    case SCN_KEY_EXTENSION:
    case SCN_KEY_UNKNOWN:
        break;
    }
    return 0;
}

/* Loads 8 bytes in memory order (any alignment). */
static inline uint64_t load8(const char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
    return w;
}

/*
 * Whether the name at s is memo entry e: its bytes, then the closing
 * quote. Memo names hold no quote, backslash or control byte, so this is
 * the very body string_end() would find, with nothing to report. With 32
 * bytes of text left, all four words are compared at once, each masked to
 * the len + 1 bytes that count; the masks come from a window on a table
 * of 0xFF then 0x00 bytes, so they are right in either byte order.
 */
static inline bool memo_hit(const scn_frame_memo *e, const char *s,
                            const char *end)
{
    static const unsigned char ff[2 * SCN_FRAME_MEMO_TEXT] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    };
    size_t n = (size_t)e->len + 1;

    if (end - s < SCN_FRAME_MEMO_TEXT)
        return (size_t)(end - s) >= n && memcmp(s, e->text, n) == 0;
    const char *m = (const char *)ff + SCN_FRAME_MEMO_TEXT - n;
    uint64_t x = 0;
    for (int i = 0; i < SCN_FRAME_MEMO_TEXT; i += 8)
        x |= (load8(s + i) ^ load8(e->text + i)) & load8(m + i);
    return x == 0;
}

/* A key just stored at position pos without the memo's help. The memo
 * describes this frame's keys up to pos - 1 only while memo_n >= pos;
 * then this key replaces whatever it said from pos on. */
static void memo_learn(scn_frame *f, size_t pos, const char *name, size_t len,
                       bool escaped, scn_key_kind kind, int index,
                       scn_channel channel, size_t slot)
{
    scn_frame_memo *e;

    if (pos > f->memo_n)
        return;
    f->memo_n = pos;
    if (escaped || len > SCN_FRAME_MEMO_NAME || pos >= SCN_FRAME_MEMO_KEYS)
        return;
    e = &f->memo[pos];
    memset(e->text, 0, sizeof e->text);
    memcpy(e->text, name, len);
    e->text[len] = '"';
    e->len = (uint8_t)len;
    e->kind = (uint8_t)kind;
    e->index = (uint8_t)index;
    e->channel = (uint8_t)channel;
    e->slot = (uint16_t)slot;
    f->memo_n = pos + 1;
}

/*
 * One member of the frame object at c->p (on the key's opening quote).
 * Keys are stored while no frame rule has been broken yet; after that only
 * syntax and "type" still matter.
 */
static bool member(scan *c, bool route_type)
{
    scn_frame *f = c->f;
    size_t pos = f->nkeys;
    scn_frame_key *k = &f->keys[pos];
    bool store = c->rule == 0, is_type;
    const char *s = ++c->p;
    scn_key_kind kind = SCN_KEY_UNKNOWN;
    scn_channel channel = SCN_CHANNEL_SINGLE;
    int index = 0;
    size_t n, slot = 0;
    bool escaped = false;
    long len;
    const char *name;

    if (store && pos < f->memo_n && memo_hit(&f->memo[pos], s, c->end)) {
        /* Below SCN_FRAME_MEMO_KEYS, so below the key limit too. */
        const scn_frame_memo *e = &f->memo[pos];
        len = e->len;
        if (!names_room(c, sizeof e->text))
            return false;
        name = f->names + f->names_len;
        /* All of it, a fixed size: cheaper than a copy of len bytes. */
        memcpy(f->names + f->names_len, e->text, sizeof e->text);
        f->names[f->names_len + (size_t)len] = '\0';
        c->p = s + len + 1;
        slot = e->slot;
        kind = (scn_key_kind)e->kind;
        index = e->index;
        channel = (scn_channel)e->channel;
    } else {
        if (store && pos == SCN_FRAME_MAX_KEYS) {
            rule(c, SCN_ERR_OUT_OF_RANGE);
            store = false;
        }
        if (!string_end(c, &n, &escaped))
            return false;
        store = store && c->rule == 0; /* the name's UTF-8 */
        len = decode_to_names(c, s, n, escaped);
        if (len < 0)
            return false;
        name = f->names + f->names_len;
        if (store) {
            /* A repeated name is ambiguous (JSON leaves its meaning open),
             * and would make scn_frame_raw() and the typed view disagree. */
            slot = scn_frame_probe(f, name, (size_t)len);
            if (f->slots[slot] != 0) {
                rule(c, SCN_ERR_MALFORMED);
                store = false;
            }
        }
        if (store) {
            kind = scn__frame_classify(name, (size_t)len, &index, &channel);
            memo_learn(f, pos, name, (size_t)len, escaped, kind, index, channel,
                       slot);
        }
    }
    is_type = route_type && c->type == TYPE_NONE && len == 4 &&
              memcmp(name, "type", 4) == 0;
    if (store) {
        k->name_off = f->names_len;
        k->name_len = (size_t)len;
        /* Unescaped (memo names never are), so free of quotes, backslashes
         * and control bytes, and valid UTF-8 since it is stored: JSON needs
         * no escape in it. */
        k->plain_name = !escaped;
        f->names_len += (size_t)len + 1;
    }

    skip_ws(c);
    if (c->p >= c->end || *c->p != ':')
        return false;
    c->p++;
    skip_ws(c);

    value_info vi;
    size_t raw_off = f->raw_len;
    bool decoded =
        is_type ||
        (store && (kind == SCN_KEY_UID || kind == SCN_KEY_TIMESTAMP));
    if (!value(c, 2, &vi, decoded))
        return false;
    if (is_type)
        c->type = vi.kind == V_STRING ? TYPE_STRING : TYPE_OTHER;
    if (is_type && vi.kind == V_STRING)
        f->type_off = vi.dec_off;
    if (!store || c->rule != 0) {
        f->raw_len = raw_off; /* not kept: reuse the room */
        return true;
    }
    if (!raw_room(c, 1))
        return false;
    raw_put(f, "", 1);
    k->raw_off = raw_off;
    k->raw_len = f->raw_len - raw_off - 1;
    k->kind = kind;
    k->slot = (uint16_t)slot;
    f->slots[slot] = (uint16_t)++f->nkeys;
    int rc = interpret(f, kind, index, channel, &vi);
    if (rc != 0)
        rule(c, rc);
    return true;
}

/* The whole text: one object and nothing but whitespace around it. */
static bool object(scan *c, bool route_type)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{')
        return false;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            if (c->p >= c->end || *c->p != '"' || !member(c, route_type))
                return false;
            skip_ws(c);
            if (c->p >= c->end)
                return false;
            if (*c->p == '}') {
                c->p++;
                break;
            }
            if (*c->p != ',')
                return false;
            c->p++;
            skip_ws(c);
        }
    }
    skip_ws(c);
    return c->p == c->end;
}

/*
 * Runs the pass. Returns the syntax verdict (0, the cJSON path's code, or
 * SCN_ERR_NOMEM); c->rule and c->type tell the rest.
 */
static int run(scan *c, scn_frame *f, const char *json, size_t len,
               bool route_type)
{
    scn__frame_clear(f);
    c->f = f;
    c->p = json;
    c->end = json + len;
    c->fatal = 0;
    c->rule = 0;
    c->type = TYPE_NONE;
    if (len == 0)
        return SCN_ERR_MALFORMED;
    if (object(c, route_type))
        return 0;
    if (c->fatal)
        return c->fatal;
    /* The error path only: name it as the cJSON path did. */
    int rc = scn__json_prescan(json, len);
    return rc ? rc : SCN_ERR_MALFORMED;
}

/* The frame verdict once the syntax is fine. */
static int frame_verdict(const scn_frame *f, const scan *c)
{
    if (c->rule)
        return c->rule;
    if (f->uid_off == SCN_FRAME_NO_OFF || f->timestamp_off == SCN_FRAME_NO_OFF)
        return SCN_ERR_MISSING_FIELD;
    return 0;
}

int scn_frame_parse(scn_frame *frame, const char *json, size_t len)
{
    scan c;
    int rc;

    if (frame == NULL)
        return SCN_ERR_INVALID_ARG;
    if (json == NULL && len > 0) {
        scn__frame_clear(frame);
        return SCN_ERR_INVALID_ARG;
    }
    rc = run(&c, frame, json, len, false);
    if (rc == 0)
        rc = frame_verdict(frame, &c);
    if (rc != 0)
        scn__frame_clear(frame);
    return rc;
}

int scn__frame_parse_inbound(scn_frame *f, const char *json, size_t len,
                             scn_frame_route *route, const char **type)
{
    scan c;
    int rc;

    if (type)
        *type = NULL;
    *route = SCN_ROUTE_INVALID;
    if (f == NULL)
        return SCN_ERR_INVALID_ARG;
    if (json == NULL && len > 0) {
        scn__frame_clear(f);
        return SCN_ERR_INVALID_ARG;
    }
    rc = run(&c, f, json, len, true);
    if (rc == 0) {
        switch (c.type) {
        case TYPE_NONE:
            *route = SCN_ROUTE_FRAME;
            rc = frame_verdict(f, &c);
            break;
        case TYPE_STRING:
            *route = SCN_ROUTE_MESSAGE;
            if (type)
                *type = f->names + f->type_off;
            break;
        case TYPE_OTHER:
            *route = SCN_ROUTE_BAD_TYPE;
            rc = SCN_ERR_WRONG_TYPE;
            break;
        }
    }
    if (rc != 0 || *route != SCN_ROUTE_FRAME) {
        /* The type string stays readable: clearing keeps the bytes. */
        size_t type_off = f->type_off;
        scn__frame_clear(f);
        f->type_off = type_off;
    }
    return rc;
}
