/*
 * scn__json_check(): vouches for plain strict JSON in one pass, without a
 * tree. Anything unusual makes it say "don't know" (false), and the
 * caller's full check decides, so it only has to be right when it says
 * true.
 *
 * The texts it sees most (drone states, the companion's records, cloud
 * messages) are short names and short numbers, so the cost is per token,
 * not per byte: whitespace, names and their duplicate check take a few
 * instructions each on the common path.
 */
#include "json_check.h"

#include <stdint.h>
#include <string.h>

#include <scentience/frame.h>

#include "frame_internal.h"

/* Member names remembered across the open objects for the duplicate
 * check; an object with more is left to the full check. */
#define NAMES_MAX 64

/* The longest number cJSON reads whole (its buffer is 64 bytes). */
#define NUMBER_MAX 63

/* A name as its key: names of up to 8 bytes are their bytes (a name has
 * no NUL, so the zero padding is unambiguous and equal keys are equal
 * names); longer ones a hash, so equal keys still need a comparison. */
#define KEY_EXACT_MAX 8

typedef struct name_ref {
    uint64_t key;
    const unsigned char *p;
    size_t n;
} name_ref;

/* Per open object, 256 bits set by the keys of the names seen: with a
 * mixed key, a name meets another's bit about once per object, so the
 * names are rarely searched at all. */
typedef struct name_bits {
    uint64_t w[4];
} name_bits;

static inline const unsigned char *skip_ws(const unsigned char *p,
                                           const unsigned char *end)
{
    while (p < end && *p <= ' ' &&
           (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* The closing quote of the string whose body starts at p, or NULL;
 * *plain: the body has no escape. */
static inline const unsigned char *
string_end(const unsigned char *p, const unsigned char *end, bool *plain)
{
    *plain = true;
    for (;;) {
        unsigned char ch;
        p += scn_json_plain_len((const char *)p, (const char *)end);
        if (p >= end)
            return NULL;
        ch = *p;
        if (ch == '"')
            return p;
        if (ch == '\\') {
            if (p + 1 >= end)
                return NULL;
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                break;
            default: /* "\u" (the full check reads it) or invalid */
                return NULL;
            }
            *plain = false;
            p += 2;
        } else if (ch >= 0x80) {
            size_t n = scn__utf8_seq_n(p, end);
            if (n == 0)
                return NULL;
            p += n;
        } else {
            return NULL; /* a control byte */
        }
    }
}

static inline const unsigned char *digits(const unsigned char *p,
                                          const unsigned char *end)
{
    while (p < end && (unsigned)(*p - '0') < 10)
        p++;
    return p;
}

/* The end of the strict number without exponent at p, or NULL. */
static inline const unsigned char *number_end(const unsigned char *p,
                                              const unsigned char *end)
{
    const unsigned char *start = p;

    if (*p == '-')
        p++;
    if (p >= end || (unsigned)(*p - '0') >= 10)
        return NULL;
    p = *p == '0' ? p + 1 : digits(p + 1, end);
    if (p < end && *p == '.') {
        const unsigned char *f = p + 1;
        p = digits(f, end);
        if (p == f)
            return NULL;
    }
    if ((p < end && (*p == 'e' || *p == 'E')) || p - start > NUMBER_MAX)
        return NULL;
    return p;
}

static inline const unsigned char *literal_end(const unsigned char *p,
                                               const unsigned char *end,
                                               const char *word, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
        return NULL;
    return p + n;
}

/* The key of the name s[0..n), which ends before end. */
static inline uint64_t name_key(const unsigned char *s, size_t n,
                                const unsigned char *end)
{
    uint64_t w = 0;

    if (n > KEY_EXACT_MAX)
        return scn_frame_name_hash((const char *)s, n);
#if SCN_SWAR_CTZ /* little-endian: byte i is bits 8i.. of the load */
    if (end - s >= 8) {
        memcpy(&w, s, 8);
        return n == 8 ? w : w & ((UINT64_C(1) << (8 * n)) - 1);
    }
#else
    (void)end;
#endif
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)s[i] << (8 * i);
    return w;
}

typedef struct names {
    name_ref ref[NAMES_MAX];
    size_t count;
    name_bits bits[SCN_FRAME_MAX_DEPTH];
} names;

/* Remembers the name s[0..n) with its key, in the object at level depth
 * (its names from ref[first] on); false for a repeat or when full. */
static inline bool name_add(names *nm, int depth, size_t first,
                            const unsigned char *s, size_t n, uint64_t key)
{
    unsigned bit = (unsigned)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 56);
    uint64_t *w = &nm->bits[depth].w[bit >> 6], m = UINT64_C(1) << (bit & 63);

    if (nm->count == NAMES_MAX)
        return false;
    if (*w & m) {
        for (size_t i = first; i < nm->count; i++) {
            const name_ref *r = &nm->ref[i];
            if (r->key == key && r->n == n &&
                (n <= KEY_EXACT_MAX || memcmp(r->p, s, n) == 0))
                return false;
        }
    }
    *w |= m;
    nm->ref[nm->count++] = (name_ref){key, s, n};
    return true;
}

/* The name whose body starts at s, its closing quote in *q; false for
 * what the full check must judge (an escape, no room left, a repeat). The
 * common name, short and plain, is found and keyed with one load. */
static inline bool name(names *nm, int depth, size_t first,
                        const unsigned char *s, const unsigned char *end,
                        const unsigned char **q)
{
    bool plain;

#if SCN_SWAR_CTZ
    if (end - s >= 8) {
        uint64_t w, m;
        memcpy(&w, s, 8);
        m = scn_json_special_bits(w);
        if (m != 0) {
            size_t n = (unsigned)__builtin_ctzll(m) >> 3;
            if (s[n] == '"') {
                *q = s + n;
                return name_add(nm, depth, first, s, n,
                                w & ((UINT64_C(1) << (8 * n)) - 1));
            }
        }
    }
#endif
    if ((*q = string_end(s, end, &plain)) == NULL || !plain)
        return false;
    return name_add(nm, depth, first, s, (size_t)(*q - s),
                    name_key(s, (size_t)(*q - s), end));
}

bool scn__json_check(const char *json, size_t len, scn_json_shape *shape)
{
    const unsigned char *p, *end, *q;
    names nm;
    unsigned char open[SCN_FRAME_MAX_DEPTH]; /* '{' or '[' per level */
    size_t first[SCN_FRAME_MAX_DEPTH];       /* names of that object */
    int depth = 0;
    bool object, flat = true, plain;

    if (json == NULL)
        return false;
    p = (const unsigned char *)json;
    end = p + len;
    nm.count = 0;
    p = skip_ws(p, end);
    object = p < end && *p == '{';
value: /* A value at p; whitespace before it is skipped here. */
    if (p >= end)
        return false;
    switch (*p) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
        p = skip_ws(p, end);
        goto value;
    case '{':
    case '[':
        /* An object member that is not a scalar: not flat. */
        if (depth == SCN_FRAME_MAX_DEPTH)
            return false;
        flat = flat && depth != 1;
        open[depth] = *p;
        first[depth] = nm.count;
        nm.bits[depth] = (name_bits){{0, 0, 0, 0}};
        depth++;
        p = skip_ws(p + 1, end);
        if (p < end && (*p == '}' || *p == ']')) {
            if (*p != (open[depth - 1] == '{' ? '}' : ']'))
                return false;
            p++;
            depth--;
            goto after;
        }
        if (open[depth - 1] == '{')
            goto member;
        goto value;
    case '"':
        if ((p = string_end(p + 1, end, &plain)) == NULL)
            return false;
        p++;
        goto after;
    case 't':
        p = literal_end(p, end, "true", 4);
        break;
    case 'f':
        p = literal_end(p, end, "false", 5);
        break;
    case 'n':
        p = literal_end(p, end, "null", 4);
        break;
    default:
        if ((p = number_end(p, end)) == NULL)
            return false;
        goto after;
    }
    /* A literal. */
    if (p == NULL)
        return false;
    flat = flat && depth != 1;
after: /* After a value: the rest of its container, or the end. */
    if (p < end) {
        switch (*p) {
        case ',':
            if (depth == 0)
                return false;
            p++;
            if (open[depth - 1] == '{')
                goto member;
            goto value;
        case '}':
        case ']':
            if (depth == 0 || *p != (open[depth - 1] == '{' ? '}' : ']'))
                return false;
            p++;
            /* The object's names are done with. */
            nm.count = first[--depth];
            goto after;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            p = skip_ws(p, end);
            goto after;
        default:
            return false;
        }
    }
    if (depth != 0)
        return false;
    if (shape) {
        shape->object = object;
        shape->flat_scalars = object && flat;
    }
    return true;
member: /* A member at p: its name, ':' and then its value. */
    if (p < end && *p != '"')
        p = skip_ws(p, end);
    if (p >= end || *p != '"' ||
        !name(&nm, depth - 1, first[depth - 1], p + 1, end, &q))
        return false;
    p = q + 1;
    if (p < end && *p != ':')
        p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return false;
    p++;
    goto value;
}
