/*
 * The fleet model's input (lib/fleet/: topic, envelope), what anyone who
 * can publish to the broker may send a ground station. Input: a topic up
 * to the first newline, the payload after it. An accepted message names
 * a valid drone and stream, its data is a span of the payload that is a
 * JSON object by itself, the same message again is a duplicate when it
 * has a seq (a will excepted), and the table row it makes holds no
 * control byte; a refusal is one of the documented errors and leaves
 * the model as it was.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <scentience/error.h>
#include <scentience/fleet.h>

#include "frame_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - data) : size;
    char *topic = fuzz_cstr(data, tlen);
    const char *payload = nl ? (const char *)nl + 1 : "";
    size_t plen = nl ? size - tlen - 1 : 0;
    scn_fleet *f;
    scn_fleet_message m;
    scn_fleet_drone d;
    scn_fleet_stats st;
    char row[512];
    cJSON *doc = NULL;
    int rc;

    if (scn_fleet_new(NULL, &f) != 0)
        abort();
    rc = scn_fleet_ingest(f, topic, payload, plen, 1, &m);
    scn_fleet_get_stats(f, &st);
    if (rc < 0) {
        FUZZ_CHECK(rc == SCN_ERR_NOT_FOUND || rc == SCN_ERR_UNKNOWN_TYPE ||
                       rc == SCN_ERR_MALFORMED,
                   "error %d", rc);
        FUZZ_CHECK(scn_fleet_count(f) == 0 && st.accepted == 0,
                   "refused but kept");
        goto out;
    }
    FUZZ_CHECK(rc == SCN_FLEET_NEW, "first message not new: %d", rc);
    FUZZ_CHECK(
        strlen(m.drone_id) >= 1 && strlen(m.drone_id) <= SCN_FLEET_ID_MAX &&
            strspn(m.drone_id, "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                strlen(m.drone_id),
        "bad drone id accepted");
    FUZZ_CHECK((unsigned)m.stream < SCN_FLEET_STREAM_COUNT, "stream %d",
               (int)m.stream);
    FUZZ_CHECK(m.data >= payload && m.data + m.data_len <= payload + plen,
               "data outside the payload");
    FUZZ_CHECK(scn__frame_json_parse(m.data, m.data_len, &doc) == 0 &&
                   cJSON_IsObject(doc),
               "data is not a JSON object by itself");
    cJSON_Delete(doc);
    rc = scn_fleet_ingest(f, topic, payload, plen, 2, NULL);
    if (m.seq >= 0 && !(m.stream == SCN_FLEET_STATUS && m.seq == 0))
        FUZZ_CHECK(rc == SCN_FLEET_DUPLICATE, "the same seq again: %d", rc);
    else
        FUZZ_CHECK(rc == SCN_FLEET_NEW, "no seq, not new: %d", rc);
    FUZZ_CHECK(scn_fleet_drone_get(f, 0, &d) == 0, "no drone");
    scn_fleet_format_row(&d, 3, row, sizeof(row));
    for (const char *p = row; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
                   "control byte in the row");
out:
    scn_fleet_free(f);
    free(topic);
    return 0;
}
