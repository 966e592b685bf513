/*
 * Drone state strings (uav/state.c). An accepted state is written with
 * scn_uav_state_format(), which must parse again to the same fields and
 * kept unknown keys and then write the very same text; its JSON form must
 * be strict JSON holding the same numbers, and pass the checks of the
 * calls the companion now spares it (scn_live_publish()'s, and the cloud
 * encoder's for an attached state, whose record must be byte for byte
 * the one made without the check).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <scentience/error.h>
#include <scentience/frame.h>
#include <scentience/uav.h>

#include "cloud_msg.h"
#include "fanout_internal.h"
#include "frame_internal.h"

static char *format(const scn_uav_state *st, size_t *len,
                    int (*fn)(const scn_uav_state *, char *, size_t, size_t *))
{
    size_t need = 0;
    char *buf;
    int rc = fn(st, NULL, 0, &need);

    FUZZ_CHECK(rc == SCN_ERR_NOMEM, "size query: %s", scn_err_name(rc));
    buf = malloc(need);
    FUZZ_CHECK(buf != NULL, "out of memory");
    rc = fn(st, buf, need, len);
    FUZZ_CHECK(rc == 0 && *len + 1 == need && strlen(buf) == *len,
               "writer: %s, %zu bytes for %zu", scn_err_name(rc), *len, need);
    return buf;
}

static void check_same(const scn_uav_state *a, const scn_uav_state *b,
                       const char *text)
{
    FUZZ_CHECK(a->present == b->present, "fields %x became %x in \"%s\"",
               a->present, b->present, text);
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        double va = 0, vb = 0;
        scn_uav_state_get(a, (scn_uav_field)f, &va);
        scn_uav_state_get(b, (scn_uav_field)f, &vb);
        FUZZ_CHECK(va == vb, "%s: %.17g became %.17g in \"%s\"",
                   scn_uav_field_name((scn_uav_field)f), va, vb, text);
    }
    FUZZ_CHECK(a->unknown_count == b->unknown_count && b->unknown_dropped == 0,
               "unknown keys: %zu kept became %zu (%zu dropped)",
               a->unknown_count, b->unknown_count, b->unknown_dropped);
    for (size_t i = 0; i < a->unknown_count; i++)
        FUZZ_CHECK(strcmp(a->unknown[i].key, b->unknown[i].key) == 0 &&
                       strcmp(a->unknown[i].value, b->unknown[i].value) == 0,
                   "unknown key %zu changed", i);
}

static void check_downstream(const char *json, size_t len)
{
    static const char frame_json[] =
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00.250Z\","
        "\"NH3\":270}";
    static scn_frame *frame;
    char *a = NULL, *b = NULL, why[256];
    size_t alen = 0, blen = 0;
    int rc;

    if (frame == NULL)
        FUZZ_CHECK(
            scn_frame_new(&frame) == 0 &&
                scn_frame_parse(frame, frame_json, sizeof(frame_json) - 1) == 0,
            "frame");
    FUZZ_CHECK(scn__json_value_ok(json, len), "/live refuses %s", json);
    rc = scn__cloud_encode_parsed_why(1, frame, json, len, 40, &a, &alen, why,
                                      sizeof why);
    FUZZ_CHECK(rc == 0, "the cloud refuses %s: %s", json, why);
    rc = scn__cloud_encode_parsed_checked(1, frame, json, len, 40, &b, &blen,
                                          NULL, 0);
    FUZZ_CHECK(rc == 0 && alen == blen && memcmp(a, b, alen) == 0,
               "records differ for %s", json);
    free(a);
    free(b);
}

static void check_json(const scn_uav_state *st)
{
    size_t len;
    char *json = format(st, &len, scn_uav_state_to_json);
    cJSON *root = NULL;

    FUZZ_CHECK(len <= SCN_UAV_STATE_JSON_MAX,
               "JSON form of %zu bytes, past SCN_UAV_STATE_JSON_MAX: %s", len,
               json);
    FUZZ_CHECK(scn__frame_json_parse(json, len, &root) == 0 &&
                   cJSON_IsObject(root),
               "JSON form is not a strict object: %s", json);
    for (int f = 0; f < SCN_UAV_FIELD_COUNT; f++) {
        const char *name = scn_uav_field_name((scn_uav_field)f);
        cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
        double want = 0;
        if (scn_uav_state_get(st, (scn_uav_field)f, &want) != 0) {
            FUZZ_CHECK(v == NULL, "%s written but absent", name);
            continue;
        }
        FUZZ_CHECK(cJSON_IsNumber(v) && v->valuedouble == want,
                   "%s: %.17g in %s", name, want, json);
    }
    cJSON_Delete(root);
    check_downstream(json, len);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scn_uav_state *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    char *text, *again;
    size_t len, len2;
    int rc;

    if (a == NULL || b == NULL)
        abort();
    rc = scn_uav_state_parse((const char *)data, size, a);
    FUZZ_CHECK(rc == 0 || rc == SCN_ERR_MALFORMED, "rc %s", scn_err_name(rc));
    if (rc == 0) {
        text = format(a, &len, scn_uav_state_format);
        rc = scn_uav_state_parse(text, len, b);
        FUZZ_CHECK(rc == 0, "written state \"%s\" does not parse: %s", text,
                   scn_err_name(rc));
        check_same(a, b, text);
        again = format(b, &len2, scn_uav_state_format);
        FUZZ_CHECK(len == len2 && memcmp(text, again, len) == 0,
                   "written twice: \"%s\", then \"%s\"", text, again);
        check_json(a);
        free(again);
        free(text);
    }
    free(b);
    free(a);
    return 0;
}
