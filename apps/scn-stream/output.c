/* Frame printers for scn-stream: jsonl, csv, table. */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <scentience/log.h>

int output_format_parse(const char *name, output_format *out)
{
    if (strcmp(name, "jsonl") == 0)
        *out = OUTPUT_JSONL;
    else if (strcmp(name, "csv") == 0)
        *out = OUTPUT_CSV;
    else if (strcmp(name, "table") == 0)
        *out = OUTPUT_TABLE;
    else
        return -1;
    return 0;
}

/* CSV has a fixed header so that spreadsheets and scripts can rely on the
 * columns: identity, every known field, every compound (single channel;
 * absent compounds print 0 as the protocol defines). Keys outside this set
 * are only in jsonl. */
static void csv_header(FILE *out)
{
    fputs("UID,TIMESTAMP,SEQ", out);
    for (int f = 0; f < SCN_FIELD_COUNT; f++)
        fprintf(out, ",%s", scn_field_name((scn_field)f));
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++)
        fprintf(out, ",%s", scn_compound_name((scn_compound)c));
    fputc('\n', out);
}

/* UID comes from the device: quote it so that a comma cannot shift the
 * columns. */
static void csv_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void print_csv(output *o, const scn_frame *f)
{
    uint64_t seq;
    double v;

    if (!o->header_done) {
        csv_header(o->out);
        o->header_done = 1;
    }
    csv_string(o->out, scn_frame_uid(f));
    fputc(',', o->out);
    csv_string(o->out, scn_frame_timestamp(f));
    fputc(',', o->out);
    if (scn_frame_seq(f, &seq) == 0)
        fprintf(o->out, "%llu", (unsigned long long)seq);
    for (int i = 0; i < SCN_FIELD_COUNT; i++) {
        fputc(',', o->out);
        if (scn_frame_field(f, (scn_field)i, &v) == 0)
            fprintf(o->out, "%.10g", v);
    }
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++)
        fprintf(o->out, ",%.10g",
                scn_frame_compound(f, (scn_compound)c, SCN_CHANNEL_SINGLE));
    fputc('\n', o->out);
}

static void print_table(output *o, const scn_frame *f)
{
    double t = 0, h = 0, charge = 0;
    uint64_t seq = 0;
    int best[3] = {-1, -1, -1};
    char ts[128], uid[128];

    if (!o->header_done) {
        fprintf(o->out, "%-24s %-10s %7s %7s %6s %5s  %s\n", "TIMESTAMP", "UID",
                "SEQ", "TEMP_C", "RH_%", "BATT%", "TOP COMPOUNDS (ppb)");
        o->header_done = 1;
    }
    scn_frame_field(f, SCN_FIELD_ENV_TEMPERATURE_C, &t);
    scn_frame_field(f, SCN_FIELD_ENV_HUMIDITY, &h);
    scn_frame_field(f, SCN_FIELD_BATT_CHARGE, &charge);
    scn_frame_seq(f, &seq);
    for (int c = 0; c < SCN_COMPOUND_COUNT; c++) {
        double v = scn_frame_compound(f, (scn_compound)c, SCN_CHANNEL_SINGLE);
        for (int k = 0; k < 3; k++) {
            if (best[k] < 0 || v > scn_frame_compound(f, (scn_compound)best[k],
                                                      SCN_CHANNEL_SINGLE)) {
                memmove(&best[k + 1], &best[k],
                        (size_t)(2 - k) * sizeof(best[0]));
                best[k] = c;
                break;
            }
        }
    }
    /* For a terminal: the device's strings escaped. */
    scn_escape_text(ts, sizeof(ts), scn_frame_timestamp(f),
                    strlen(scn_frame_timestamp(f)));
    scn_escape_text(uid, sizeof(uid), scn_frame_uid(f),
                    strlen(scn_frame_uid(f)));
    fprintf(o->out, "%-24.24s %-10.10s %7llu %7.2f %6.1f %5.0f ", ts, uid,
            (unsigned long long)seq, t, h, charge);
    for (int k = 0; k < 3; k++) {
        double v;
        if (best[k] < 0)
            continue;
        v = scn_frame_compound(f, (scn_compound)best[k], SCN_CHANNEL_SINGLE);
        if (v > 0)
            fprintf(o->out, " %s=%.0f",
                    scn_compound_name((scn_compound)best[k]), v);
    }
    fputc('\n', o->out);
}

static int print_jsonl(output *o, const scn_frame *f)
{
    size_t need = 0;

    while (scn_frame_to_json(f, o->buf, o->cap, &need) != 0) {
        size_t cap = need + 1 > o->cap * 2 ? need + 1 : o->cap * 2;
        char *nb = realloc(o->buf, cap);
        if (!nb)
            return -1;
        o->buf = nb;
        o->cap = cap;
    }
    fwrite(o->buf, 1, need, o->out);
    fputc('\n', o->out);
    return 0;
}

int output_frame(output *o, const scn_frame *f)
{
    switch (o->format) {
    case OUTPUT_JSONL:
        if (print_jsonl(o, f))
            return -1;
        break;
    case OUTPUT_CSV:
        print_csv(o, f);
        break;
    case OUTPUT_TABLE:
        print_table(o, f);
        break;
    }
    return ferror(o->out) ? -1 : 0;
}

int output_flush(output *o)
{
    return fflush(o->out) == 0 ? 0 : -1;
}

void output_init(output *o, output_format format, FILE *out)
{
    memset(o, 0, sizeof(*o));
    o->format = format;
    o->out = out;
    /* Flushed by the caller once per loop turn (output_flush): a buffer
     * that holds a turn's lines makes that one write, not one per 4 KiB.
     * stdio keeps using it until exit, so it is static (glibc ignores the
     * size when it allocates the buffer itself). Must come before anything
     * is written to out. */
    static char buffer[64 * 1024];
    setvbuf(out, buffer, _IOFBF, sizeof(buffer));
}

void output_free(output *o)
{
    free(o->buf);
    o->buf = NULL;
}
