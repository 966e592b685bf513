/* JSON and CSV writing helpers for scn-record. */
#include "jsonw.h"

#include <stdlib.h>
#include <string.h>

#include <scentience/json_writer.h>

void json_put_string(FILE *f, const char *s, size_t len)
{
    char small[512], *buf = small;
    size_t n = scn_json_write_string(NULL, 0, s, len);

    /* Whole, so that no UTF-8 sequence is cut between two pieces. */
    if (n >= sizeof(small) && (buf = malloc(n + 1)) == NULL) {
        fputs("null", f);
        fputs("scn-record: out of memory: a string written as null\n", stderr);
        return;
    }
    scn_json_write_string(buf, n + 1, s, len);
    fwrite(buf, 1, n, f);
    if (buf != small)
        free(buf);
}

void csv_put_cell(FILE *f, const char *s, size_t len)
{
    if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
        !memchr(s, '\r', len)) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}
