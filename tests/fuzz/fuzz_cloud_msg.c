/*
 * Cloud messages (lib/cloud/cloud_msg.c). What the cloud sends is decoded as a
 * stream message and as a predict answer: what is accepted must be within
 * the documented bounds, and a refusal leaves nothing behind. The same
 * bytes are also given to the record encoder as a device frame and as a
 * drone state: a record it writes must be strict JSON without a NUL,
 * carrying exactly the object it was given. A message the fast pass
 * vouches for, read in place, decodes as its cJSON tree does.
 */
#include "fuzz.h"

#include <math.h>

#include <cjson/cJSON.h>
#include <scentience/error.h>

#include "cloud_msg.h"
#include "frame_internal.h"
#include "json_check.h"

static const char frame[] =
    "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\",\"NH3\":270}";

/* A decoded string: terminated inside its buffer, UTF-8, and non-empty
 * where the decoder promises it. */
static void check_text(const char *s, size_t cap, bool nonempty)
{
    size_t n = strnlen(s, cap);

    FUZZ_CHECK(n < cap, "string not terminated in its buffer");
    FUZZ_CHECK(!nonempty || n > 0, "empty string accepted");
    FUZZ_CHECK(scn__utf8_valid(s), "invalid UTF-8 accepted");
}

static void check_msg(int rc, const scn_cloud_msg *m)
{
    static const scn_cloud_msg zero;

    if (rc == SCN_ERR_UNKNOWN_TYPE) {
        FUZZ_CHECK(m->type == SCN_CLOUD_MSG_UNKNOWN, "unknown type kept");
        check_text(m->type_name, sizeof m->type_name, false);
        return;
    }
    if (rc != 0) {
        FUZZ_CHECK(memcmp(m, &zero, sizeof zero) == 0,
                   "refused (%s) but filled", scn_err_name(rc));
        return;
    }
    switch (m->type) {
    case SCN_CLOUD_MSG_HELLO:
        check_text(m->u.hello.protocol, sizeof m->u.hello.protocol, true);
        FUZZ_CHECK(m->u.hello.model_count <= SCN_CLOUD_MAX_MODELS, "models");
        for (size_t i = 0; i < m->u.hello.model_count; i++)
            check_text(m->u.hello.models[i], sizeof m->u.hello.models[i], true);
        if (m->u.hello.has_stream)
            check_text(m->u.hello.stream, sizeof m->u.hello.stream, true);
        FUZZ_CHECK(m->u.hello.acked <= SCN_CLOUD_SEQ_MAX, "acked");
        break;
    case SCN_CLOUD_MSG_INFERENCE: {
        const scn_cloud_inference *inf = &m->u.inference;
        check_text(inf->model, sizeof inf->model, true);
        FUZZ_CHECK(!inf->has_seq ||
                       (inf->seq >= 1 && inf->seq <= SCN_CLOUD_SEQ_MAX),
                   "seq %llu", (unsigned long long)inf->seq);
        FUZZ_CHECK(inf->label_count <= SCN_CLOUD_MAX_LABELS, "labels");
        for (size_t i = 0; i < inf->label_count; i++) {
            check_text(inf->labels[i].label, sizeof inf->labels[i].label, true);
            FUZZ_CHECK(inf->labels[i].score >= 0 && inf->labels[i].score <= 1,
                       "score %g", inf->labels[i].score);
        }
        if (inf->has_target)
            check_text(inf->compound, sizeof inf->compound, true);
        FUZZ_CHECK(!inf->has_bearing ||
                       (inf->bearing_deg >= 0 && inf->bearing_deg < 360),
                   "bearing %g", inf->bearing_deg);
        break;
    }
    case SCN_CLOUD_MSG_ACK:
        FUZZ_CHECK(m->u.ack.seq <= SCN_CLOUD_SEQ_MAX, "ack seq");
        break;
    case SCN_CLOUD_MSG_ERROR:
        check_text(m->u.error.code, sizeof m->u.error.code, true);
        check_text(m->u.error.message, sizeof m->u.error.message, false);
        FUZZ_CHECK(!m->u.error.has_retry_after ||
                       m->u.error.retry_after_ms <= 1000u * 86400,
                   "retry_after");
        break;
    default:
        FUZZ_CHECK(false, "accepted with type %d", (int)m->type);
    }
}

/* The member name of the record out, which must be a strict JSON object. */
static cJSON *record_member(const char *out, size_t len, const char *name,
                            cJSON **root)
{
    FUZZ_CHECK(strlen(out) == len, "NUL inside the record: %s", out);
    FUZZ_CHECK(scn__frame_json_parse(out, len, root) == 0,
               "record is not strict JSON: %s", out);
    return cJSON_GetObjectItemCaseSensitive(*root, name);
}

static void check_encoder(const char *text, size_t size)
{
    char *out = NULL, why[256];
    size_t len = 0;
    int rc;
    cJSON *given = NULL, *root = NULL;

    /* As a device frame. */
    if (scn__cloud_encode_frame(1, text, size, NULL, 0, 0, &out, &len) == 0) {
        cJSON *f = record_member(out, len, "frame", &root);
        FUZZ_CHECK(scn__frame_json_parse(text, size, &given) == 0,
                   "accepted a frame that is not strict JSON");
        FUZZ_CHECK(cJSON_Compare(f, given, true), "frame changed: %s", out);
        cJSON_Delete(given);
        cJSON_Delete(root);
        free(out);
    }
    /* As a drone state: the same members, its age beside it. A refusal
     * says why in printable text (member names come from the drone). */
    rc = scn__cloud_encode_frame_why(2, frame, sizeof frame - 1, text, size, -7,
                                     &out, &len, why, sizeof why);
    FUZZ_CHECK(strlen(why) < sizeof why && (rc == 0) == (why[0] == '\0'),
               "why \"%s\" for %s", why, scn_err_name(rc));
    for (const char *p = why; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7f, "byte 0x%02x in why",
                   (unsigned char)*p);
    if (rc == 0) {
        cJSON *st = record_member(out, len, "state", &root);
        cJSON *age = cJSON_GetObjectItemCaseSensitive(root, "state_age_ms");
        FUZZ_CHECK(cJSON_IsNumber(age) && age->valuedouble == -7,
                   "state_age_ms");
        FUZZ_CHECK(scn__frame_json_parse(text, size, &given) == 0,
                   "accepted a state that is not strict JSON");
        FUZZ_CHECK(cJSON_Compare(st, given, true), "state changed: %s", out);
        cJSON_Delete(given);
        cJSON_Delete(root);
        free(out);
    }
    if (scn__cloud_encode_predict(text, size, &out, &len) == 0) {
        cJSON *in = record_member(out, len, "input", &root);
        FUZZ_CHECK(in != NULL, "no input");
        cJSON_Delete(root);
        free(out);
    }
}

/* text read in place and from the tree (the same object with a member
 * whose "\u" escape the fast pass leaves to the tree) decode alike. */
static void check_in_place(const char *text, size_t size, scn_cloud_msg *a)
{
    static const char extra[] = "\"\\u0071\\u0071slow\":0";
    scn_json_shape sh;
    scn_cloud_msg *b;
    char *slow;
    size_t at = 0, n;

    if (!scn__json_check(text, size, &sh) || !sh.object)
        return;
    for (size_t i = 0; i + 6 <= size; i++)
        if (memcmp(text + i, "qqslow", 6) == 0)
            return; /* the name would be there twice */
    while (text[at] != '{')
        at++;
    at++;
    if ((slow = malloc(size + sizeof(extra) + 1)) == NULL ||
        (b = malloc(sizeof *b)) == NULL)
        abort();
    memcpy(slow, text, at);
    memcpy(slow + at, extra, sizeof(extra) - 1);
    n = at + sizeof(extra) - 1;
    while (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' ||
           text[at] == '\r')
        at++;
    if (text[at] != '}')
        slow[n++] = ',';
    memcpy(slow + n, text + at, size - at);
    n += size - at;
    for (int predict = 0; predict < 2; predict++) {
        int (*fn)(const char *, size_t, scn_cloud_msg *) =
            predict ? scn__cloud_predict_decode : scn__cloud_msg_decode;
        int ra = fn(text, size, a), rb = fn(slow, n, b);

        FUZZ_CHECK(ra == rb && memcmp(a, b, sizeof *a) == 0,
                   "in place %s, from the tree %s", scn_err_name(ra),
                   scn_err_name(rb));
    }
    free(b);
    free(slow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    scn_cloud_msg *m = malloc(sizeof *m);

    if (m == NULL)
        abort();
    check_msg(scn__cloud_msg_decode(text, size, m), m);
    check_msg(scn__cloud_predict_decode(text, size, m), m);
    check_in_place(text, size, m);
    free(m);
    check_encoder(text, size);
    return 0;
}
