/*
 * Cloud stream messages (see cloud_msg.h). Records embed the frame and the
 * state text verbatim rather than re-printing a parsed tree, so numbers
 * reach the cloud with exactly the digits the client holds.
 */
#include "classify.h"
#include "cloud_msg.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

#include "frame_internal.h"
#include "json_check.h"

/* Why a record was refused, for scn_cloud_submit_detail(): the part,
 * and the member when one is at fault. Names come from a device or a
 * drone: only printable ASCII of them is shown. */
typedef struct why_buf {
    char *buf; /* NULL: not wanted */
    size_t cap;
} why_buf;

static void say(why_buf *w, const char *part, const char *what,
                const char *member)
{
    char shown[48];
    size_t i;

    if (w == NULL || w->buf == NULL || w->cap == 0)
        return;
    if (member == NULL) {
        snprintf(w->buf, w->cap, "%s: %s", part, what);
        return;
    }
    for (i = 0; i + 1 < sizeof(shown) && member[i] != '\0'; i++)
        shown[i] = member[i] >= 0x20 && member[i] < 0x7f && member[i] != '"'
                       ? member[i]
                       : '?';
    shown[i] = '\0';
    snprintf(w->buf, w->cap, "%s: member \"%s%s\" %s", part, shown,
             member[i] != '\0' ? "..." : "", what);
}

/* Repeated keys (at any level) and strings that are not UTF-8 make a
 * message malformed: cJSON keeps both duplicates and checks no encoding,
 * and a lookup would silently pick one of two conflicting values. */
static int check_tree_why(const cJSON *item, const char *part, why_buf *w)
{
    const cJSON *c, *d;
    int rc;

    if (cJSON_IsString(item) && !scn__utf8_valid(item->valuestring)) {
        say(w, part, "is not UTF-8", item->string);
        return SCN_ERR_MALFORMED;
    }
    for (c = item->child; c != NULL; c = c->next) {
        if (cJSON_IsObject(item)) {
            if (!scn__utf8_valid(c->string)) {
                say(w, part, "a member name is not UTF-8", NULL);
                return SCN_ERR_MALFORMED;
            }
            for (d = item->child; d != c; d = d->next)
                if (strcmp(d->string, c->string) == 0) {
                    say(w, part, "appears twice", c->string);
                    return SCN_ERR_MALFORMED;
                }
        }
        if ((rc = check_tree_why(c, part, w)) != 0)
            return rc;
    }
    return 0;
}

static int check_tree(const cJSON *item)
{
    return check_tree_why(item, "", NULL);
}

static int parse_strict(const char *text, size_t len, cJSON **out)
{
    int rc = scn__frame_json_parse(text, len, out);

    if (rc == 0 && (rc = check_tree(*out)) != 0) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* The first number in item beyond a double's range, or NULL: the text
 * goes out as written, but the cloud (and we) would read infinity. */
static const cJSON *infinite_in(const cJSON *item)
{
    const cJSON *found;

    if (cJSON_IsNumber(item) && !isfinite(item->valuedouble))
        return item;
    for (const cJSON *c = item->child; c != NULL; c = c->next)
        if ((found = infinite_in(c)) != NULL)
            return found;
    return NULL;
}

/* Checks that text is one strict JSON object of finite numbers; with
 * scalars_only, that its members are numbers or strings (a drone state).
 * part names it in why. */
static int check_object(const char *text, size_t len, bool scalars_only,
                        const char *part, why_buf *w)
{
    cJSON *root = NULL, *c;
    const cJSON *inf;
    scn_json_shape shape;
    int rc;

    /* Plain JSON (a drone state as the companion writes it) passes
     * without a tree; the tree below decides the rest and names the
     * problem. */
    if (scn__json_check(text, len, &shape) && shape.object &&
        (!scalars_only || shape.flat_scalars))
        return 0;
    rc = scn__frame_json_parse(text, len, &root);
    if (rc != 0) {
        say(w, part,
            rc == SCN_ERR_TOO_DEEP ? "nested too deeply" : "not strict JSON",
            NULL);
        return rc;
    }
    if ((rc = check_tree_why(root, part, w)) != 0) {
        cJSON_Delete(root);
        return rc;
    }
    if (!cJSON_IsObject(root)) {
        say(w, part, "not a JSON object", NULL);
        rc = SCN_ERR_WRONG_TYPE;
    } else if ((inf = infinite_in(root)) != NULL) {
        say(w, part,
            inf->string ? "is a number beyond a double's range"
                        : "holds a number beyond a double's range",
            inf->string);
        rc = SCN_ERR_OUT_OF_RANGE;
    }
    for (c = root->child; rc == 0 && scalars_only && c != NULL; c = c->next)
        if (!cJSON_IsNumber(c) && !cJSON_IsString(c)) {
            say(w, part, "is not a number or a string", c->string);
            rc = SCN_ERR_WRONG_TYPE;
        }
    cJSON_Delete(root);
    return rc;
}

/* text[0..len) without surrounding whitespace. */
static void trim(const char **text, size_t *len)
{
    while (*len > 0 && strchr(" \t\r\n", (*text)[0]) != NULL) {
        (*text)++;
        (*len)--;
    }
    while (*len > 0 && strchr(" \t\r\n", (*text)[*len - 1]) != NULL)
        (*len)--;
}

static int finish(scn_jw *w, char **out, size_t *out_len)
{
    scn__jw_put(w, "", 1); /* NUL */
    if (w->oom) {
        free(w->buf);
        return SCN_ERR_NOMEM;
    }
    *out = w->buf;
    if (out_len != NULL)
        *out_len = w->len - 1;
    return 0;
}

/*
 * The values of a parsed frame that may still break a record rule: the
 * tokenizer already held the frame to strict JSON, UTF-8, finite numbers
 * and unique top-level names, but not to unique names inside nested
 * objects. Only those values (rare: readings are numbers) are parsed.
 */
static int check_nested(const scn_frame *f, why_buf *w)
{
    for (size_t i = 0; i < f->nkeys; i++) {
        const scn_frame_key *k = &f->keys[i];
        const char *raw = f->raw + k->raw_off;
        cJSON *v = NULL;
        int rc;

        if (raw[0] != '{' && raw[0] != '[')
            continue;
        if ((rc = scn__frame_json_parse(raw, k->raw_len, &v)) == 0)
            rc = check_tree_why(v, "frame", w);
        cJSON_Delete(v);
        if (rc)
            return rc;
    }
    return 0;
}

/* A record of the frame, given as text (checked here) or parsed. */
static int encode_record(uint64_t seq, const char *frame_json, size_t frame_len,
                         const scn_frame *frame, const char *state_json,
                         size_t state_len, int64_t age_ms, char **out,
                         size_t *out_len, char *why, size_t why_cap)
{
    scn_jw w = {NULL, 0, 0, true, false};
    why_buf wb = {why, why_cap};
    char num[64];
    int rc;

    if (why != NULL && why_cap > 0)
        why[0] = '\0';
    if (out == NULL || (frame_json == NULL && frame == NULL) ||
        (state_json == NULL && state_len > 0))
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (seq == 0 || seq > SCN_CLOUD_SEQ_MAX) {
        say(&wb, "record", "seq outside 1 to 2^53-1", NULL);
        return SCN_ERR_OUT_OF_RANGE;
    }
    if (age_ms > (int64_t)SCN_CLOUD_SEQ_MAX ||
        age_ms < -(int64_t)SCN_CLOUD_SEQ_MAX) {
        say(&wb, "record", "state age beyond 2^53-1 ms", NULL);
        return SCN_ERR_OUT_OF_RANGE;
    }
    rc = frame ? check_nested(frame, &wb)
               : check_object(frame_json, frame_len, false, "frame", &wb);
    if (rc != 0)
        return rc;
    if (state_json != NULL && (rc = check_object(state_json, state_len, true,
                                                 "drone state", &wb)) != 0)
        return rc;
    snprintf(num, sizeof(num), "{\"type\":\"frame\",\"seq\":%" PRIu64, seq);
    scn__jw_put(&w, num, strlen(num));
    scn__jw_put(&w, ",\"frame\":", 9);
    if (frame) {
        scn__frame_write(&w, frame);
    } else {
        trim(&frame_json, &frame_len);
        scn__jw_put(&w, frame_json, frame_len);
    }
    if (state_json != NULL) {
        /* The drone's state under its own name, as the drone named its
         * members; what the client adds stays outside it, so no key a
         * drone sends can collide with one (PROTOCOL.md 9.3). */
        trim(&state_json, &state_len);
        scn__jw_put(&w, ",\"state\":", 9);
        scn__jw_put(&w, state_json, state_len);
        snprintf(num, sizeof(num), ",\"state_age_ms\":%" PRId64, age_ms);
        scn__jw_put(&w, num, strlen(num));
    }
    scn__jw_put(&w, "}", 1);
    return finish(&w, out, out_len);
}

int scn__cloud_encode_frame_why(uint64_t seq, const char *frame_json,
                                size_t frame_len, const char *state_json,
                                size_t state_len, int64_t age_ms, char **out,
                                size_t *out_len, char *why, size_t why_cap)
{
    if (frame_json == NULL)
        return SCN_ERR_INVALID_ARG;
    return encode_record(seq, frame_json, frame_len, NULL, state_json,
                         state_len, age_ms, out, out_len, why, why_cap);
}

int scn__cloud_encode_parsed_why(uint64_t seq, const scn_frame *frame,
                                 const char *state_json, size_t state_len,
                                 int64_t age_ms, char **out, size_t *out_len,
                                 char *why, size_t why_cap)
{
    if (frame == NULL)
        return SCN_ERR_INVALID_ARG;
    return encode_record(seq, NULL, 0, frame, state_json, state_len, age_ms,
                         out, out_len, why, why_cap);
}

int scn__cloud_encode_frame(uint64_t seq, const char *frame_json,
                            size_t frame_len, const char *state_json,
                            size_t state_len, int64_t age_ms, char **out,
                            size_t *out_len)
{
    return scn__cloud_encode_frame_why(seq, frame_json, frame_len, state_json,
                                       state_len, age_ms, out, out_len, NULL,
                                       0);
}

int scn__cloud_encode_resend(const uint64_t *seqs, size_t n, char **out,
                             size_t *out_len)
{
    scn_jw w = {NULL, 0, 0, true, false};
    char num[32];

    if (out == NULL || seqs == NULL)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (n == 0 || n > SCN_CLOUD_RESEND_MAX)
        return SCN_ERR_OUT_OF_RANGE;
    for (size_t i = 0; i < n; i++)
        if (seqs[i] == 0 || seqs[i] > SCN_CLOUD_SEQ_MAX)
            return SCN_ERR_OUT_OF_RANGE;
    scn__jw_put(&w, "{\"type\":\"resend\",\"seqs\":[", 25);
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof(num), "%s%" PRIu64, i ? "," : "", seqs[i]);
        scn__jw_put(&w, num, strlen(num));
    }
    scn__jw_put(&w, "]}", 2);
    return finish(&w, out, out_len);
}

int scn__cloud_encode_predict(const char *frame_json, size_t frame_len,
                              char **out, size_t *out_len)
{
    scn_jw w = {NULL, 0, 0, true, false};
    int rc;

    if (out == NULL || frame_json == NULL)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if ((rc = check_object(frame_json, frame_len, false, "frame", NULL)) != 0)
        return rc;
    trim(&frame_json, &frame_len);
    scn__jw_put(&w, "{\"input\":", 9);
    scn__jw_put(&w, frame_json, frame_len);
    scn__jw_put(&w, "}", 1);
    return finish(&w, out, out_len);
}

/* ---- Decoding ----------------------------------------------------------- */

/* Member name of obj; *item NULL when absent (and not required). */
static int member(const cJSON *obj, const char *name, bool required,
                  const cJSON **item)
{
    *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (*item == NULL && required)
        return SCN_ERR_MISSING_FIELD;
    return 0;
}

/* A string member of 1..max bytes into buf[max + 1]. */
static int get_string(const cJSON *obj, const char *name, bool required,
                      char *buf, size_t max, bool *present)
{
    const cJSON *it;
    size_t n;
    int rc = member(obj, name, required, &it);

    if (present != NULL)
        *present = false;
    if (rc != 0 || it == NULL)
        return rc;
    if (!cJSON_IsString(it))
        return SCN_ERR_WRONG_TYPE;
    n = strlen(it->valuestring);
    if (n == 0 || n > max)
        return SCN_ERR_OUT_OF_RANGE;
    memcpy(buf, it->valuestring, n + 1);
    if (present != NULL)
        *present = true;
    return 0;
}

static int get_seq(const cJSON *obj, const char *name, bool required,
                   uint64_t min, uint64_t *seq, bool *present)
{
    const cJSON *it;
    double v;
    int rc = member(obj, name, required, &it);

    if (present != NULL)
        *present = false;
    if (rc != 0 || it == NULL)
        return rc;
    if (!cJSON_IsNumber(it))
        return SCN_ERR_WRONG_TYPE;
    v = it->valuedouble;
    if (!(v >= (double)min && v <= (double)SCN_CLOUD_SEQ_MAX) || v != floor(v))
        return SCN_ERR_OUT_OF_RANGE;
    *seq = (uint64_t)v;
    if (present != NULL)
        *present = true;
    return 0;
}

static int get_number(const cJSON *obj, const char *name, bool required,
                      double *v, bool *present)
{
    const cJSON *it;
    int rc = member(obj, name, required, &it);

    if (present != NULL)
        *present = false;
    if (rc != 0 || it == NULL)
        return rc;
    if (!cJSON_IsNumber(it))
        return SCN_ERR_WRONG_TYPE;
    if (!isfinite(it->valuedouble))
        return SCN_ERR_OUT_OF_RANGE;
    *v = it->valuedouble;
    if (present != NULL)
        *present = true;
    return 0;
}

static int decode_hello(const cJSON *root, scn_cloud_hello *h)
{
    const cJSON *models, *m;
    int rc;

    if ((rc = get_string(root, "protocol", true, h->protocol,
                         SCN_CLOUD_CODE_MAX, NULL)) != 0 ||
        (rc = member(root, "models", true, &models)) != 0)
        return rc;
    if (!cJSON_IsArray(models))
        return SCN_ERR_WRONG_TYPE;
    for (m = models->child; m != NULL; m = m->next) {
        size_t n;

        if (!cJSON_IsString(m))
            return SCN_ERR_WRONG_TYPE;
        n = strlen(m->valuestring);
        if (n == 0 || n > SCN_CLOUD_NAME_MAX)
            return SCN_ERR_OUT_OF_RANGE;
        if (h->model_count == SCN_CLOUD_MAX_MODELS) {
            h->models_dropped++;
            continue;
        }
        memcpy(h->models[h->model_count++], m->valuestring, n + 1);
    }
    if ((rc = get_string(root, "stream", false, h->stream, SCN_CLOUD_STREAM_MAX,
                         &h->has_stream)) != 0)
        return rc;
    return get_seq(root, "acked", false, 0, &h->acked, &h->has_acked);
}

static int decode_target(const cJSON *root, scn_cloud_inference *inf)
{
    const cJSON *t;
    int rc = member(root, "target", false, &t);

    if (rc != 0 || t == NULL || cJSON_IsNull(t))
        return rc;
    if (!cJSON_IsObject(t))
        return SCN_ERR_WRONG_TYPE;
    if ((rc = get_string(t, "compound", true, inf->compound,
                         SCN_CLOUD_COMPOUND_MAX, NULL)) != 0 ||
        (rc = get_number(t, "bearing_deg", false, &inf->bearing_deg,
                         &inf->has_bearing)) != 0)
        return rc;
    if (inf->has_bearing && !(inf->bearing_deg >= 0 && inf->bearing_deg < 360))
        return SCN_ERR_OUT_OF_RANGE;
    inf->has_target = true;
    return 0;
}

static int decode_inference(const cJSON *root, scn_cloud_inference *inf,
                            bool seq_required)
{
    const cJSON *labels, *l;
    int rc;

    if ((rc = get_string(root, "model", true, inf->model, SCN_CLOUD_NAME_MAX,
                         NULL)) != 0 ||
        (rc = get_seq(root, "seq", seq_required, 1, &inf->seq,
                      &inf->has_seq)) != 0 ||
        (rc = member(root, "labels", true, &labels)) != 0)
        return rc;
    if (!cJSON_IsArray(labels))
        return SCN_ERR_WRONG_TYPE;
    for (l = labels->child; l != NULL; l = l->next) {
        scn_cloud_label tmp;

        if (!cJSON_IsObject(l))
            return SCN_ERR_WRONG_TYPE;
        if ((rc = get_string(l, "label", true, tmp.label, SCN_CLOUD_NAME_MAX,
                             NULL)) != 0 ||
            (rc = get_number(l, "score", true, &tmp.score, NULL)) != 0)
            return rc;
        if (!(tmp.score >= 0 && tmp.score <= 1))
            return SCN_ERR_OUT_OF_RANGE;
        if (inf->label_count == SCN_CLOUD_MAX_LABELS)
            inf->labels_dropped++;
        else
            inf->labels[inf->label_count++] = tmp;
    }
    return decode_target(root, inf);
}

/* Copies s into buf[cap], cutting at a UTF-8 boundary when too long. */
static bool copy_cut(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (n < cap) {
        memcpy(buf, s, n + 1);
        return false;
    }
    n = cap - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] would start the cut: back off continuation bytes */
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

static int decode_error(const cJSON *root, scn_cloud_error *e)
{
    const cJSON *m;
    double ra;
    int rc;

    if ((rc = get_string(root, "code", true, e->code, SCN_CLOUD_CODE_MAX,
                         NULL)) != 0 ||
        (rc = member(root, "message", false, &m)) != 0)
        return rc;
    if (m != NULL) {
        if (!cJSON_IsString(m))
            return SCN_ERR_WRONG_TYPE;
        e->message_truncated =
            copy_cut(e->message, sizeof(e->message), m->valuestring);
    }
    if ((rc = get_seq(root, "seq", false, 0, &e->seq, &e->has_seq)) != 0 ||
        (rc = get_number(root, "retry_after", false, &ra,
                         &e->has_retry_after)) != 0)
        return rc;
    if (e->has_retry_after) {
        if (!(ra >= 0 && ra <= SCN_CLOUD_RETRY_AFTER_MAX))
            return SCN_ERR_OUT_OF_RANGE;
        e->retry_after_ms = (uint32_t)ceil(ra * 1000.0);
    }
    return 0;
}

static int decode(const char *text, size_t len, scn_cloud_msg *msg,
                  bool predict)
{
    cJSON *root = NULL;
    const cJSON *type;
    const char *t;
    int rc;

    if (msg == NULL || (text == NULL && len > 0))
        return SCN_ERR_INVALID_ARG;
    memset(msg, 0, sizeof(*msg));
    if ((rc = parse_strict(text, len, &root)) != 0)
        return rc;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return SCN_ERR_MALFORMED;
    }
    type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (type == NULL)
        rc = SCN_ERR_MISSING_FIELD;
    else if (!cJSON_IsString(type))
        rc = SCN_ERR_WRONG_TYPE;
    if (rc != 0) {
        cJSON_Delete(root);
        return rc;
    }
    t = type->valuestring;
    if (strcmp(t, "inference") == 0) {
        msg->type = SCN_CLOUD_MSG_INFERENCE;
        rc = decode_inference(root, &msg->u.inference, !predict);
    } else if (strcmp(t, "error") == 0) {
        msg->type = SCN_CLOUD_MSG_ERROR;
        rc = decode_error(root, &msg->u.error);
    } else if (!predict && strcmp(t, "ack") == 0) {
        msg->type = SCN_CLOUD_MSG_ACK;
        rc = get_seq(root, "seq", true, 0, &msg->u.ack.seq, NULL);
    } else if (!predict && strcmp(t, "hello") == 0) {
        msg->type = SCN_CLOUD_MSG_HELLO;
        rc = decode_hello(root, &msg->u.hello);
    } else {
        msg->type = SCN_CLOUD_MSG_UNKNOWN;
        copy_cut(msg->type_name, sizeof(msg->type_name), t);
        rc = SCN_ERR_UNKNOWN_TYPE;
    }
    cJSON_Delete(root);
    if (rc != 0 && rc != SCN_ERR_UNKNOWN_TYPE)
        memset(msg, 0, sizeof(*msg));
    return rc;
}

int scn__cloud_msg_decode(const char *text, size_t len, scn_cloud_msg *msg)
{
    return decode(text, len, msg, false);
}

int scn__cloud_predict_decode(const char *text, size_t len, scn_cloud_msg *msg)
{
    return decode(text, len, msg, true);
}

int scn__cloud_error_classify(const scn_cloud_error *err, bool *ends_session)
{
    bool dummy;

    if (ends_session == NULL)
        ends_session = &dummy;
    *ends_session = false;
    if (err == NULL)
        return SCN_ERR_INVALID_ARG;
    return scn__cloud_code_error(err->code, ends_session);
}
