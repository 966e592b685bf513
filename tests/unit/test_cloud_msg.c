/* Cloud stream messages: fused records and predict bodies out, hello,
 * inference, ack and error in, and the strict checks on all of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>
#include <scentience/frame.h>
#include "cloud_msg.h"
#include "frame_internal.h"
#include "json_check.h"
#include "rng.h"

static const char frame[] =
    "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\",\"SEQ\":41,"
    "\"NH3\":270.5,\"CO\":1275}";

static int dec(const char *text, scn_cloud_msg *m)
{
    return scn__cloud_msg_decode(text, strlen(text), m);
}

static void test_encode_frame(void **state)
{
    char *out = NULL;
    size_t n = 0;
    const char *st = "{\"x\":12,\"y\":-3,\"h\":150,\"bat\":87,\"agx\":-1.5}";

    (void)state;
    assert_int_equal(scn__cloud_encode_frame(7, frame, strlen(frame), st,
                                             strlen(st), 40, &out, &n),
                     0);
    assert_string_equal(
        out, "{\"type\":\"frame\",\"seq\":7,\"frame\":{\"UID\":\"SCN001\","
             "\"TIMESTAMP\":\"2025-08-29T21:00:00Z\",\"SEQ\":41,\"NH3\":270.5,"
             "\"CO\":1275},\"state\":{\"x\":12,\"y\":-3,\"h\":150,\"bat\":87,"
             "\"agx\":-1.5},\"state_age_ms\":40}");
    assert_int_equal(n, strlen(out));
    free(out);

    /* No state; whitespace around the texts is dropped. */
    assert_int_equal(scn__cloud_encode_frame(9007199254740991ULL,
                                             " {\"UID\":\"a\"} \n", 14, NULL, 0,
                                             0, &out, NULL),
                     0);
    assert_string_equal(out, "{\"type\":\"frame\",\"seq\":9007199254740991,"
                             "\"frame\":{\"UID\":\"a\"}}");
    free(out);

    /* An empty state, and a state newer than the frame. */
    assert_int_equal(scn__cloud_encode_frame(1, frame, strlen(frame), " { } ",
                                             5, -25, &out, NULL),
                     0);
    assert_non_null(strstr(out, ",\"state\":{ },\"state_age_ms\":-25}"));
    free(out);

    /* Issue 9, 17: whatever a drone names its state's members, even as
     * the client names its own, the record is valid: the state is its
     * own object, copied as the drone sent it. */
    st = "{\"x\":1,\"age_ms\":7,\"state_age_ms\":8,\"seq\":9,"
         "\"type\":\"x\",\"frame\":\"f\",\"state\":2}";
    assert_int_equal(scn__cloud_encode_frame(5, frame, strlen(frame), st,
                                             strlen(st), 40, &out, NULL),
                     0);
    assert_non_null(strstr(out, ",\"state\":{\"x\":1,\"age_ms\":7,"
                                "\"state_age_ms\":8,\"seq\":9,\"type\":\"x\","
                                "\"frame\":\"f\",\"state\":2},"
                                "\"state_age_ms\":40}"));
    {
        scn_cloud_msg m;

        /* Strict JSON with no repeated key at its level. */
        assert_int_equal(dec(out, &m), SCN_ERR_UNKNOWN_TYPE);
    }
    free(out);
}

static void test_encode_frame_from_parsed(void **state)
{
    scn_frame *f;
    char buf[512], *out;
    size_t n;
    scn_cloud_msg m;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    assert_int_equal(scn_frame_parse(f, frame, strlen(frame)), 0);
    assert_int_equal(scn_frame_to_json(f, buf, sizeof(buf), &n), 0);
    assert_int_equal(
        scn__cloud_encode_frame(3, buf, n, "{\"h\":10}", 8, 5, &out, NULL), 0);
    /* It is itself a strict JSON object; as a message from the cloud its
     * type is unknown. */
    assert_int_equal(dec(out, &m), SCN_ERR_UNKNOWN_TYPE);
    assert_string_equal(m.type_name, "frame");
    free(out);
    scn_frame_free(f);
}

/* A parsed frame goes into its record as the same bytes its text would,
 * without being parsed again; a nested object with a repeated member
 * (which the frame rules allow) is refused as from text, with the same
 * words. */
static void test_encode_parsed(void **state)
{
    static const char nested[] =
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\","
        "\"X\":{\"k\":[1,{\"a\":1,\"a\":2}]},\"NH3\":1}";
    static const char strange[] =
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\","
        "\"n\\u00e9\\\"\":[1.50, \"\\u2028\"],\"O\":{\"b\":{}}}";
    const char *texts[] = {frame, strange};
    scn_frame *f;
    char buf[512], *a, *b, why_a[128], why_b[128];
    size_t n, na, nb;

    (void)state;
    assert_int_equal(scn_frame_new(&f), 0);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(scn_frame_parse(f, texts[i], strlen(texts[i])), 0);
        assert_int_equal(scn_frame_to_json(f, buf, sizeof(buf), &n), 0);
        assert_int_equal(scn__cloud_encode_frame_why(7, buf, n, "{\"h\":1}", 7,
                                                     -3, &a, &na, NULL, 0),
                         0);
        assert_int_equal(scn__cloud_encode_parsed_why(7, f, "{\"h\":1}", 7, -3,
                                                      &b, &nb, NULL, 0),
                         0);
        assert_int_equal(na, nb);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }

    assert_int_equal(scn_frame_parse(f, nested, strlen(nested)), 0);
    assert_int_equal(scn_frame_to_json(f, buf, sizeof(buf), &n), 0);
    assert_int_equal(scn__cloud_encode_frame_why(1, buf, n, NULL, 0, 0, &a,
                                                 NULL, why_a, sizeof(why_a)),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn__cloud_encode_parsed_why(1, f, NULL, 0, 0, &b, NULL,
                                                  why_b, sizeof(why_b)),
                     SCN_ERR_MALFORMED);
    assert_string_equal(why_b, why_a);
    assert_string_equal(why_b, "frame: member \"a\" appears twice");
    assert_null(b);
    /* The state and the seq are held to the same rules. */
    assert_int_equal(
        scn__cloud_encode_parsed_why(0, f, NULL, 0, 0, &b, NULL, NULL, 0),
        SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(
        scn__cloud_encode_parsed_why(1, NULL, NULL, 0, 0, &b, NULL, NULL, 0),
        SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_frame_parse(f, frame, strlen(frame)), 0);
    assert_int_equal(scn__cloud_encode_parsed_why(1, f, "{\"h\":[]}", 8, 0, &b,
                                                  NULL, NULL, 0),
                     SCN_ERR_WRONG_TYPE);
    scn_frame_free(f);
}

static int enc(uint64_t seq, const char *fr, size_t frl, const char *st,
               int64_t age, char **out)
{
    return scn__cloud_encode_frame(seq, fr, frl, st, st ? strlen(st) : 0, age,
                                   out, NULL);
}

static void test_encode_frame_refusals(void **state)
{
    char *out = (char *)1;
    const char *f = frame;
    size_t fl = strlen(frame);

    (void)state;
#define ENC(seq, fr, frl, st, age) enc(seq, fr, frl, st, age, &out)
    assert_int_equal(ENC(0, f, fl, NULL, 0), SCN_ERR_OUT_OF_RANGE);
    assert_null(out);
    assert_int_equal(ENC(9007199254740992ULL, f, fl, NULL, 0),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(ENC(1, f, fl, "{}", INT64_MAX), SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(ENC(1, "[1]", 3, NULL, 0), SCN_ERR_WRONG_TYPE);
    assert_int_equal(ENC(1, "{\"a\":1", 6, NULL, 0), SCN_ERR_MALFORMED);
    assert_int_equal(ENC(1, "{\"a\":01}", 8, NULL, 0), SCN_ERR_MALFORMED);
    assert_int_equal(ENC(1, "{\"a\":1,\"a\":2}", 13, NULL, 0),
                     SCN_ERR_MALFORMED);
    assert_int_equal(ENC(1, "{}x", 3, NULL, 0), SCN_ERR_MALFORMED);
    assert_int_equal(ENC(1, "", 0, NULL, 0), SCN_ERR_MALFORMED);
    assert_int_equal(ENC(1, f, fl, "[]", 0), SCN_ERR_WRONG_TYPE);
    assert_int_equal(ENC(1, f, fl, "{\"h\":{\"a\":1}}", 0), SCN_ERR_WRONG_TYPE);
    assert_int_equal(ENC(1, f, fl, "{\"h\":true}", 0), SCN_ERR_WRONG_TYPE);
    assert_int_equal(ENC(1, f, fl, "{\"age_ms\":3}", 0), 0);
    free(out);
    assert_int_equal(ENC(1, f, fl, "{\"h\":1,\"h\":2}", 0), SCN_ERR_MALFORMED);
    assert_int_equal(ENC(1, "{\"a\":\"\xff\"}", 9, NULL, 0), SCN_ERR_MALFORMED);
    assert_int_equal(ENC(1, "{\"a\":[[[[[[[[1]]]]]]]]}", 23, NULL, 0),
                     SCN_ERR_TOO_DEEP);
    /* Numbers beyond a double's range would reach the cloud as written
     * but mean infinity to us (a fuzz find): refused, nested too. */
    assert_int_equal(ENC(1, "{\"a\":[1e999]}", 13, NULL, 0),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(ENC(1, f, fl, "{\"h\":-30e5555}", 0),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(scn__cloud_encode_predict("{\"a\":1e400}", 11, &out, NULL),
                     SCN_ERR_OUT_OF_RANGE);
    /* Unknown-key strings from a drone state are fine. */
    assert_int_equal(ENC(1, f, fl, "{\"h\":1,\"mid\":\"x7\"}", 0), 0);
    free(out);
    assert_int_equal(
        scn__cloud_encode_frame(1, NULL, 0, NULL, 0, 0, &out, NULL),
        SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__cloud_encode_frame(1, f, fl, NULL, 0, 0, NULL, NULL),
                     SCN_ERR_INVALID_ARG);
#undef ENC
}

static int why_of(const char *fr, size_t frl, const char *st, char **out,
                  char *why, size_t cap)
{
    return scn__cloud_encode_frame_why(1, fr, frl, st, st ? strlen(st) : 0, 0,
                                       out, NULL, why, cap);
}

/* A refusal says which part and member is at fault, in printable ASCII. */
static void test_encode_frame_why(void **state)
{
    char *out = NULL, why[128];
    const char *f = frame;
    size_t fl = strlen(frame);

    (void)state;
    const char *none = NULL;
#define WHY(fr, frl, st) why_of(fr, frl, st, &out, why, sizeof(why))
    assert_int_equal(WHY(f, fl, "{\"gps\":{\"lat\":1}}"), SCN_ERR_WRONG_TYPE);
    assert_string_equal(why, "drone state: member \"gps\" is not a number or "
                             "a string");
    assert_int_equal(WHY(f, fl, "{\"h\":1,\"h\":2}"), SCN_ERR_MALFORMED);
    assert_string_equal(why, "drone state: member \"h\" appears twice");
    assert_int_equal(WHY(f, fl, "{\"\\u001b[2J\":true}"), SCN_ERR_WRONG_TYPE);
    assert_string_equal(why, "drone state: member \"?[2J\" is not a number or "
                             "a string");
    assert_int_equal(WHY("{\"a\":1", 6, none), SCN_ERR_MALFORMED);
    assert_string_equal(why, "frame: not strict JSON");
    assert_int_equal(WHY("[1]", 3, none), SCN_ERR_WRONG_TYPE);
    assert_string_equal(why, "frame: not a JSON object");
    assert_int_equal(WHY(f, fl, "{\"a\":1}"), 0);
    assert_string_equal(why, "");
    free(out);
#undef WHY
}

static void test_encode_predict(void **state)
{
    char *out;
    size_t n;

    (void)state;
    assert_int_equal(scn__cloud_encode_predict(frame, strlen(frame), &out, &n),
                     0);
    assert_int_equal(strncmp(out, "{\"input\":{\"UID\":\"SCN001\"", 24), 0);
    assert_int_equal(out[n - 1], '}');
    assert_int_equal(n, strlen(frame) + 10);
    free(out);
    assert_int_equal(scn__cloud_encode_predict("7", 1, &out, &n),
                     SCN_ERR_WRONG_TYPE);
}

static void test_encode_resend(void **state)
{
    uint64_t seqs[SCN_CLOUD_RESEND_MAX + 1] = {5, 9, SCN_CLOUD_SEQ_MAX};
    char *out;
    size_t n;

    (void)state;
    assert_int_equal(scn__cloud_encode_resend(seqs, 3, &out, &n), 0);
    assert_string_equal(out, "{\"type\":\"resend\",\"seqs\":[5,9,"
                             "9007199254740991]}");
    assert_int_equal(n, strlen(out));
    free(out);
    assert_int_equal(scn__cloud_encode_resend(seqs, 0, &out, &n),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(
        scn__cloud_encode_resend(seqs, SCN_CLOUD_RESEND_MAX + 1, &out, &n),
        SCN_ERR_OUT_OF_RANGE);
    seqs[1] = 0;
    assert_int_equal(scn__cloud_encode_resend(seqs, 2, &out, &n),
                     SCN_ERR_OUT_OF_RANGE);
    assert_null(out);
}

static void test_decode_inference(void **state)
{
    scn_cloud_msg m;
    const scn_cloud_inference *inf = &m.u.inference;

    (void)state;
    assert_int_equal(
        dec("{\"type\":\"inference\",\"model\":\"olfa-1\",\"seq\":42,"
            "\"labels\":[{\"label\":\"ammonia leak\",\"score\":0.93},"
            "{\"label\":\"background\",\"score\":0}],"
            "\"target\":{\"compound\":\"NH3\",\"bearing_deg\":45.0},"
            "\"future_member\":[1,2]}",
            &m),
        0);
    assert_int_equal(m.type, SCN_CLOUD_MSG_INFERENCE);
    assert_string_equal(inf->model, "olfa-1");
    assert_true(inf->has_seq);
    assert_int_equal(inf->seq, 42);
    assert_int_equal(inf->label_count, 2);
    assert_string_equal(inf->labels[0].label, "ammonia leak");
    assert_true(inf->labels[0].score == 0.93);
    assert_true(inf->labels[1].score == 0);
    assert_true(inf->has_target);
    assert_string_equal(inf->compound, "NH3");
    assert_true(inf->has_bearing);
    assert_true(inf->bearing_deg == 45.0);

    /* No target (absent or null), no labels. */
    assert_int_equal(dec("{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,"
                         "\"labels\":[],\"target\":null}",
                         &m),
                     0);
    assert_false(inf->has_target);
    assert_int_equal(inf->label_count, 0);
    /* A target without a bearing. */
    assert_int_equal(dec("{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,"
                         "\"labels\":[],\"target\":{\"compound\":\"CO\"}}",
                         &m),
                     0);
    assert_true(inf->has_target);
    assert_false(inf->has_bearing);
}

static void test_decode_inference_many_labels(void **state)
{
    char buf[4096];
    size_t n;
    scn_cloud_msg m;

    (void)state;
    n = (size_t)snprintf(buf, sizeof(buf),
                         "{\"type\":\"inference\","
                         "\"model\":\"m\",\"seq\":5,"
                         "\"labels\":[");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                              "%s{\"label\":\"l%d\",\"score\":0.5}",
                              i ? "," : "", i);
    snprintf(buf + n, sizeof(buf) - n, "]}");
    assert_int_equal(dec(buf, &m), 0);
    assert_int_equal(m.u.inference.label_count, SCN_CLOUD_MAX_LABELS);
    assert_int_equal(m.u.inference.labels_dropped, 4);
    assert_string_equal(m.u.inference.labels[15].label, "l15");
}

static void test_decode_inference_refusals(void **state)
{
    scn_cloud_msg m;
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"{\"type\":\"inference\",\"seq\":1,\"labels\":[]}",
         SCN_ERR_MISSING_FIELD},
        {"{\"type\":\"inference\",\"model\":\"m\",\"labels\":[]}",
         SCN_ERR_MISSING_FIELD},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1}",
         SCN_ERR_MISSING_FIELD},
        {"{\"type\":\"inference\",\"model\":7,\"seq\":1,\"labels\":[]}",
         SCN_ERR_WRONG_TYPE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":\"1\","
         "\"labels\":[]}",
         SCN_ERR_WRONG_TYPE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,\"labels\":{}}",
         SCN_ERR_WRONG_TYPE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,"
         "\"labels\":[\"x\"]}",
         SCN_ERR_WRONG_TYPE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,"
         "\"labels\":[{\"label\":\"x\",\"score\":\"high\"}]}",
         SCN_ERR_WRONG_TYPE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,"
         "\"labels\":[{\"score\":0.1}]}",
         SCN_ERR_MISSING_FIELD},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,"
         "\"labels\":[{\"label\":\"x\",\"score\":1.5}]}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,"
         "\"labels\":[{\"label\":\"x\",\"score\":-0.1}]}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":0,\"labels\":[]}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1.5,"
         "\"labels\":[]}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":9007199254740992,"
         "\"labels\":[]}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,\"labels\":[],"
         "\"target\":\"NH3\"}",
         SCN_ERR_WRONG_TYPE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,\"labels\":[],"
         "\"target\":{\"bearing_deg\":3}}",
         SCN_ERR_MISSING_FIELD},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,\"labels\":[],"
         "\"target\":{\"compound\":\"NH3\",\"bearing_deg\":360}}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"seq\":1,\"labels\":[],"
         "\"target\":{\"compound\":\"0123456789abcdef\"}}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"\",\"seq\":1,\"labels\":[]}",
         SCN_ERR_OUT_OF_RANGE},
        {"{\"type\":\"inference\",\"model\":\"m\",\"model\":\"n\",\"seq\":1,"
         "\"labels\":[]}",
         SCN_ERR_MALFORMED},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = dec(cases[i].text, &m);

        if (rc != cases[i].want)
            fail_msg("case %zu: %s -> %s, want %s", i, cases[i].text,
                     scn_err_name(rc), scn_err_name(cases[i].want));
        assert_int_equal(m.type, SCN_CLOUD_MSG_UNKNOWN); /* left zeroed */
    }
}

static void test_decode_ack_hello(void **state)
{
    scn_cloud_msg m;
    char buf[2048];
    size_t n;

    (void)state;
    assert_int_equal(dec("{\"type\":\"ack\",\"seq\":17}", &m), 0);
    assert_int_equal(m.type, SCN_CLOUD_MSG_ACK);
    assert_int_equal(m.u.ack.seq, 17);
    assert_int_equal(dec("{\"type\":\"ack\",\"seq\":0}", &m), 0);
    assert_int_equal(dec("{\"type\":\"ack\"}", &m), SCN_ERR_MISSING_FIELD);
    assert_int_equal(dec("{\"type\":\"ack\",\"seq\":-1}", &m),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(dec("{\"type\":\"ack\",\"seq\":null}", &m),
                     SCN_ERR_WRONG_TYPE);

    assert_int_equal(dec("{\"type\":\"hello\",\"protocol\":"
                         "\"scentience.cloud.v1\",\"models\":[\"olfa-1\","
                         "\"plume-2\"],\"stream\":\"0123abcd\",\"acked\":99}",
                         &m),
                     0);
    assert_int_equal(m.type, SCN_CLOUD_MSG_HELLO);
    assert_string_equal(m.u.hello.protocol, SCN_CLOUD_PROTOCOL);
    assert_int_equal(m.u.hello.model_count, 2);
    assert_string_equal(m.u.hello.models[1], "plume-2");
    assert_true(m.u.hello.has_stream);
    assert_string_equal(m.u.hello.stream, "0123abcd");
    assert_true(m.u.hello.has_acked);
    assert_int_equal(m.u.hello.acked, 99);
    assert_int_equal(dec("{\"type\":\"hello\",\"protocol\":\"p\","
                         "\"models\":[]}",
                         &m),
                     0);
    assert_false(m.u.hello.has_acked);
    assert_int_equal(dec("{\"type\":\"hello\",\"protocol\":\"p\"}", &m),
                     SCN_ERR_MISSING_FIELD);
    assert_int_equal(dec("{\"type\":\"hello\",\"protocol\":\"p\","
                         "\"models\":[1]}",
                         &m),
                     SCN_ERR_WRONG_TYPE);
    n = (size_t)snprintf(buf, sizeof(buf),
                         "{\"type\":\"hello\",\"protocol\":\"p\",\"models\":[");
    for (int i = 0; i < 18; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"m%d\"",
                              i ? "," : "", i);
    snprintf(buf + n, sizeof(buf) - n, "]}");
    assert_int_equal(dec(buf, &m), 0);
    assert_int_equal(m.u.hello.model_count, SCN_CLOUD_MAX_MODELS);
    assert_int_equal(m.u.hello.models_dropped, 2);
}

static void test_decode_error(void **state)
{
    scn_cloud_msg m;
    const scn_cloud_error *e = &m.u.error;
    bool ends;
    char buf[600];

    (void)state;
    assert_int_equal(dec("{\"type\":\"error\",\"code\":\"quota\",\"message\":"
                         "\"frames per minute exceeded\",\"retry_after\":"
                         "1.5}",
                         &m),
                     0);
    assert_int_equal(m.type, SCN_CLOUD_MSG_ERROR);
    assert_string_equal(e->code, "quota");
    assert_string_equal(e->message, "frames per minute exceeded");
    assert_false(e->has_seq);
    assert_true(e->has_retry_after);
    assert_int_equal(e->retry_after_ms, 1500);
    assert_int_equal(scn__cloud_error_classify(e, &ends), SCN_ERR_QUOTA);
    assert_true(ends);

    assert_int_equal(dec("{\"type\":\"error\",\"code\":\"malformed\","
                         "\"seq\":12}",
                         &m),
                     0);
    assert_true(e->has_seq);
    assert_int_equal(e->seq, 12);
    assert_string_equal(e->message, "");
    assert_int_equal(scn__cloud_error_classify(e, &ends), SCN_ERR_MALFORMED);
    assert_false(ends);

    assert_int_equal(dec("{\"type\":\"error\",\"code\":\"revoked\"}", &m), 0);
    assert_int_equal(scn__cloud_error_classify(e, &ends), SCN_ERR_KEY_REVOKED);
    assert_true(ends);
    assert_int_equal(
        dec("{\"type\":\"error\",\"code\":\"gone\",\"seq\":5}", &m), 0);
    assert_int_equal(scn__cloud_error_classify(e, &ends), SCN_ERR_NOT_FOUND);
    assert_false(ends);
    assert_int_equal(dec("{\"type\":\"error\",\"code\":\"whatever\"}", &m), 0);
    assert_int_equal(scn__cloud_error_classify(e, NULL), SCN_ERR_SERVER);

    assert_int_equal(dec("{\"type\":\"error\"}", &m), SCN_ERR_MISSING_FIELD);
    assert_int_equal(dec("{\"type\":\"error\",\"code\":1}", &m),
                     SCN_ERR_WRONG_TYPE);
    assert_int_equal(
        dec("{\"type\":\"error\",\"code\":\"q\",\"message\":1}", &m),
        SCN_ERR_WRONG_TYPE);
    assert_int_equal(dec("{\"type\":\"error\",\"code\":\"q\","
                         "\"retry_after\":-1}",
                         &m),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(dec("{\"type\":\"error\",\"code\":\"q\","
                         "\"retry_after\":\"5\"}",
                         &m),
                     SCN_ERR_WRONG_TYPE);

    /* A long message is cut at a UTF-8 boundary: 300 bytes of "é". */
    strcpy(buf, "{\"type\":\"error\",\"code\":\"q\",\"message\":\"");
    for (int i = 0; i < 150; i++)
        strcat(buf, "\xc3\xa9");
    strcat(buf, "\"}");
    assert_int_equal(dec(buf, &m), 0);
    assert_true(e->message_truncated);
    assert_int_equal(strlen(e->message), 254);
}

/* "\u" escapes are checked wherever a string is decoded: four hex digits
 * of a character other than U+0000, surrogates only as a proper pair.
 * cJSON itself reads a bad digit as 0 and ends the string there, so a
 * hostile peer could hide text ("-evil") behind it. */
static void test_unicode_escapes(void **state)
{
    static const char *const bad[] = {
        "olfa\\uZZZZ-evil", "\\u00zz", "\\u12",          "\\u0000",
        "\\ud800",          "\\udc00", "\\ud83d\\u0041", "\\ud83d\\n",
        "\\ude00\\ud83d",   "\\u00",   "\\uD83D\\uDBFF",
    };
    static const char *const good[] = {"\\u0041", "\\u00e9\\u20AC",
                                       "\\uD83D\\uDE00", "\\u0001"};
    char text[128], *out;
    scn_cloud_msg m;
    cJSON *root;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"type\":\"error\",\"code\":\"%s\"}",
                 bad[i]);
        if (dec(text, &m) != SCN_ERR_MALFORMED)
            fail_msg("%s: decoded, code \"%s\"", bad[i], m.u.error.code);
        snprintf(text, sizeof text, "{\"UID\":\"%s\"}", bad[i]);
        assert_int_equal(enc(1, text, strlen(text), NULL, 0, &out),
                         SCN_ERR_MALFORMED);
        assert_int_equal(scn__frame_json_parse(text, strlen(text), &root),
                         SCN_ERR_MALFORMED);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(text, sizeof text, "{\"type\":\"error\",\"code\":\"%s\"}",
                 good[i]);
        assert_int_equal(dec(text, &m), 0);
    }
    assert_int_equal(
        dec("{\"type\":\"error\",\"code\":\"\\uD83D\\uDE00\"}", &m), 0);
    assert_string_equal(m.u.error.code, "\xf0\x9f\x98\x80");

    /* A NUL right after "\u": the encoder used to copy it into the
     * record it sends. */
    static const char nul[] = "{\"UID\":\"a\\u\0\0\0\0\"}";
    assert_int_equal(enc(1, nul, sizeof nul - 1, NULL, 0, &out),
                     SCN_ERR_MALFORMED);
}

static void test_decode_envelope(void **state)
{
    scn_cloud_msg m;

    (void)state;
    assert_int_equal(dec("{\"type\":\"_sim_debug\",\"x\":1}", &m),
                     SCN_ERR_UNKNOWN_TYPE);
    assert_int_equal(m.type, SCN_CLOUD_MSG_UNKNOWN);
    assert_string_equal(m.type_name, "_sim_debug");
    assert_int_equal(dec("{\"x\":1}", &m), SCN_ERR_MISSING_FIELD);
    assert_int_equal(dec("{\"type\":3}", &m), SCN_ERR_WRONG_TYPE);
    assert_int_equal(dec("[1]", &m), SCN_ERR_MALFORMED);
    assert_int_equal(dec("not json", &m), SCN_ERR_MALFORMED);
    assert_int_equal(dec("{\"type\":\"ack\",\"seq\":1} x", &m),
                     SCN_ERR_MALFORMED);
    assert_int_equal(dec("{\"type\":\"ack\",\"type\":\"x\",\"seq\":1}", &m),
                     SCN_ERR_MALFORMED);
    assert_int_equal(scn__cloud_msg_decode(NULL, 1, &m), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__cloud_msg_decode("{}", 2, NULL), SCN_ERR_INVALID_ARG);
    /* Not NUL-terminated: only len bytes are read. */
    assert_int_equal(
        scn__cloud_msg_decode("{\"type\":\"ack\",\"seq\":3}garbage", 22, &m),
        0);
    assert_int_equal(m.u.ack.seq, 3);
}

static int pdec(const char *text, scn_cloud_msg *m)
{
    return scn__cloud_predict_decode(text, strlen(text), m);
}

static void test_predict_decode(void **state)
{
    scn_cloud_msg m;

    (void)state;
    assert_int_equal(pdec("{\"type\":\"inference\",\"model\":\"m\","
                          "\"labels\":[{\"label\":\"a\",\"score\":1}]}",
                          &m),
                     0);
    assert_int_equal(m.type, SCN_CLOUD_MSG_INFERENCE);
    assert_false(m.u.inference.has_seq);
    assert_int_equal(pdec("{\"type\":\"error\",\"code\":\"quota\"}", &m), 0);
    assert_int_equal(m.type, SCN_CLOUD_MSG_ERROR);
    assert_int_equal(pdec("{\"type\":\"ack\",\"seq\":1}", &m),
                     SCN_ERR_UNKNOWN_TYPE);
}

/* ---- Plain answers read in place against the tree ---------------------- */

static const char *pick(scn_rng *rng, const char *const *v, size_t n)
{
    return v[scn__rng_upto(rng, (uint32_t)n - 1)];
}

#define PICK(rng, v) pick(rng, v, sizeof(v) / sizeof(v[0]))

#define X50 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
static const char *const strings[] = {
    "\"\"",
    "\"a\"",
    "\"SCN-1\"",
    "\"caf\xc3\xa9\"",
    "\"q\\\"q\"",
    "\"a\\nb\\t\\/\\\\\\b\\f\\r\"",
    /* Longer than a word, escapes and UTF-8 on both sides of one. */
    "\"olfa-toy-1 long model name\"",
    "\"0123456\\\"89abcdef\\\\x\"",
    "\"caf\xc3\xa9 au lait \xe2\x82\xac 1234567\\\"\"",
    "\"inference\"",
    "\"ack\"",
    "\"error\"",
    "\"hello\"",
    "\"quota\"",
    "\"scentience.cloud.v1\"",
    "\"NH3\"",
    "\"ethanol\"",
    "\"\xe6\x97\xa5\xe6\x9c\xac\"",
    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\\"\"",
    /* Longer than an error message: cut inside a character, and with
     * escapes before the cut. */
    "\"" X50 X50 X50 X50 X50 "abcd\xe6\x97\xa5\xe6\x97\xa5xyz\"",
    "\"" X50 X50 X50 X50 X50 "a\\n\\tb\xc3\xa9\xe6\x97\xa5\xe6\x97\xa5xyz\"",
};
static const char *const numbers[] = {
    "0",
    "-0",
    "1",
    "7",
    "0.5",
    "1.0",
    "-1",
    "359.99",
    "360",
    "1.5",
    "0.0001",
    "9007199254740991",
    "9007199254740992",
    "86400",
    "86400.0001",
    "12.5",
    "123456789012345678901234567890",
    "0.1000000000000000055511151231257827",
    "3.141592653589793238462643383279502884197169399375105820974944",
};
static const char *const others[] = {
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "[1,\"a\",{\"b\":[null]}]",
    "{\"compound\":\"NH3\"}",
};
static const char *const names[] = {
    "type",        "model",    "seq",    "labels", "target", "code", "message",
    "retry_after", "protocol", "models", "stream", "acked",  "x",
};

/* One value for member name (its own kind most of the time). */
static void put_value(scn_rng *rng, char *buf, size_t cap, size_t *n,
                      const char *name, int depth);

static void put(char *buf, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);

    if (*n + len < cap) {
        memcpy(buf + *n, s, len + 1);
        *n += len;
    }
}

static void put_object(scn_rng *rng, char *buf, size_t cap, size_t *n,
                       int depth, bool label)
{
    uint32_t count = scn__rng_upto(rng, 5);
    bool used[sizeof(names) / sizeof(names[0])] = {false};

    put(buf, cap, n, scn__rng_upto(rng, 3) ? "{" : "{ ");
    for (uint32_t i = 0; i < count; i++) {
        uint32_t k = scn__rng_upto(rng, sizeof(names) / sizeof(names[0]) - 1);
        const char *name = names[k];

        if (label) /* a label object, a target */
            name =
                PICK(rng, ((const char *const[]){"label", "score", "compound",
                                                 "bearing_deg", "x"}));
        else if (used[k])
            continue;
        used[k] = true;
        put(buf, cap, n, i ? ",\"" : "\"");
        put(buf, cap, n, name);
        put(buf, cap, n, scn__rng_upto(rng, 4) ? "\":" : "\" : ");
        put_value(rng, buf, cap, n, name, depth + 1);
    }
    put(buf, cap, n, "}");
}

static void put_value(scn_rng *rng, char *buf, size_t cap, size_t *n,
                      const char *name, int depth)
{
    uint32_t r = scn__rng_upto(rng, 9);

    if (depth < 3 &&
        (strcmp(name, "labels") == 0 || strcmp(name, "models") == 0) && r < 7) {
        uint32_t count = scn__rng_upto(rng, 18);

        put(buf, cap, n, "[");
        for (uint32_t i = 0; i < count; i++) {
            if (i)
                put(buf, cap, n, scn__rng_upto(rng, 3) ? "," : " ,\n");
            if (name[0] == 'l' && scn__rng_upto(rng, 9))
                put_object(rng, buf, cap, n, depth, true);
            else
                put(buf, cap, n, PICK(rng, strings));
        }
        put(buf, cap, n, "]");
    } else if (depth < 3 && strcmp(name, "target") == 0 && r < 7) {
        put_object(rng, buf, cap, n, depth, true);
    } else if (r < 4) {
        put(buf, cap, n, PICK(rng, strings));
    } else if (r < 8) {
        put(buf, cap, n, PICK(rng, numbers));
    } else {
        put(buf, cap, n, PICK(rng, others));
    }
}

/* A message of a known type with its members, mostly of the right kinds
 * (so that many are accepted), some left out. */
static void put_known(scn_rng *rng, char *buf, size_t cap, size_t *n)
{
    static const char *const types[][7] = {
        {"ack", "#seq"},
        {"inference", "$model", "#seq", "*labels", "@target"},
        {"error", "$code", "$message", "#seq", "#retry_after"},
        {"hello", "$protocol", "*models", "$stream", "#acked"},
    };
    const char *const *t = types[scn__rng_upto(rng, 3)];

    put(buf, cap, n, "{\"type\":\"");
    put(buf, cap, n, t[0]);
    put(buf, cap, n, "\"");
    for (int i = 1; i < 7 && t[i]; i++) {
        const char *name = t[i] + 1;

        if (scn__rng_upto(rng, 7) == 0)
            continue;
        put(buf, cap, n, ",\"");
        put(buf, cap, n, name);
        put(buf, cap, n, "\":");
        if (scn__rng_upto(rng, 15) == 0) {
            put_value(rng, buf, cap, n, name, 0);
        } else if (t[i][0] == '#') {
            put(buf, cap, n, PICK(rng, numbers));
        } else if (t[i][0] == '$') {
            put(buf, cap, n, PICK(rng, strings));
        } else if (t[i][0] == '@') {
            put(buf, cap, n, "{\"compound\":");
            put(buf, cap, n, PICK(rng, strings));
            if (scn__rng_upto(rng, 1)) {
                put(buf, cap, n, ",\"bearing_deg\":");
                put(buf, cap, n, PICK(rng, numbers));
            }
            put(buf, cap, n, "}");
        } else {
            uint32_t count = scn__rng_upto(rng, 18);

            put(buf, cap, n, "[");
            for (uint32_t k = 0; k < count; k++) {
                put(buf, cap, n, k ? "," : "");
                if (name[0] == 'm') {
                    put(buf, cap, n, PICK(rng, strings));
                    continue;
                }
                put(buf, cap, n, "{\"label\":");
                put(buf, cap, n, PICK(rng, strings));
                put(buf, cap, n, ",\"score\":");
                put(buf, cap, n, PICK(rng, numbers));
                put(buf, cap, n, "}");
            }
            put(buf, cap, n, "]");
        }
    }
    put(buf, cap, n, "}");
}

/* The same message with one member the fast pass cannot vouch for (a
 * "\u" escape in its name): it is decoded from the cJSON tree. */
static size_t through_tree(const char *text, size_t len, char *out)
{
    static const char extra[] = "\"\\u0071slow\":0";
    size_t at = 1, n = 0;

    while (text[at] == ' ')
        at++;
    memcpy(out, text, at);
    n = at;
    memcpy(out + n, extra, sizeof(extra) - 1);
    n += sizeof(extra) - 1;
    if (text[at] != '}')
        out[n++] = ',';
    memcpy(out + n, text + at, len - at);
    return n + len - at;
}

/* Every answer the fast pass vouches for decodes as its tree does: same
 * verdict, same fields, for stream messages and predict answers. */
static void test_decode_in_place_as_the_tree(void **state)
{
    static char text[8192], slow[8300];
    static scn_cloud_msg a, b;
    scn_rng rng;
    int vouched = 0, accepted = 0, total = 40000;

    (void)state;
    scn__rng_seed(&rng, 1212);
    for (int i = 0; i < total; i++) {
        size_t n = 0, sn;
        scn_json_shape sh;

        uint32_t kind = scn__rng_upto(&rng, 2);

        if (kind == 0) {
            put_known(&rng, text, sizeof(text), &n);
        } else if (kind == 1) { /* a known type, any members */
            put(text, sizeof(text), &n, "{\"type\":");
            put(text, sizeof(text), &n,
                PICK(&rng, ((const char *const[]){"\"inference\"", "\"ack\"",
                                                  "\"error\"", "\"hello\"",
                                                  "\"frame\"", "7"})));
            {
                char rest[8000];
                size_t m = 0;

                put_object(&rng, rest, sizeof(rest), &m, 0, false);
                /* its members after "type", if it has any */
                put(text, sizeof(text), &n, strchr(rest, '"') ? "," : "}");
                if (strchr(rest, '"'))
                    put(text, sizeof(text), &n, strchr(rest, '"'));
            }
        } else {
            put_object(&rng, text, sizeof(text), &n, 0, false);
        }
        if (!scn__json_check(text, n, &sh) || !sh.object)
            continue;
        vouched++;
        sn = through_tree(text, n, slow);
        assert_false(scn__json_check(slow, sn, NULL));
        for (int predict = 0; predict < 2; predict++) {
            int (*fn)(const char *, size_t, scn_cloud_msg *) =
                predict ? scn__cloud_predict_decode : scn__cloud_msg_decode;
            int ra, rb;

            memset(&a, 0x5a, sizeof(a));
            memset(&b, 0xa5, sizeof(b));
            ra = fn(text, n, &a);
            rb = fn(slow, sn, &b);
            if (ra != rb || memcmp(&a, &b, sizeof(a)) != 0)
                fail_msg("%s: %s in place, %s from the tree: %s",
                         predict ? "predict" : "stream", scn_err_name(ra),
                         scn_err_name(rb), text);
            accepted += ra == 0;
        }
    }
    /* The generator reaches both paths and both verdicts. */
    assert_true(vouched > total / 2);
    assert_true(accepted > total / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_frame),
        cmocka_unit_test(test_encode_frame_from_parsed),
        cmocka_unit_test(test_encode_parsed),
        cmocka_unit_test(test_encode_frame_refusals),
        cmocka_unit_test(test_encode_frame_why),
        cmocka_unit_test(test_encode_predict),
        cmocka_unit_test(test_encode_resend),
        cmocka_unit_test(test_decode_inference),
        cmocka_unit_test(test_decode_inference_many_labels),
        cmocka_unit_test(test_decode_inference_refusals),
        cmocka_unit_test(test_decode_ack_hello),
        cmocka_unit_test(test_decode_error),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_decode_envelope),
        cmocka_unit_test(test_predict_decode),
        cmocka_unit_test(test_decode_in_place_as_the_tree),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
