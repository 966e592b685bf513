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

/* A record of the frame, given as text (checked here) or parsed; the
 * state checked here unless state_checked (the caller's word). */
static int encode_record(uint64_t seq, const char *frame_json, size_t frame_len,
                         const scn_frame *frame, const char *state_json,
                         size_t state_len, bool state_checked, int64_t age_ms,
                         char **out, size_t *out_len, char *why, size_t why_cap)
{
    scn_jw w = {NULL, 0, 0, true, false};
    why_buf wb = {why, why_cap};
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
    if (state_json != NULL && !state_checked &&
        (rc = check_object(state_json, state_len, true, "drone state", &wb)) !=
            0)
        return rc;
    /* seq and age_ms are within 2^53 (checked above): exact doubles,
     * which scn__jw_number() writes as plain integers. */
    scn__jw_put(&w, "{\"type\":\"frame\",\"seq\":", 22);
    scn__jw_number(&w, (double)seq);
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
        scn__jw_put(&w, ",\"state_age_ms\":", 16);
        scn__jw_number(&w, (double)age_ms);
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
                         state_len, false, age_ms, out, out_len, why, why_cap);
}

int scn__cloud_encode_parsed_why(uint64_t seq, const scn_frame *frame,
                                 const char *state_json, size_t state_len,
                                 int64_t age_ms, char **out, size_t *out_len,
                                 char *why, size_t why_cap)
{
    if (frame == NULL)
        return SCN_ERR_INVALID_ARG;
    return encode_record(seq, NULL, 0, frame, state_json, state_len, false,
                         age_ms, out, out_len, why, why_cap);
}

int scn__cloud_encode_parsed_checked(uint64_t seq, const scn_frame *frame,
                                     const char *state_json, size_t state_len,
                                     int64_t age_ms, char **out,
                                     size_t *out_len, char *why, size_t why_cap)
{
    if (frame == NULL)
        return SCN_ERR_INVALID_ARG;
    return encode_record(seq, NULL, 0, frame, state_json, state_len, true,
                         age_ms, out, out_len, why, why_cap);
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

/*
 * A value of a message being decoded. Plain JSON that scn__json_check()
 * vouched for (the cloud's answers as it writes them) is read in place,
 * from its text: no tree, no allocation. Anything else goes through the
 * strict parse and its cJSON tree, which also gives the verdict. Both
 * give the same values: a vouched text has no "\u" escapes, no exponents,
 * names without escapes and unique within their object.
 */
typedef struct cval {
    const cJSON *node;    /* the tree's node; NULL when read from text */
    const char *at, *end; /* the value's first byte, the text's end */
} cval;

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Past the string starting at p (its opening quote), in a vouched text
 * ending at end: the plain bytes eight at a time, then the special one
 * (the closing quote, an escape, a byte of a longer UTF-8 sequence). */
static const char *skip_string(const char *p, const char *end)
{
    for (p++;;) {
        p += scn_json_plain_len(p, end);
        if (*p == '"')
            return p + 1;
        p += *p == '\\' ? 2 : 1;
    }
}

/* Past the value starting at p, in a vouched text. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (*p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
               *p != '\n' && *p != '\r')
            p++;
        return p;
    }
    for (;;) {
        if (*p == '"') {
            p = skip_string(p, end);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        p++;
    }
}

static bool is_object(const cval *v)
{
    return v->node ? cJSON_IsObject(v->node) : *v->at == '{';
}

static bool is_array(const cval *v)
{
    return v->node ? cJSON_IsArray(v->node) : *v->at == '[';
}

static bool is_string(const cval *v)
{
    return v->node ? cJSON_IsString(v->node) : *v->at == '"';
}

static bool is_null(const cval *v)
{
    return v->node ? cJSON_IsNull(v->node) : *v->at == 'n';
}

static bool is_number(const cval *v)
{
    return v->node ? cJSON_IsNumber(v->node)
                   : *v->at == '-' || (*v->at >= '0' && *v->at <= '9');
}

static double number_of(const cval *v)
{
    double x;
    bool canonical;

    if (v->node)
        return v->node->valuedouble;
    scn__json_number(v->at, v->end, &x, &canonical);
    return x;
}

/* Writes the first cap bytes of the string v (fewer when shorter; no NUL)
 * to buf and returns its whole length. */
static size_t string_of(const cval *v, char *buf, size_t cap)
{
    size_t n = 0;

    if (v->node) {
        n = strlen(v->node->valuestring);
        memcpy(buf, v->node->valuestring, n < cap ? n : cap);
        return n;
    }
    for (const char *p = v->at + 1; *p != '"'; p++, n++) {
        char c = *p;

        if (c == '\\') {
            c = *++p; /* '"', '\\' and '/' stand for themselves */
            if (c == 'b')
                c = '\b';
            else if (c == 'f')
                c = '\f';
            else if (c == 'n')
                c = '\n';
            else if (c == 'r')
                c = '\r';
            else if (c == 't')
                c = '\t';
        }
        if (n < cap)
            buf[n] = c;
    }
    return n;
}

/* The first element of the array arr into *out; false when empty. */
static bool first_of(const cval *arr, cval *out)
{
    const char *p;

    *out = *arr;
    if (arr->node)
        return (out->node = arr->node->child) != NULL;
    p = skip_ws(arr->at + 1);
    out->at = p;
    return *p != ']';
}

/* The element after *it, in place; false at the end. */
static bool next_of(cval *it)
{
    const char *p;

    if (it->node)
        return (it->node = it->node->next) != NULL;
    p = skip_ws(skip_value(it->at, it->end));
    if (*p != ',')
        return false;
    it->at = skip_ws(p + 1);
    return true;
}

/* Member name of obj into *item; false when absent. */
static bool find(const cval *obj, const char *name, cval *item)
{
    size_t n = strlen(name);
    const char *p;

    *item = *obj;
    if (obj->node)
        return (item->node =
                    cJSON_GetObjectItemCaseSensitive(obj->node, name)) != NULL;
    p = skip_ws(obj->at + 1);
    while (*p == '"') {
        const char *key = p + 1, *key_end = skip_string(p, obj->end) - 1;

        p = skip_ws(skip_ws(key_end + 1) + 1); /* past the ':' */
        if ((size_t)(key_end - key) == n && memcmp(key, name, n) == 0) {
            item->at = p;
            return true;
        }
        p = skip_ws(skip_value(p, obj->end));
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    return false;
}

/* Member name of obj; *present false when absent (and not required). */
static int member(const cval *obj, const char *name, bool required, cval *item,
                  bool *present)
{
    *present = find(obj, name, item);
    if (!*present && required)
        return SCN_ERR_MISSING_FIELD;
    return 0;
}

/* A string member of 1..max bytes into buf[max + 1]. */
static int get_string(const cval *obj, const char *name, bool required,
                      char *buf, size_t max, bool *present)
{
    cval it;
    bool found;
    size_t n;
    int rc = member(obj, name, required, &it, &found);

    if (present != NULL)
        *present = false;
    if (rc != 0 || !found)
        return rc;
    if (!is_string(&it))
        return SCN_ERR_WRONG_TYPE;
    n = string_of(&it, buf, max);
    if (n == 0 || n > max)
        return SCN_ERR_OUT_OF_RANGE;
    buf[n] = '\0';
    if (present != NULL)
        *present = true;
    return 0;
}

static int get_seq(const cval *obj, const char *name, bool required,
                   uint64_t min, uint64_t *seq, bool *present)
{
    cval it;
    bool found;
    double v;
    int rc = member(obj, name, required, &it, &found);

    if (present != NULL)
        *present = false;
    if (rc != 0 || !found)
        return rc;
    if (!is_number(&it))
        return SCN_ERR_WRONG_TYPE;
    v = number_of(&it);
    if (!(v >= (double)min && v <= (double)SCN_CLOUD_SEQ_MAX) || v != floor(v))
        return SCN_ERR_OUT_OF_RANGE;
    *seq = (uint64_t)v;
    if (present != NULL)
        *present = true;
    return 0;
}

static int get_number(const cval *obj, const char *name, bool required,
                      double *v, bool *present)
{
    cval it;
    bool found;
    double x;
    int rc = member(obj, name, required, &it, &found);

    if (present != NULL)
        *present = false;
    if (rc != 0 || !found)
        return rc;
    if (!is_number(&it))
        return SCN_ERR_WRONG_TYPE;
    x = number_of(&it);
    if (!isfinite(x))
        return SCN_ERR_OUT_OF_RANGE;
    *v = x;
    if (present != NULL)
        *present = true;
    return 0;
}

static int decode_hello(const cval *root, scn_cloud_hello *h)
{
    cval models, m;
    bool found, more;
    int rc;

    if ((rc = get_string(root, "protocol", true, h->protocol,
                         SCN_CLOUD_CODE_MAX, NULL)) != 0 ||
        (rc = member(root, "models", true, &models, &found)) != 0)
        return rc;
    if (!is_array(&models))
        return SCN_ERR_WRONG_TYPE;
    for (more = first_of(&models, &m); more; more = next_of(&m)) {
        char name[SCN_CLOUD_NAME_MAX];
        size_t n;

        if (!is_string(&m))
            return SCN_ERR_WRONG_TYPE;
        n = string_of(&m, name, sizeof(name));
        if (n == 0 || n > SCN_CLOUD_NAME_MAX)
            return SCN_ERR_OUT_OF_RANGE;
        if (h->model_count == SCN_CLOUD_MAX_MODELS) {
            h->models_dropped++;
            continue;
        }
        memcpy(h->models[h->model_count], name, n);
        h->models[h->model_count++][n] = '\0';
    }
    if ((rc = get_string(root, "stream", false, h->stream, SCN_CLOUD_STREAM_MAX,
                         &h->has_stream)) != 0)
        return rc;
    return get_seq(root, "acked", false, 0, &h->acked, &h->has_acked);
}

static int decode_target(const cval *root, scn_cloud_inference *inf)
{
    cval t;
    bool found;
    int rc = member(root, "target", false, &t, &found);

    if (rc != 0 || !found || is_null(&t))
        return rc;
    if (!is_object(&t))
        return SCN_ERR_WRONG_TYPE;
    if ((rc = get_string(&t, "compound", true, inf->compound,
                         SCN_CLOUD_COMPOUND_MAX, NULL)) != 0 ||
        (rc = get_number(&t, "bearing_deg", false, &inf->bearing_deg,
                         &inf->has_bearing)) != 0)
        return rc;
    if (inf->has_bearing && !(inf->bearing_deg >= 0 && inf->bearing_deg < 360))
        return SCN_ERR_OUT_OF_RANGE;
    inf->has_target = true;
    return 0;
}

static int decode_inference(const cval *root, scn_cloud_inference *inf,
                            bool seq_required)
{
    cval labels, l;
    bool found, more;
    int rc;

    if ((rc = get_string(root, "model", true, inf->model, SCN_CLOUD_NAME_MAX,
                         NULL)) != 0 ||
        (rc = get_seq(root, "seq", seq_required, 1, &inf->seq,
                      &inf->has_seq)) != 0 ||
        (rc = member(root, "labels", true, &labels, &found)) != 0)
        return rc;
    if (!is_array(&labels))
        return SCN_ERR_WRONG_TYPE;
    for (more = first_of(&labels, &l); more; more = next_of(&l)) {
        scn_cloud_label tmp = {0};

        if (!is_object(&l))
            return SCN_ERR_WRONG_TYPE;
        if ((rc = get_string(&l, "label", true, tmp.label, SCN_CLOUD_NAME_MAX,
                             NULL)) != 0 ||
            (rc = get_number(&l, "score", true, &tmp.score, NULL)) != 0)
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

/* The string v into buf[cap], cut at a UTF-8 boundary when too long;
 * returns whether it was cut. */
static bool copy_cut(char *buf, size_t cap, const cval *v)
{
    size_t n = string_of(v, buf, cap);

    if (n < cap) {
        buf[n] = '\0';
        return false;
    }
    n = cap - 1;
    while (n > 0 && ((unsigned char)buf[n] & 0xC0) == 0x80)
        n--; /* buf[n] would start the cut: back off continuation bytes */
    buf[n] = '\0';
    return true;
}

static int decode_error(const cval *root, scn_cloud_error *e)
{
    cval m;
    bool found;
    double ra;
    int rc;

    if ((rc = get_string(root, "code", true, e->code, SCN_CLOUD_CODE_MAX,
                         NULL)) != 0 ||
        (rc = member(root, "message", false, &m, &found)) != 0)
        return rc;
    if (found) {
        if (!is_string(&m))
            return SCN_ERR_WRONG_TYPE;
        e->message_truncated = copy_cut(e->message, sizeof(e->message), &m);
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

/* Whether the string v is name. */
static bool string_is(const cval *v, const char *name)
{
    char buf[16];
    size_t n = strlen(name);

    return string_of(v, buf, sizeof(buf)) == n && memcmp(buf, name, n) == 0;
}

static int decode_root(const cval *root, scn_cloud_msg *msg, bool predict)
{
    cval type;

    if (!is_object(root))
        return SCN_ERR_MALFORMED;
    if (!find(root, "type", &type))
        return SCN_ERR_MISSING_FIELD;
    if (!is_string(&type))
        return SCN_ERR_WRONG_TYPE;
    if (string_is(&type, "inference")) {
        msg->type = SCN_CLOUD_MSG_INFERENCE;
        return decode_inference(root, &msg->u.inference, !predict);
    }
    if (string_is(&type, "error")) {
        msg->type = SCN_CLOUD_MSG_ERROR;
        return decode_error(root, &msg->u.error);
    }
    if (!predict && string_is(&type, "ack")) {
        msg->type = SCN_CLOUD_MSG_ACK;
        return get_seq(root, "seq", true, 0, &msg->u.ack.seq, NULL);
    }
    if (!predict && string_is(&type, "hello")) {
        msg->type = SCN_CLOUD_MSG_HELLO;
        return decode_hello(root, &msg->u.hello);
    }
    msg->type = SCN_CLOUD_MSG_UNKNOWN;
    copy_cut(msg->type_name, sizeof(msg->type_name), &type);
    return SCN_ERR_UNKNOWN_TYPE;
}

static int decode(const char *text, size_t len, scn_cloud_msg *msg,
                  bool predict)
{
    cJSON *tree = NULL;
    scn_json_shape shape;
    cval root = {NULL, NULL, NULL};
    int rc;

    if (msg == NULL || (text == NULL && len > 0))
        return SCN_ERR_INVALID_ARG;
    memset(msg, 0, sizeof(*msg));
    if (len > 0 && scn__json_check(text, len, &shape) && shape.object) {
        root.at = skip_ws(text);
        root.end = text + len;
    } else if ((rc = parse_strict(text, len, &tree)) != 0) {
        return rc;
    } else {
        root.node = tree;
    }
    rc = decode_root(&root, msg, predict);
    cJSON_Delete(tree);
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
