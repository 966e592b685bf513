/* Frame printers for scn-stream. */
#ifndef SCN_STREAM_OUTPUT_H
#define SCN_STREAM_OUTPUT_H

#include <scentience/frame.h>
#include <stdio.h>

typedef enum output_format {
    OUTPUT_JSONL,
    OUTPUT_CSV,
    OUTPUT_TABLE
} output_format;

typedef struct output {
    output_format format;
    FILE *out;
    int header_done;
    char *buf; /* jsonl scratch, grown as needed */
    size_t cap;
} output;

/* "jsonl", "csv", "table". Returns 0 or -1. */
int output_format_parse(const char *name, output_format *out);
/* Before anything is written to out: it sets out's buffering. */
void output_init(output *o, output_format format, FILE *out);
/* Prints one frame (buffered). Returns 0 or -1 (write error). */
int output_frame(output *o, const scn_frame *f);
/* Writes what is buffered. Returns 0 or -1 (write error). */
int output_flush(output *o);
void output_free(output *o);

#endif
