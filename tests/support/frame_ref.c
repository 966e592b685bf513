/* The cJSON reference for the frame tokenizer (see frame_ref.h). */
#include "frame_ref.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <scentience/error.h>

#include "frame_internal.h"

typedef struct ref_key {
    char *name;
    scn_key_kind kind;
    char *raw;
} ref_key;

typedef struct ref {
    int rc;
    scn_frame_route route;
    char *type;
    size_t nkeys;
    ref_key keys[SCN_FRAME_MAX_KEYS];
    char *uid, *timestamp;
    int64_t timestamp_ns;
    bool has_seq;
    uint64_t seq;
    uint32_t field_mask;
    uint64_t compound_mask;
    double fields[SCN_FIELD_COUNT];
    double compounds[SCN_COMPOUND_COUNT][3];
} ref;

static void ref_free(ref *r)
{
    for (size_t i = 0; i < r->nkeys; i++) {
        free(r->keys[i].name);
        free(r->keys[i].raw);
    }
    free(r->type);
    free(r->uid);
    free(r->timestamp);
    memset(r, 0, sizeof *r);
}

static int ref_value(scn_jw *w, const cJSON *item, int depth)
{
    switch (item->type & 0xFF) {
    case cJSON_False:
        scn__jw_put(w, "false", 5);
        return 0;
    case cJSON_True:
        scn__jw_put(w, "true", 4);
        return 0;
    case cJSON_NULL:
        scn__jw_put(w, "null", 4);
        return 0;
    case cJSON_Number:
        if (!isfinite(item->valuedouble))
            return SCN_ERR_OUT_OF_RANGE;
        scn__jw_number(w, item->valuedouble);
        return 0;
    case cJSON_String:
        return scn__jw_string(w, item->valuestring);
    case cJSON_Array:
    case cJSON_Object: {
        bool obj = (item->type & 0xFF) == cJSON_Object;
        if (depth > SCN_FRAME_MAX_DEPTH)
            return SCN_ERR_TOO_DEEP;
        scn__jw_put(w, obj ? "{" : "[", 1);
        for (const cJSON *c = item->child; c != NULL; c = c->next) {
            int rc;
            if (c != item->child)
                scn__jw_put(w, ",", 1);
            if (obj) {
                rc = scn__jw_string(w, c->string);
                if (rc != 0)
                    return rc;
                scn__jw_put(w, ":", 1);
            }
            rc = ref_value(w, c, depth + 1);
            if (rc != 0)
                return rc;
        }
        scn__jw_put(w, obj ? "}" : "]", 1);
        return 0;
    }
    }
    return SCN_ERR_MALFORMED;
}

/* The linear classification the tokenizer's switch replaced. */
static scn_key_kind ref_classify(const char *name, int *index,
                                 scn_channel *channel)
{
    size_t len = strlen(name);
    scn_compound c;

    *channel = SCN_CHANNEL_SINGLE;
    if (name[0] == '_')
        return SCN_KEY_EXTENSION;
    if (strcmp(name, "UID") == 0)
        return SCN_KEY_UID;
    if (strcmp(name, "TIMESTAMP") == 0)
        return SCN_KEY_TIMESTAMP;
    if (strcmp(name, "SEQ") == 0)
        return SCN_KEY_SEQ;
    for (int i = 0; i < SCN_FIELD_COUNT; i++) {
        if (strcmp(scn_field_name((scn_field)i), name) == 0) {
            *index = i;
            return SCN_KEY_FIELD;
        }
    }
    for (int i = 0; i < SCN_COMPOUND_COUNT; i++) {
        const char *cn = scn_compound_name((scn_compound)i);
        size_t cl = strlen(cn);
        if (strcmp(cn, name) == 0) {
            *index = i;
            return SCN_KEY_COMPOUND;
        }
        if (len == cl + 2 && memcmp(cn, name, cl) == 0 && name[cl] == '_' &&
            (name[cl + 1] == 'A' || name[cl + 1] == 'B')) {
            c = (scn_compound)i;
            *index = (int)c;
            *channel = name[cl + 1] == 'A' ? SCN_CHANNEL_A : SCN_CHANNEL_B;
            return SCN_KEY_COMPOUND;
        }
    }
    return SCN_KEY_UNKNOWN;
}

static int ref_key_add(ref *r, const cJSON *item)
{
    scn_jw w = {NULL, 0, 0, true, false};
    scn_channel channel;
    int index = 0, rc;
    double v = item->valuedouble;
    ref_key *k;

    if (r->nkeys == SCN_FRAME_MAX_KEYS)
        return SCN_ERR_OUT_OF_RANGE;
    if (!scn__utf8_valid(item->string))
        return SCN_ERR_MALFORMED;
    for (size_t i = 0; i < r->nkeys; i++)
        if (strcmp(r->keys[i].name, item->string) == 0)
            return SCN_ERR_MALFORMED;
    k = &r->keys[r->nkeys++];
    k->name = strdup(item->string);
    rc = ref_value(&w, item, 2);
    scn__jw_put(&w, "", 1);
    k->raw = w.buf;
    if (rc != 0)
        return rc;
    k->kind = ref_classify(item->string, &index, &channel);
    switch (k->kind) {
    case SCN_KEY_UID:
        if (!cJSON_IsString(item))
            return SCN_ERR_WRONG_TYPE;
        r->uid = strdup(item->valuestring);
        break;
    case SCN_KEY_TIMESTAMP:
        if (!cJSON_IsString(item) ||
            scn_timestamp_parse(item->valuestring, &r->timestamp_ns) != 0)
            return SCN_ERR_WRONG_TYPE;
        r->timestamp = strdup(item->valuestring);
        break;
    case SCN_KEY_SEQ:
        if (!cJSON_IsNumber(item))
            return SCN_ERR_WRONG_TYPE;
        if (!(v >= 0 && v < 9007199254740992.0) || (double)(uint64_t)v != v)
            return SCN_ERR_OUT_OF_RANGE;
        r->seq = (uint64_t)v;
        r->has_seq = true;
        break;
    case SCN_KEY_FIELD:
        if (!cJSON_IsNumber(item))
            return SCN_ERR_WRONG_TYPE;
        r->fields[index] = v;
        r->field_mask |= 1u << index;
        break;
    case SCN_KEY_COMPOUND:
        if (!cJSON_IsNumber(item))
            return SCN_ERR_WRONG_TYPE;
        r->compounds[index][channel] = v;
        r->compound_mask |= UINT64_C(1) << (3 * index + (int)channel);
        break;
    default:
        break;
    }
    return 0;
}

static int ref_adopt(ref *r, const cJSON *root)
{
    int rc = 0;

    for (const cJSON *item = root->child; item != NULL && rc == 0;
         item = item->next)
        rc = ref_key_add(r, item);
    if (rc == 0 && (r->uid == NULL || r->timestamp == NULL))
        rc = SCN_ERR_MISSING_FIELD;
    return rc;
}

/* The old scn_frame_parse() (route false) or session routing (true). */
static void ref_parse(ref *r, const char *json, size_t len, bool route)
{
    cJSON *root = NULL, *type;

    memset(r, 0, sizeof *r);
    r->route = SCN_ROUTE_INVALID;
    r->rc = scn__frame_json_parse(json, len, &root);
    if (r->rc == 0 && !cJSON_IsObject(root))
        r->rc = SCN_ERR_MALFORMED;
    if (r->rc != 0) {
        cJSON_Delete(root);
        return;
    }
    type = route ? cJSON_GetObjectItemCaseSensitive(root, "type") : NULL;
    if (type == NULL) {
        r->route = SCN_ROUTE_FRAME;
        r->rc = ref_adopt(r, root);
        if (r->rc != 0) { /* an error leaves nothing behind */
            int rc = r->rc;
            ref_free(r);
            r->rc = rc;
            r->route = SCN_ROUTE_FRAME;
        }
    } else if (cJSON_IsString(type)) {
        r->route = SCN_ROUTE_MESSAGE;
        r->type = strdup(type->valuestring);
    } else {
        r->route = SCN_ROUTE_BAD_TYPE;
        r->rc = SCN_ERR_WRONG_TYPE;
    }
    cJSON_Delete(root);
}

static int differs(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int differs(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return 1;
}

/* The typed view of an accepted frame against the reference's. */
static int compare_view(const scn_frame *f, const ref *r, char *why, size_t cap)
{
    uint64_t seq = 0;

    if (scn_frame_key_count(f) != r->nkeys)
        return differs(why, cap, "%zu keys, reference %zu",
                       scn_frame_key_count(f), r->nkeys);
    for (size_t i = 0; i < r->nkeys; i++) {
        const char *name, *raw;
        scn_key_kind kind;
        if (scn_frame_key_at(f, i, &name, &kind, &raw) != 0)
            return differs(why, cap, "key %zu missing", i);
        if (strcmp(name, r->keys[i].name) != 0 ||
            strcmp(raw, r->keys[i].raw) != 0 || kind != r->keys[i].kind)
            return differs(why, cap,
                           "key %zu: %s=%s (%d), reference %s=%s (%d)", i, name,
                           raw, (int)kind, r->keys[i].name, r->keys[i].raw,
                           (int)r->keys[i].kind);
        if (scn_frame_raw(f, name) != raw)
            return differs(why, cap, "key %zu: lookup finds another", i);
    }
    if (scn_frame_uid(f) == NULL || strcmp(scn_frame_uid(f), r->uid) != 0 ||
        scn_frame_timestamp(f) == NULL ||
        strcmp(scn_frame_timestamp(f), r->timestamp) != 0 ||
        scn_frame_timestamp_ns(f) != r->timestamp_ns)
        return differs(why, cap, "UID or TIMESTAMP differ");
    if ((scn_frame_seq(f, &seq) == 0) != r->has_seq || seq != r->seq)
        return differs(why, cap, "SEQ differs");
    for (int i = 0; i < SCN_FIELD_COUNT; i++) {
        double v = 0;
        bool has = scn_frame_field(f, (scn_field)i, &v) == 0;
        if (has != ((r->field_mask >> i) & 1) ||
            (has && memcmp(&v, &r->fields[i], sizeof v) != 0))
            return differs(why, cap, "field %d differs", i);
    }
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++) {
        for (int ch = 0; ch < 3; ch++) {
            bool has =
                scn_frame_has_compound(f, (scn_compound)c, (scn_channel)ch);
            double v = scn_frame_compound(f, (scn_compound)c, (scn_channel)ch);
            if (has != ((r->compound_mask >> (3 * c + ch)) & 1) ||
                (has && memcmp(&v, &r->compounds[c][ch], sizeof v) != 0))
                return differs(why, cap, "compound %d/%d differs", c, ch);
        }
    }
    return 0;
}

int frame_ref_compare(scn_frame *f, const char *json, size_t len, bool route,
                      char *why, size_t why_cap)
{
    scn_frame_route got_route = SCN_ROUTE_FRAME;
    const char *type = NULL;
    ref *r = calloc(1, sizeof *r);
    int rc, diff = 0;

    if (r == NULL)
        return differs(why, why_cap, "out of memory");
    ref_parse(r, json, len, route);
    if (route)
        rc = scn__frame_parse_inbound(f, json, len, &got_route, &type);
    else
        rc = scn_frame_parse(f, json, len);
    if (rc != r->rc || (route && got_route != r->route)) {
        diff = differs(why, why_cap, "got %s route %d, reference %s route %d",
                       scn_err_name(rc), (int)got_route, scn_err_name(r->rc),
                       (int)r->route);
    } else if (route && r->route == SCN_ROUTE_MESSAGE &&
               (type == NULL || strcmp(type, r->type) != 0)) {
        diff = differs(why, why_cap, "type \"%s\", reference \"%s\"",
                       type ? type : "(null)", r->type);
    } else if (rc != 0 || (route && got_route != SCN_ROUTE_FRAME)) {
        /* Refused, or not a frame: nothing may be left behind. */
        if (scn_frame_key_count(f) != 0 || scn_frame_uid(f) != NULL)
            diff =
                differs(why, why_cap, "keys left after %s", scn_err_name(rc));
    } else {
        diff = compare_view(f, r, why, why_cap);
    }
    ref_free(r);
    free(r);
    return diff;
}
