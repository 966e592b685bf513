/*
 * Device frames (lib/codec/frame_scan.c): every input goes through both entry
 * points of the tokenizer and is compared with the cJSON reference
 * (tests/support/frame_ref.c), once on a fresh frame and once more on a
 * frame that has learnt the key order (the memo). An accepted frame is
 * written with scn_frame_to_json(), which must parse again to the same
 * keys and values and write back to the very same text.
 */
#include "fuzz.h"

#include <scentience/error.h>
#include <scentience/frame.h>

#include "frame_ref.h"

static char *to_json(const scn_frame *f, size_t *len)
{
    size_t need = 0;
    char *buf;

    FUZZ_CHECK(scn_frame_to_json(f, NULL, 0, &need) == SCN_ERR_NOMEM,
               "size query did not say NOMEM");
    buf = malloc(need);
    FUZZ_CHECK(buf != NULL, "out of memory");
    FUZZ_CHECK(scn_frame_to_json(f, buf, need, len) == 0 && *len + 1 == need,
               "writer needs %zu bytes, then wrote %zu", need, *len);
    FUZZ_CHECK(strlen(buf) == *len, "NUL inside the written frame");
    return buf;
}

/* Same keys, kinds, canonical values and typed view. */
static void check_same(const scn_frame *a, const scn_frame *b)
{
    uint64_t sa = 0, sb = 0;

    FUZZ_CHECK(scn_frame_key_count(a) == scn_frame_key_count(b),
               "%zu keys, %zu after the round trip", scn_frame_key_count(a),
               scn_frame_key_count(b));
    for (size_t i = 0; i < scn_frame_key_count(a); i++) {
        const char *na, *nb, *ra, *rb;
        scn_key_kind ka, kb;
        scn_frame_key_at(a, i, &na, &ka, &ra);
        scn_frame_key_at(b, i, &nb, &kb, &rb);
        FUZZ_CHECK(strcmp(na, nb) == 0 && ka == kb && strcmp(ra, rb) == 0,
                   "key %zu: %s=%s became %s=%s", i, na, ra, nb, rb);
    }
    FUZZ_CHECK(strcmp(scn_frame_uid(a), scn_frame_uid(b)) == 0 &&
                   scn_frame_timestamp_ns(a) == scn_frame_timestamp_ns(b),
               "UID or TIMESTAMP changed");
    FUZZ_CHECK(scn_frame_seq(a, &sa) == scn_frame_seq(b, &sb) && sa == sb,
               "SEQ changed");
    for (int i = 0; i < SCN_FIELD_COUNT; i++) {
        double va = 0, vb = 0;
        int ha = scn_frame_field(a, (scn_field)i, &va);
        int hb = scn_frame_field(b, (scn_field)i, &vb);
        FUZZ_CHECK(ha == hb && memcmp(&va, &vb, sizeof va) == 0,
                   "field %d changed", i);
    }
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++) {
        for (int ch = 0; ch < 3; ch++) {
            double va = scn_frame_compound(a, (scn_compound)c, (scn_channel)ch);
            double vb = scn_frame_compound(b, (scn_compound)c, (scn_channel)ch);
            FUZZ_CHECK(memcmp(&va, &vb, sizeof va) == 0,
                       "compound %d/%d changed", c, ch);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    scn_frame *f, *g;
    char why[512], *text, *again;
    size_t len, len2;

    if (scn_frame_new(&f) != 0 || scn_frame_new(&g) != 0)
        abort();
    /* Fresh, then with the memo of the same text. */
    FUZZ_CHECK(frame_ref_compare(f, json, size, false, why, sizeof why) == 0,
               "parse: %s", why);
    FUZZ_CHECK(frame_ref_compare(f, json, size, true, why, sizeof why) == 0,
               "inbound: %s", why);
    if (scn_frame_parse(f, json, size) == 0) {
        text = to_json(f, &len);
        FUZZ_CHECK(scn_frame_parse(g, text, len) == 0, "written frame %s: %s",
                   text, scn_err_name(scn_frame_parse(g, text, len)));
        check_same(f, g);
        again = to_json(g, &len2);
        FUZZ_CHECK(len == len2 && memcmp(text, again, len) == 0,
                   "written twice: %s, then %s", text, again);
        free(again);
        free(text);
    }
    scn_frame_free(g);
    scn_frame_free(f);
    return 0;
}
