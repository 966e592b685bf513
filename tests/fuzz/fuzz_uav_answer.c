/*
 * The drone's answers (uav/response.c). The first byte picks the command
 * the answer is for, the rest is the answer. An accepted answer has the
 * shape its command expects, could_belong agrees with the parser, the raw
 * copy is exact, and the answer written back in canonical form ("ok",
 * "error <reason>", the integer, the word) parses to the same answer.
 */
#include "fuzz.h"

#include <inttypes.h>

#include <scentience/error.h>
#include <scentience/uav.h>

static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s < ' ' || *s > '~')
            return false;
    return true;
}

static void check_accepted(scn_uav_cmd_id cmd, const scn_uav_answer *a)
{
    scn_uav_answer_class cls = scn_uav_cmd_answer_class(cmd);
    char text[160];
    scn_uav_answer b;
    int n = -1;

    switch (a->kind) {
    case SCN_UAV_ANSWER_OK:
        FUZZ_CHECK(cls == SCN_UAV_ANSWER_CLASS_ACK, "ok to a read");
        n = snprintf(text, sizeof text, "ok");
        break;
    case SCN_UAV_ANSWER_ERROR:
        FUZZ_CHECK(strlen(a->text) <= SCN_UAV_REASON_MAX && printable(a->text),
                   "reason \"%s\"", a->text);
        n = snprintf(text, sizeof text, "error%s%s", a->text[0] ? " " : "",
                     a->text);
        break;
    case SCN_UAV_ANSWER_NUMBER:
        FUZZ_CHECK(cls == SCN_UAV_ANSWER_CLASS_INT ||
                       cls == SCN_UAV_ANSWER_CLASS_NUMBER,
                   "number to %s", scn_uav_cmd_name(cmd));
        FUZZ_CHECK(a->is_integer || cls == SCN_UAV_ANSWER_CLASS_NUMBER,
                   "decimal to %s", scn_uav_cmd_name(cmd));
        FUZZ_CHECK(cmd != SCN_UAV_READ_BATTERY ||
                       (a->integer >= 0 && a->integer <= 100),
                   "battery %" PRId64, a->integer);
        FUZZ_CHECK(cmd != SCN_UAV_READ_SPEED || a->number >= 0, "speed");
        if (a->is_integer) {
            FUZZ_CHECK(a->integer >= INT32_MIN && a->integer <= INT32_MAX &&
                           a->number == (double)a->integer,
                       "integer %" PRId64, a->integer);
            n = snprintf(text, sizeof text, "%" PRId64, a->integer);
        }
        break;
    case SCN_UAV_ANSWER_POS:
        FUZZ_CHECK(cls == SCN_UAV_ANSWER_CLASS_POS, "pos to a non-pos");
        break;
    case SCN_UAV_ANSWER_WORD:
        FUZZ_CHECK(cls == SCN_UAV_ANSWER_CLASS_TEXT, "word to a non-text");
        FUZZ_CHECK(strlen(a->text) >= 1 &&
                       strlen(a->text) <= SCN_UAV_WORD_MAX &&
                       printable(a->text) && !strchr(a->text, ' '),
                   "word \"%s\"", a->text);
        n = snprintf(text, sizeof text, "%s", a->text);
        break;
    default:
        FUZZ_CHECK(false, "accepted as kind %d", (int)a->kind);
    }
    if (n < 0)
        return;
    FUZZ_CHECK(scn_uav_answer_parse(cmd, text, (size_t)n, &b) == 0 &&
                   b.kind == a->kind && b.integer == a->integer &&
                   b.is_integer == a->is_integer &&
                   strcmp(b.text, a->text) == 0,
               "canonical answer \"%s\" reads differently", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    scn_uav_cmd_id cmd =
        (scn_uav_cmd_id)(fuzz_take(&in, 1) % SCN_UAV_CMD_COUNT);
    const char *text = (const char *)in.p;
    scn_uav_answer a;
    int rc = scn_uav_answer_parse(cmd, text, in.n, &a);
    size_t kept = in.n < SCN_UAV_RAW_MAX ? in.n : SCN_UAV_RAW_MAX;

    FUZZ_CHECK(rc == 0 || rc == SCN_ERR_MALFORMED, "rc %s", scn_err_name(rc));
    FUZZ_CHECK(a.raw_len == kept && memcmp(a.raw, text, kept) == 0 &&
                   a.raw[kept] == '\0' &&
                   a.raw_truncated == (in.n > SCN_UAV_RAW_MAX),
               "raw copy");
    FUZZ_CHECK(scn_uav_answer_could_belong(cmd, text, in.n) == (rc == 0),
               "could_belong disagrees with the parser");
    FUZZ_CHECK(scn_uav_answer_err(&a) == (rc != 0 ? SCN_ERR_MALFORMED
                                          : a.kind == SCN_UAV_ANSWER_ERROR
                                              ? SCN_ERR_UAV_REFUSED
                                              : 0),
               "answer_err");
    if (rc == 0)
        check_accepted(cmd, &a);
    else
        FUZZ_CHECK(a.kind == SCN_UAV_ANSWER_MALFORMED && a.text[0] == '\0' &&
                       a.number == 0,
                   "refused but filled");
    return 0;
}
