/*
 * UAV state strings ("pitch:0;roll:0;...;agz:-999.00;"): parsing into a
 * typed struct, and writing it back as a state string (the simulator) or
 * as one compact JSON object (scn-uav --state jsonl).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <scentience/error.h>
#include <scentience/json_writer.h>

#include "uav_internal.h"

typedef struct field_info {
    const char *name;
    size_t name_len;
    /* The JSON member's head after another, ,"name": (names are plain
     * ASCII letters, so JSON escaping leaves them as they are). */
    const char *json_head;
    size_t json_head_len;
    bool is_int;
    size_t offset; /* of the int32_t or double in scn_uav_state */
} field_info;

/* The member names are the key names, so one token serves both. */
#define HEAD(n) ",\"" #n "\":"
#define I(f, n)                                                                \
    [f] = {#n,      sizeof(#n) - 1,                                            \
           HEAD(n), sizeof(HEAD(n)) - 1,                                       \
           true,    offsetof(scn_uav_state, n)}
#define D(f, n)                                                                \
    [f] = {#n,      sizeof(#n) - 1,                                            \
           HEAD(n), sizeof(HEAD(n)) - 1,                                       \
           false,   offsetof(scn_uav_state, n)}

static const field_info fields[SCN_UAV_FIELD_COUNT] = {
    I(SCN_UAV_F_PITCH, pitch), I(SCN_UAV_F_ROLL, roll),
    I(SCN_UAV_F_YAW, yaw),     I(SCN_UAV_F_VGX, vgx),
    I(SCN_UAV_F_VGY, vgy),     I(SCN_UAV_F_VGZ, vgz),
    I(SCN_UAV_F_TEMPL, templ), I(SCN_UAV_F_TEMPH, temph),
    I(SCN_UAV_F_TOF, tof),     I(SCN_UAV_F_H, h),
    I(SCN_UAV_F_BAT, bat),     D(SCN_UAV_F_BARO, baro),
    I(SCN_UAV_F_TIME, time),   D(SCN_UAV_F_AGX, agx),
    D(SCN_UAV_F_AGY, agy),     D(SCN_UAV_F_AGZ, agz),
    D(SCN_UAV_F_OLFA, olfa),   D(SCN_UAV_F_OLFB, olfb),
    I(SCN_UAV_F_X, x),         I(SCN_UAV_F_Y, y),
    I(SCN_UAV_F_Z, z),
};

#undef HEAD
#undef I
#undef D

static int32_t *int_at(scn_uav_state *st, scn_uav_field f)
{
    return (int32_t *)(void *)((char *)st + fields[f].offset);
}

static double *dec_at(scn_uav_state *st, scn_uav_field f)
{
    return (double *)(void *)((char *)st + fields[f].offset);
}

static int32_t int_of(const scn_uav_state *st, scn_uav_field f)
{
    return *(const int32_t *)(const void *)((const char *)st +
                                            fields[f].offset);
}

static double dec_of(const scn_uav_state *st, scn_uav_field f)
{
    return *(const double *)(const void *)((const char *)st + fields[f].offset);
}

static bool is_name(int f, const char *key, size_t len)
{
    const char *name = fields[f].name;

    /* Names are a few bytes: a loop beats a call to memcmp(). */
    if (fields[f].name_len != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (name[i] != key[i])
            return false;
    return true;
}

/* The field named key. A drone sends its keys in one order, so the
 * field after the previous pair's (hint) is tried first: names are
 * unique, so the answer is the same, found with one comparison. */
static bool lookup(const char *key, size_t len, int hint, scn_uav_field *out)
{
    if (hint < SCN_UAV_FIELD_COUNT && is_name(hint, key, len)) {
        *out = (scn_uav_field)hint;
        return true;
    }
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        if (is_name(f, key, len)) {
            *out = (scn_uav_field)f;
            return true;
        }
    }
    return false;
}

/* Key bytes: printable ASCII without space, ':' and ';'. */
static bool key_ok(const char *k, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (k[i] <= ' ' || k[i] > '~' || k[i] == ':' || k[i] == ';')
            return false;
    }
    return true;
}

/* Value bytes: printable ASCII (space included) without ';'. */
static bool value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] < ' ' || v[i] > '~' || v[i] == ';')
            return false;
    }
    return true;
}

const char *scn_uav_field_name(scn_uav_field field)
{
    if ((unsigned)field >= SCN_UAV_FIELD_COUNT)
        return NULL;
    return fields[field].name;
}

bool scn_uav_field_is_integer(scn_uav_field field)
{
    if ((unsigned)field >= SCN_UAV_FIELD_COUNT)
        return false;
    return fields[field].is_int;
}

int scn_uav_state_get(const scn_uav_state *state, scn_uav_field field,
                      double *value)
{
    if (state == NULL || value == NULL ||
        (unsigned)field >= SCN_UAV_FIELD_COUNT)
        return SCN_ERR_INVALID_ARG;
    if (!(state->present & (1u << field)))
        return SCN_ERR_ABSENT;
    *value = fields[field].is_int ? (double)int_of(state, field)
                                  : dec_of(state, field);
    return 0;
}

int scn_uav_state_set(scn_uav_state *state, scn_uav_field field, double value)
{
    if (state == NULL || (unsigned)field >= SCN_UAV_FIELD_COUNT)
        return SCN_ERR_INVALID_ARG;
    if (!isfinite(value))
        return SCN_ERR_OUT_OF_RANGE;
    if (fields[field].is_int) {
        double r = value < 0 ? value - 0.5 : value + 0.5;
        if (r <= (double)INT32_MIN - 1.0 || r >= (double)INT32_MAX + 1.0)
            return SCN_ERR_OUT_OF_RANGE;
        *int_at(state, field) = (int32_t)r; /* truncation completes it */
    } else {
        /* As the drone writes it, so that the value is written back
         * exactly (uav.h). */
        double r;
        if (!scn__uav_round_decimal(value, &r))
            return SCN_ERR_OUT_OF_RANGE;
        *dec_at(state, field) = r;
    }
    state->present |= 1u << field;
    return 0;
}

/* One pair, its key k[0..kn) and value v[0..vn) already held to
 * key_ok() and value_ok(); *hint: the field expected next. */
static int parse_pair(const char *k, size_t kn, const char *v, size_t vn,
                      scn_uav_state *st, int *hint)
{
    scn_uav_field f;

    if (!lookup(k, kn, *hint, &f)) {
        /* Unknown keys never fail a state: firmware adds fields. */
        if (st->unknown_count < SCN_UAV_STATE_UNKNOWN_MAX &&
            kn <= SCN_UAV_STATE_KEY_MAX && vn <= SCN_UAV_STATE_VALUE_MAX) {
            scn_uav_state_unknown *u = &st->unknown[st->unknown_count++];
            memcpy(u->key, k, kn);
            u->key[kn] = '\0';
            memcpy(u->value, v, vn);
            u->value[vn] = '\0';
        } else {
            st->unknown_dropped++;
        }
        return 0;
    }
    if (st->present & (1u << f))
        return SCN_ERR_MALFORMED;
    *hint = (int)f + 1;
    if (fields[f].is_int) {
        int64_t i;
        bool overflow;
        if (!scn__uav_read_int(v, vn, false, &i, &overflow) || overflow ||
            i < INT32_MIN || i > INT32_MAX)
            return SCN_ERR_MALFORMED;
        *int_at(st, f) = (int32_t)i;
    } else {
        double d;
        bool integral;
        if (!scn__uav_read_decimal(v, vn, &d, &integral))
            return SCN_ERR_MALFORMED;
        *dec_at(st, f) = d;
    }
    st->present |= 1u << f;
    return 0;
}

/* The "key:value" pairs between ';', each read in one pass that also
 * holds its key to key_ok() and its value to value_ok(). */
static int parse(const char *text, size_t len, scn_uav_state *st)
{
    const char *p = text, *end;
    int hint = 0;

    if (len > SCN_UAV_STATE_MAX)
        return SCN_ERR_MALFORMED;
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
                       text[len - 1] == '\r' || text[len - 1] == '\n'))
        len--;
    if (len == 0)
        return SCN_ERR_MALFORMED;
    end = text + len;
    while (p < end) {
        const char *k = p, *v;
        int rc;
        /* The key: printable ASCII without space up to the ':' (a ';'
         * first, or none, leaves the pair without one). */
        for (; p < end && *p != ':'; p++)
            if ((unsigned char)*p <= ' ' || (unsigned char)*p > '~' ||
                *p == ';')
                return SCN_ERR_MALFORMED;
        if (p == end || p == k)
            return SCN_ERR_MALFORMED;
        v = ++p;
        /* The value: printable ASCII up to the ';' or the end. */
        for (; p < end && *p != ';'; p++)
            if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
                return SCN_ERR_MALFORMED;
        rc = parse_pair(k, (size_t)(v - 1 - k), v, (size_t)(p - v), st, &hint);
        if (rc != 0)
            return rc;
        if (p < end)
            p++; /* the ';' */
    }
    /* Nothing kept (every pair an unknown key beyond the bounds): there
     * is nothing to tell, nor any state string to write it back as. */
    if (st->present == 0 && st->unknown_count == 0)
        return SCN_ERR_MALFORMED;
    return 0;
}

int scn_uav_state_parse(const char *text, size_t len, scn_uav_state *state)
{
    int rc;

    if (state == NULL)
        return SCN_ERR_INVALID_ARG;
    memset(state, 0, sizeof(*state));
    if (text == NULL && len > 0)
        return SCN_ERR_INVALID_ARG;
    rc = parse(text, len, state);
    if (rc != 0)
        memset(state, 0, sizeof(*state));
    return rc;
}

/* Checks an unknown entry the way the parser would have built it, so
 * that written output always parses back. */
static bool unknown_ok(const scn_uav_state_unknown *u)
{
    size_t kn = strnlen(u->key, sizeof u->key);
    size_t vn = strnlen(u->value, sizeof u->value);
    scn_uav_field f;

    return kn < sizeof u->key && vn < sizeof u->value && key_ok(u->key, kn) &&
           value_ok(u->value, vn) && !lookup(u->key, kn, 0, &f);
}

static size_t kept_unknowns(const scn_uav_state *st)
{
    return st->unknown_count < SCN_UAV_STATE_UNKNOWN_MAX
               ? st->unknown_count
               : SCN_UAV_STATE_UNKNOWN_MAX;
}

/* A present field's value, decimals with at least min_frac fraction
 * digits; false for a decimal that cannot be written. */
static bool put_value(scn_uav_out *o, const scn_uav_state *st, scn_uav_field f,
                      unsigned min_frac)
{
    if (fields[f].is_int) {
        scn__uav_out_int(o, int_of(st, f));
        return true;
    }
    return scn__uav_out_decimal(o, dec_of(st, f), min_frac);
}

/* The pairs, as the drone writes them (compact: false) or in their
 * shortest form, without the padding zeros and the last ';'. */
static bool put_state(scn_uav_out *o, const scn_uav_state *st, bool compact)
{
    const char *sep = "";

    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        if (!(st->present & (1u << f)))
            continue;
        scn__uav_out_str(o, sep);
        scn__uav_out_str(o, fields[f].name);
        scn__uav_out_put(o, ":", 1);
        if (!put_value(o, st, (scn_uav_field)f, compact ? 0 : 2))
            return false;
        sep = ";";
    }
    for (size_t i = 0; i < kept_unknowns(st); i++) {
        const scn_uav_state_unknown *u = &st->unknown[i];
        if (!unknown_ok(u))
            return false;
        scn__uav_out_str(o, sep);
        scn__uav_out_str(o, u->key);
        scn__uav_out_put(o, ":", 1);
        scn__uav_out_str(o, u->value);
        sep = ";";
    }
    if (!compact)
        scn__uav_out_str(o, sep);
    return o->len > 0;
}

int scn_uav_state_format(const scn_uav_state *state, char *buf, size_t cap,
                         size_t *written)
{
    scn_uav_out o;

    if (state == NULL || (buf == NULL && cap > 0))
        return SCN_ERR_INVALID_ARG;
    /* A state parsed from SCN_UAV_STATE_MAX bytes has a shortest form no
     * longer than that, but padding decimals and a last ';' can take the
     * drone's form past what the parser accepts. */
    for (int compact = 0; compact < 2; compact++) {
        scn__uav_out_init(&o, NULL, 0);
        if (!put_state(&o, state, compact))
            break;
        if (o.len > SCN_UAV_STATE_MAX)
            continue;
        scn__uav_out_init(&o, buf, cap);
        put_state(&o, state, compact);
        return scn__uav_out_end(&o, written);
    }
    scn__uav_out_init(&o, buf, cap);
    if (written != NULL)
        *written = 0;
    return SCN_ERR_INVALID_ARG;
}

static void put_json_string(scn_uav_out *o, const char *s)
{
    size_t room = o->buf != NULL && o->len < o->cap ? o->cap - o->len : 0;

    o->len += scn_json_write_string(room ? o->buf + o->len : NULL, room, s,
                                    strlen(s));
}

/* Whether v is already a JSON number: our decimal grammar without the
 * leading zeros JSON forbids ("007"). */
static bool is_json_number(const char *v)
{
    size_t n = strlen(v);
    const char *d = v[0] == '-' ? v + 1 : v;
    double x;
    bool integral;

    if (!scn__uav_read_decimal(v, n, &x, &integral))
        return false;
    return !(d[0] == '0' && d[1] >= '0' && d[1] <= '9');
}

int scn_uav_state_to_json(const scn_uav_state *state, char *buf, size_t cap,
                          size_t *written)
{
    scn_uav_out o;
    bool first = true;

    if (state == NULL || (buf == NULL && cap > 0))
        return SCN_ERR_INVALID_ARG;
    scn__uav_out_init(&o, buf, cap);
    scn__uav_out_put(&o, "{", 1);
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        if (!(state->present & (1u << f)))
            continue;
        /* The first member without its comma. */
        scn__uav_out_put(&o, fields[f].json_head + first,
                         fields[f].json_head_len - first);
        first = false;
        if (!put_value(&o, state, (scn_uav_field)f, 2))
            goto invalid;
    }
    for (size_t i = 0; i < kept_unknowns(state); i++) {
        const scn_uav_state_unknown *u = &state->unknown[i];
        bool repeated = false;
        if (!unknown_ok(u))
            goto invalid;
        /* A JSON object must not repeat a name: the first value wins. */
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = strcmp(state->unknown[j].key, u->key) == 0;
        if (repeated)
            continue;
        if (!first)
            scn__uav_out_put(&o, ",", 1);
        first = false;
        put_json_string(&o, u->key);
        scn__uav_out_put(&o, ":", 1);
        if (is_json_number(u->value))
            scn__uav_out_str(&o, u->value);
        else
            put_json_string(&o, u->value);
    }
    scn__uav_out_put(&o, "}", 1);
    return scn__uav_out_end(&o, written);
invalid:
    scn__uav_out_init(&o, buf, cap);
    if (written != NULL)
        *written = 0;
    return SCN_ERR_INVALID_ARG;
}
