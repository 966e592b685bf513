/*
 * ISO-8601 timestamps (lib/codec/timestamp.c), from every device frame. What
 * the parser accepts is written with scn_timestamp_format() to the same
 * date and time of day (milliseconds, truncated), which parses back and
 * writes the same text again. Any int64 nanosecond count, taken from the
 * input's first eight bytes, is written as a text the parser accepts.
 */
#include "fuzz.h"

#include <scentience/error.h>
#include <scentience/frame.h>

#define NS_PER_MS 1000000

/* ns truncated to the millisecond toward the past, or, for the partial
 * first millisecond of the range (below which int64 cannot go), its first
 * whole one. */
static int64_t floor_ms(int64_t ns)
{
    int64_t r = ns % NS_PER_MS;

    if (r < 0)
        r += NS_PER_MS;
    if ((uint64_t)ns - (uint64_t)INT64_MIN < (uint64_t)r)
        return ns + (NS_PER_MS - r);
    return ns - r;
}

/* Formats ns; the text must parse back to floor_ms(ns) and, formatted
 * again, be the same. Returns the text in buf. */
static void check_format(int64_t ns, char *buf, size_t cap)
{
    char again[64];
    int64_t back = 0;
    int rc;

    FUZZ_CHECK(scn_timestamp_format(ns, buf, cap) == 0, "format");
    rc = scn_timestamp_parse(buf, &back);
    FUZZ_CHECK(rc == 0, "%lld formats as %s, which does not parse",
               (long long)ns, buf);
    FUZZ_CHECK(back == floor_ms(ns), "%lld formats as %s, which reads %lld",
               (long long)ns, buf, (long long)back);
    FUZZ_CHECK(scn_timestamp_format(back, again, sizeof again) == 0 &&
                   strcmp(again, buf) == 0,
               "%s written again as %s", buf, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    int64_t ns = (int64_t)fuzz_take(&in, 8);
    char *text = fuzz_cstr(data, size);
    char buf[64];

    check_format(ns, buf, sizeof buf);
    if (scn_timestamp_parse(text, &ns) == 0) {
        check_format(ns, buf, sizeof buf);
        /* The same instant to the second: the calendar arithmetic goes
         * both ways. Only the partial first millisecond moves, and not
         * past its second. */
        FUZZ_CHECK(memcmp(buf, text, 19) == 0, "%s written as %s", text, buf);
    }
    free(text);
    return 0;
}
