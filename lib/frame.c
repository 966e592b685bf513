/*
 * Device frames: validation of a parsed JSON object into the typed,
 * reusable view declared in scentience/frame.h.
 */
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

#include "frame_internal.h"

/* 2^53: from here on doubles skip integers, so a SEQ that reads as 2^53 or
 * more may not be the number that was sent. */
#define SEQ_LIMIT 9007199254740992.0

/* Initial raw buffer: the published example frame needs about 150 bytes,
 * so ordinary frames never make the buffer grow. */
#define RAW_INITIAL 1024

typedef struct name_entry {
    const char *name;
    unsigned char len;
} name_entry;

static const name_entry field_names[SCN_FIELD_COUNT] = {
    [SCN_FIELD_ENV_TEMPERATURE_C] = {"ENV_temperatureC", 16},
    [SCN_FIELD_ENV_HUMIDITY] = {"ENV_humidity", 12},
    [SCN_FIELD_ENV_PRESSURE_HPA] = {"ENV_pressureHpa", 15},
    [SCN_FIELD_STATUS_OPU_A] = {"STATUS_opuA", 11},
    [SCN_FIELD_BATT_HEALTH] = {"BATT_health", 11},
    [SCN_FIELD_BATT_V] = {"BATT_v", 6},
    [SCN_FIELD_BATT_CHARGE] = {"BATT_charge", 11},
    [SCN_FIELD_BATT_TIME] = {"BATT_time", 9},
};

static const name_entry compound_names[SCN_COMPOUND_COUNT] = {
    [SCN_CO2] = {"CO2", 3},   [SCN_NH3] = {"NH3", 3},
    [SCN_NO] = {"NO", 2},     [SCN_NO2] = {"NO2", 3},
    [SCN_CO] = {"CO", 2},     [SCN_C2H5OH] = {"C2H5OH", 6},
    [SCN_H2] = {"H2", 2},     [SCN_CH4] = {"CH4", 3},
    [SCN_C3H8] = {"C3H8", 4}, [SCN_C4H10] = {"C4H10", 5},
    [SCN_H2S] = {"H2S", 3},   [SCN_HCHO] = {"HCHO", 4},
    [SCN_SO2] = {"SO2", 3},   [SCN_VOC] = {"VOC", 3},
};

static bool name_is(const name_entry *e, const char *s, size_t len)
{
    return e->len == len && memcmp(e->name, s, len) == 0;
}

static bool find_compound(const char *s, size_t len, scn_compound *c)
{
    for (int i = 0; i < SCN_COMPOUND_COUNT; i++) {
        if (name_is(&compound_names[i], s, len)) {
            *c = (scn_compound)i;
            return true;
        }
    }
    return false;
}

/* Frame keys are case-sensitive, as JSON names are. A short linear scan
 * with a length test first is cheaper than hashing for 25 names. */
static scn_key_kind classify(const char *name, size_t len, int *index,
                             scn_channel *channel)
{
    scn_compound c;

    *channel = SCN_CHANNEL_SINGLE;
    if (name[0] == '_')
        return SCN_KEY_EXTENSION;
    if (len == 3 && memcmp(name, "UID", 3) == 0)
        return SCN_KEY_UID;
    if (len == 9 && memcmp(name, "TIMESTAMP", 9) == 0)
        return SCN_KEY_TIMESTAMP;
    if (len == 3 && memcmp(name, "SEQ", 3) == 0)
        return SCN_KEY_SEQ;
    for (int i = 0; i < SCN_FIELD_COUNT; i++) {
        if (name_is(&field_names[i], name, len)) {
            *index = i;
            return SCN_KEY_FIELD;
        }
    }
    if (find_compound(name, len, &c)) {
        *index = (int)c;
        return SCN_KEY_COMPOUND;
    }
    if (len > 2 && name[len - 2] == '_' &&
        (name[len - 1] == 'A' || name[len - 1] == 'B') &&
        find_compound(name, len - 2, &c)) {
        *index = (int)c;
        *channel = name[len - 1] == 'A' ? SCN_CHANNEL_A : SCN_CHANNEL_B;
        return SCN_KEY_COMPOUND;
    }
    return SCN_KEY_UNKNOWN;
}

/* FNV-1a; also measures the name. */
static uint32_t name_hash(const char *s, size_t *len)
{
    uint32_t h = 2166136261u;
    size_t n = 0;

    for (; s[n] != '\0'; n++)
        h = (h ^ (unsigned char)s[n]) * 16777619u;
    *len = n;
    return h;
}

/* The slot holding name, or the free slot where it would go. */
static size_t find_slot(const scn_frame *f, const char *name, size_t *len)
{
    size_t slot = name_hash(name, len) & (SCN_FRAME_SLOTS - 1);

    while (f->slots[slot] != 0 &&
           strcmp(f->keys[f->slots[slot] - 1].name, name) != 0)
        slot = (slot + 1) & (SCN_FRAME_SLOTS - 1);
    return slot;
}

static void frame_reset(scn_frame *f)
{
    cJSON_Delete(f->root);
    f->root = NULL;
    f->uid = NULL;
    f->timestamp = NULL;
    f->timestamp_ns = 0;
    f->seq = 0;
    f->has_seq = false;
    f->field_mask = 0;
    f->compound_mask = 0;
    if (f->nkeys > 0)
        memset(f->slots, 0, sizeof f->slots);
    f->nkeys = 0;
}

static int number_of(const cJSON *item, double *v)
{
    if (!cJSON_IsNumber(item))
        return SCN_ERR_WRONG_TYPE;
    *v = item->valuedouble;
    return 0;
}

/* Type-checks a known key and stores it in the typed view. Duplicates were
 * refused before, so every slot is written at most once per parse. */
static int interpret(scn_frame *f, scn_key_kind kind, int index,
                     scn_channel channel, const cJSON *item)
{
    double v;
    int rc = 0;

    switch (kind) {
    case SCN_KEY_UID:
        if (!cJSON_IsString(item))
            return SCN_ERR_WRONG_TYPE;
        f->uid = item->valuestring;
        break;
    case SCN_KEY_TIMESTAMP:
        if (!cJSON_IsString(item) ||
            scn_timestamp_parse(item->valuestring, &f->timestamp_ns) != 0)
            return SCN_ERR_WRONG_TYPE;
        f->timestamp = item->valuestring;
        break;
    case SCN_KEY_SEQ:
        if ((rc = number_of(item, &v)) != 0)
            return rc;
        if (!(v >= 0 && v < SEQ_LIMIT) || (double)(uint64_t)v != v)
            return SCN_ERR_OUT_OF_RANGE;
        f->seq = (uint64_t)v;
        f->has_seq = true;
        break;
    case SCN_KEY_FIELD:
        if ((rc = number_of(item, &v)) != 0)
            return rc;
        f->fields[index] = v;
        f->field_mask |= 1u << index;
        break;
    case SCN_KEY_COMPOUND:
        /* Kept as received even when <= 0: the device should have omitted
         * it, but refusing the whole reading would lose the rest. */
        if ((rc = number_of(item, &v)) != 0)
            return rc;
        f->compounds[index][channel] = v;
        f->compound_mask |= UINT64_C(1) << (3 * index + (int)channel);
        break;
    case SCN_KEY_EXTENSION:
    case SCN_KEY_UNKNOWN:
        break;
    }
    return 0;
}

static int add_key(scn_frame *f, scn_jw *w, const cJSON *item)
{
    const char *name = item->string;
    scn_frame_key *k;
    scn_channel channel;
    size_t len, slot;
    int index = 0, rc;

    if (f->nkeys == SCN_FRAME_MAX_KEYS)
        return SCN_ERR_OUT_OF_RANGE;
    if (name == NULL || !scn_utf8_valid(name))
        return SCN_ERR_MALFORMED;
    /* A repeated name is ambiguous (JSON leaves its meaning open), and
     * would make scn_frame_raw() and the typed view disagree. */
    slot = find_slot(f, name, &len);
    if (f->slots[slot] != 0)
        return SCN_ERR_MALFORMED;

    k = &f->keys[f->nkeys];
    k->name = name;
    k->raw_off = w->len;
    f->slots[slot] = (uint16_t)++f->nkeys;
    rc = scn_jw_value(w, item, 2);
    if (rc != 0)
        return rc;
    scn_jw_put(w, "", 1);
    if (w->oom)
        return SCN_ERR_NOMEM;
    k->raw_len = w->len - k->raw_off - 1;
    k->kind = classify(name, len, &index, &channel);
    return interpret(f, k->kind, index, channel, item);
}

static int fill(scn_frame *f, const cJSON *root)
{
    scn_jw w = {.buf = f->raw, .cap = f->raw_cap, .grow = true};
    int rc = 0;

    if (!cJSON_IsObject(root))
        return SCN_ERR_MALFORMED;
    for (const cJSON *item = root->child; item != NULL && rc == 0;
         item = item->next)
        rc = add_key(f, &w, item);
    /* Keep the grown buffer even on error: the next parse reuses it. */
    f->raw = w.buf;
    f->raw_cap = w.cap;
    if (rc != 0)
        return rc;
    if (f->uid == NULL || f->timestamp == NULL)
        return SCN_ERR_MISSING_FIELD;
    return 0;
}

int scn_frame_adopt(scn_frame *f, cJSON *root)
{
    int rc;

    if (f == NULL) {
        cJSON_Delete(root);
        return SCN_ERR_INVALID_ARG;
    }
    frame_reset(f);
    if (root == NULL)
        return SCN_ERR_MALFORMED;
    f->root = root;
    rc = fill(f, root);
    if (rc != 0)
        frame_reset(f);
    return rc;
}

int scn_frame_new(scn_frame **out)
{
    scn_frame *f;

    if (out == NULL)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return SCN_ERR_NOMEM;
    f->raw = malloc(RAW_INITIAL);
    if (f->raw == NULL) {
        free(f);
        return SCN_ERR_NOMEM;
    }
    f->raw_cap = RAW_INITIAL;
    *out = f;
    return 0;
}

void scn_frame_free(scn_frame *frame)
{
    if (frame == NULL)
        return;
    cJSON_Delete(frame->root);
    free(frame->raw);
    free(frame);
}

int scn_frame_parse(scn_frame *frame, const char *json, size_t len)
{
    cJSON *root;
    int rc;

    if (frame == NULL)
        return SCN_ERR_INVALID_ARG;
    /* Release the previous tree before building the next one. */
    frame_reset(frame);
    rc = scn_frame_json_parse(json, len, &root);
    if (rc != 0)
        return rc;
    return scn_frame_adopt(frame, root);
}

const char *scn_frame_uid(const scn_frame *frame)
{
    return frame ? frame->uid : NULL;
}

int64_t scn_frame_timestamp_ns(const scn_frame *frame)
{
    return frame ? frame->timestamp_ns : 0;
}

const char *scn_frame_timestamp(const scn_frame *frame)
{
    return frame ? frame->timestamp : NULL;
}

int scn_frame_seq(const scn_frame *frame, uint64_t *seq)
{
    if (frame == NULL || seq == NULL)
        return SCN_ERR_INVALID_ARG;
    if (!frame->has_seq)
        return SCN_ERR_ABSENT;
    *seq = frame->seq;
    return 0;
}

int scn_frame_field(const scn_frame *frame, scn_field field, double *value)
{
    if (frame == NULL || value == NULL || (unsigned)field >= SCN_FIELD_COUNT)
        return SCN_ERR_INVALID_ARG;
    if (!(frame->field_mask & (1u << field)))
        return SCN_ERR_ABSENT;
    *value = frame->fields[field];
    return 0;
}

static bool compound_ok(const scn_frame *frame, scn_compound c,
                        scn_channel channel)
{
    return frame != NULL && (unsigned)c < SCN_COMPOUND_COUNT &&
           (unsigned)channel <= SCN_CHANNEL_B &&
           (frame->compound_mask &
            (UINT64_C(1) << (3 * (int)c + (int)channel)));
}

double scn_frame_compound(const scn_frame *frame, scn_compound c,
                          scn_channel channel)
{
    return compound_ok(frame, c, channel) ? frame->compounds[c][channel] : 0.0;
}

int scn_frame_has_compound(const scn_frame *frame, scn_compound c,
                           scn_channel channel)
{
    return compound_ok(frame, c, channel);
}

size_t scn_frame_key_count(const scn_frame *frame)
{
    return frame ? frame->nkeys : 0;
}

int scn_frame_key_at(const scn_frame *frame, size_t index, const char **name,
                     scn_key_kind *kind, const char **json_value)
{
    const scn_frame_key *k;

    if (frame == NULL || index >= frame->nkeys)
        return SCN_ERR_INVALID_ARG;
    k = &frame->keys[index];
    if (name)
        *name = k->name;
    if (kind)
        *kind = k->kind;
    if (json_value)
        *json_value = frame->raw + k->raw_off;
    return 0;
}

const char *scn_frame_raw(const scn_frame *frame, const char *name)
{
    size_t len, slot;

    if (frame == NULL || name == NULL || frame->nkeys == 0)
        return NULL;
    slot = find_slot(frame, name, &len);
    if (frame->slots[slot] == 0)
        return NULL;
    return frame->raw + frame->keys[frame->slots[slot] - 1].raw_off;
}

const char *scn_field_name(scn_field field)
{
    return (unsigned)field < SCN_FIELD_COUNT ? field_names[field].name : NULL;
}

const char *scn_compound_name(scn_compound c)
{
    return (unsigned)c < SCN_COMPOUND_COUNT ? compound_names[c].name : NULL;
}

static char ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int scn_compound_from_name(const char *name, scn_compound *out)
{
    if (name == NULL || out == NULL)
        return SCN_ERR_INVALID_ARG;
    for (int i = 0; i < SCN_COMPOUND_COUNT; i++) {
        const char *a = compound_names[i].name, *b = name;
        /* Formulas are upper-case letters and digits, so ASCII case
         * folding of the input is enough (and locale-independent). */
        while (*a != '\0' && *a == ascii_upper(*b)) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0') {
            *out = (scn_compound)i;
            return 0;
        }
    }
    return SCN_ERR_NOT_FOUND;
}
