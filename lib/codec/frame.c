/*
 * Device frames: the typed, reusable view declared in scentience/frame.h,
 * its storage and accessors. Parsing is in frame_scan.c.
 */
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

#include "frame_internal.h"

/* Initial buffers: the published example frame needs about 150 bytes of
 * raw text and 200 of names, so ordinary frames never make them grow. */
#define RAW_INITIAL   1024
#define NAMES_INITIAL 1024

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

void scn__frame_clear(scn_frame *f)
{
    /* Only the slots in use: clearing all 512 costs more than a frame. */
    for (size_t i = 0; i < f->nkeys; i++)
        f->slots[f->keys[i].slot] = 0;
    f->nkeys = 0;
    f->uid_off = SCN_FRAME_NO_OFF;
    f->timestamp_off = SCN_FRAME_NO_OFF;
    f->type_off = SCN_FRAME_NO_OFF;
    f->timestamp_ns = 0;
    f->seq = 0;
    f->has_seq = false;
    f->field_mask = 0;
    f->compound_mask = 0;
    f->names_len = 0;
    f->raw_len = 0;
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
    f->names = malloc(NAMES_INITIAL);
    if (f->raw == NULL || f->names == NULL) {
        free(f->raw);
        free(f->names);
        free(f);
        return SCN_ERR_NOMEM;
    }
    f->raw_cap = RAW_INITIAL;
    f->names_cap = NAMES_INITIAL;
    scn__frame_clear(f);
    *out = f;
    return 0;
}

void scn_frame_free(scn_frame *frame)
{
    if (frame == NULL)
        return;
    free(frame->raw);
    free(frame->names);
    free(frame);
}

static const char *name_at(const scn_frame *frame, size_t off)
{
    return off == SCN_FRAME_NO_OFF ? NULL : frame->names + off;
}

const char *scn_frame_uid(const scn_frame *frame)
{
    return frame ? name_at(frame, frame->uid_off) : NULL;
}

int64_t scn_frame_timestamp_ns(const scn_frame *frame)
{
    return frame ? frame->timestamp_ns : 0;
}

const char *scn_frame_timestamp(const scn_frame *frame)
{
    return frame ? name_at(frame, frame->timestamp_off) : NULL;
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
        *name = frame->names + k->name_off;
    if (kind)
        *kind = k->kind;
    if (json_value)
        *json_value = frame->raw + k->raw_off;
    return 0;
}

const char *scn_frame_raw(const scn_frame *frame, const char *name)
{
    size_t slot;

    if (frame == NULL || name == NULL || frame->nkeys == 0)
        return NULL;
    slot = scn_frame_probe(frame, name, strlen(name));
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
