/*
 * scn__json_check(): vouches for plain strict JSON in one pass, without a
 * tree. Anything unusual makes it say "don't know" (false), and the
 * caller's full check decides, so it only has to be right when it says
 * true.
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

typedef struct name_ref {
    const unsigned char *p;
    size_t n;
} name_ref;

typedef struct checker {
    const unsigned char *p, *end;
    name_ref names[NAMES_MAX];
    size_t nnames;
    /* Per open object, a bit per hash of the names seen: most names
     * differ in length or an end byte, so few are compared at all. */
    uint64_t seen[SCN_FRAME_MAX_DEPTH];
} checker;

static inline void skip_ws(checker *c)
{
    const unsigned char *p = c->p;

    while (p < c->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    c->p = p;
}

/* The string at c->p (its opening quote); *plain: it has no escape. */
static bool string(checker *c, bool *plain)
{
    const unsigned char *p = c->p + 1, *end = c->end;

    *plain = true;
    for (;;) {
        unsigned char ch;
        p += scn_json_plain_len((const char *)p, (const char *)end);
        if (p >= end)
            return false;
        ch = *p;
        if (ch == '"') {
            c->p = p + 1;
            return true;
        }
        if (ch == '\\') {
            if (p + 1 >= end)
                return false;
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
                return false;
            }
            *plain = false;
            p += 2;
        } else if (ch >= 0x80) {
            size_t n = scn__utf8_seq_n(p, end);
            if (n == 0)
                return false;
            p += n;
        } else {
            return false; /* a control byte */
        }
    }
}

static inline bool digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* A strict number without exponent at c->p. */
static bool number(checker *c)
{
    const unsigned char *p = c->p, *end = c->end, *start = p;

    if (p < end && *p == '-')
        p++;
    if (!digit(p, end))
        return false;
    if (*p++ != '0')
        while (digit(p, end))
            p++;
    if (p < end && *p == '.') {
        if (!digit(++p, end))
            return false;
        while (digit(p, end))
            p++;
    }
    if ((p < end && (*p == 'e' || *p == 'E')) || p - start > NUMBER_MAX)
        return false;
    c->p = p;
    return true;
}

static bool literal(checker *c, const char *word, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* A scalar at c->p: string, number, true, false or null. */
static bool scalar(checker *c)
{
    bool plain;

    switch (*c->p) {
    case '"':
        return string(c, &plain);
    case 't':
        return literal(c, "true", 4);
    case 'f':
        return literal(c, "false", 5);
    case 'n':
        return literal(c, "null", 4);
    default:
        return number(c);
    }
}

/* The member name at c->p, unique among those of its object (at level
 * depth, its names from names[first] on). */
static bool name(checker *c, int depth, size_t first)
{
    const unsigned char *start = c->p + 1;
    uint64_t bit;
    size_t n;
    bool plain;

    if (c->p >= c->end || *c->p != '"' || !string(c, &plain) || !plain ||
        c->nnames == NAMES_MAX)
        return false;
    n = (size_t)(c->p - 1 - start);
    bit =
        UINT64_C(1) << ((n * 7 + (n ? start[0] * 3u + start[n - 1] : 0)) & 63);
    if (c->seen[depth] & bit) {
        for (size_t i = first; i < c->nnames; i++)
            if (c->names[i].n == n && memcmp(c->names[i].p, start, n) == 0)
                return false;
    }
    c->seen[depth] |= bit;
    c->names[c->nnames++] = (name_ref){start, n};
    return true;
}

bool scn__json_check(const char *json, size_t len, scn_json_shape *shape)
{
    checker c;
    unsigned char open[SCN_FRAME_MAX_DEPTH]; /* '{' or '[' per level */
    size_t first[SCN_FRAME_MAX_DEPTH];       /* names of that object */
    int depth = 0;
    bool object, flat = true;

    if (json == NULL)
        return false;
    c.p = (const unsigned char *)json;
    c.end = c.p + len;
    c.nnames = 0;
    skip_ws(&c);
    object = c.p < c.end && *c.p == '{';
    for (;;) {
        /* A value at c.p. */
        skip_ws(&c);
        if (c.p >= c.end)
            return false;
        if (*c.p == '{' || *c.p == '[') {
            if (depth == SCN_FRAME_MAX_DEPTH)
                return false;
            open[depth] = *c.p++;
            first[depth] = c.nnames;
            c.seen[depth] = 0;
            depth++;
            skip_ws(&c);
            if (c.p < c.end && (*c.p == '}' || *c.p == ']')) {
                if (*c.p != (open[depth - 1] == '{' ? '}' : ']'))
                    return false;
                c.p++;
                depth--;
            } else if (open[depth - 1] == '{') {
                goto member;
            } else {
                continue;
            }
        } else if (!scalar(&c)) {
            return false;
        }
        /* After a value: the rest of its container, or the end. */
        for (;;) {
            skip_ws(&c);
            if (depth == 0) {
                if (c.p != c.end)
                    return false;
                if (shape) {
                    shape->object = object;
                    shape->flat_scalars = object && flat;
                }
                return true;
            }
            if (c.p >= c.end)
                return false;
            if (*c.p == ',') {
                c.p++;
                if (open[depth - 1] == '{')
                    goto member;
                break; /* the next element */
            }
            if (*c.p != (open[depth - 1] == '{' ? '}' : ']'))
                return false;
            c.p++;
            /* The object's names are done with. */
            c.nnames = first[--depth];
        }
        continue;
    member:
        skip_ws(&c);
        if (!name(&c, depth - 1, first[depth - 1]))
            return false;
        skip_ws(&c);
        if (c.p >= c.end || *c.p != ':')
            return false;
        c.p++;
        skip_ws(&c);
        if (depth == 1 && c.p < c.end && *c.p != '"' && *c.p != '-' &&
            !(*c.p >= '0' && *c.p <= '9'))
            flat = false;
    }
}
