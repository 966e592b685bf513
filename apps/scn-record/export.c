/*
 * scn-record export: messages as JSON lines or, for one channel, CSV, for
 * people who use spreadsheets or pandas.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <scentience/error.h>
#include <scentience/recording.h>

#include "cli.h"
#include "cmds.h"
#include "jsonw.h"

/* Whether data[0..len) is one JSON value with nothing else around it. */
static int is_json(const char *data, size_t len)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(data, len, &end, 0);

    if (!v)
        return 0;
    cJSON_Delete(v);
    for (; end < data + len; end++)
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
            return 0;
    return 1;
}

/* {"topic","log_time_ns","publish_time_ns","data"} per line. data is the
 * message itself when it is JSON (line breaks, which JSON allows only as
 * whitespace, become spaces), else a string. */
static int export_jsonl(scn_recording *r, const scn_recording_channel *only)
{
    scn_recording_message m;

    while (scn_recording_next(r, &m)) {
        if (only && m.channel != only)
            continue;
        fputs("{\"topic\":", stdout);
        json_put_string(stdout, m.channel->topic, strlen(m.channel->topic));
        printf(",\"log_time_ns\":%llu,\"publish_time_ns\":%llu,\"data\":",
               (unsigned long long)m.log_time_ns,
               (unsigned long long)m.publish_time_ns);
        if (is_json(m.data, m.len)) {
            for (size_t i = 0; i < m.len; i++) {
                char c = m.data[i];

                putchar(c == '\n' || c == '\r' ? ' ' : c);
            }
        } else {
            json_put_string(stdout, m.data, m.len);
        }
        fputs("}\n", stdout);
    }
    return 0;
}

/* The CSV columns: the union of the top-level keys, in order of first
 * appearance. Frames keep their key order, so the next key is usually the
 * one after the last found: try it first. */
typedef struct columns {
    char **names;
    size_t n, cap, hint;
} columns;

static long find_column(columns *c, const char *name)
{
    if (c->hint < c->n && strcmp(c->names[c->hint], name) == 0)
        return (long)c->hint++;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->names[i], name) == 0) {
            c->hint = i + 1;
            return (long)i;
        }
    }
    return -1;
}

static int add_column(columns *c, const char *name)
{
    if (find_column(c, name) >= 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        char **p = realloc(c->names, cap * sizeof(*p));

        if (!p)
            return -1;
        c->names = p;
        c->cap = cap;
    }
    if (!(c->names[c->n] = strdup(name)))
        return -1;
    c->hint = ++c->n;
    return 0;
}

static cJSON *parse_object(const scn_recording_message *m)
{
    cJSON *v = cJSON_ParseWithLength(m->data, m->len);

    if (v && !cJSON_IsObject(v)) {
        cJSON_Delete(v);
        v = NULL;
    }
    return v;
}

/* A cell: strings as their text, null as empty, anything else as compact
 * JSON. */
static int put_value(const cJSON *item)
{
    char *text;

    if (cJSON_IsString(item)) {
        csv_put_cell(stdout, item->valuestring, strlen(item->valuestring));
        return 0;
    }
    if (cJSON_IsNull(item))
        return 0;
    if (!(text = cJSON_PrintUnformatted(item)))
        return -1;
    csv_put_cell(stdout, text, strlen(text));
    cJSON_free(text);
    return 0;
}

static int csv_row(const scn_recording_message *m, columns *cols,
                   const cJSON **cells)
{
    cJSON *obj = parse_object(m);
    const cJSON *item;
    int rc = 0;

    memset(cells, 0, cols->n * sizeof(*cells));
    cols->hint = 0;
    cJSON_ArrayForEach(item, obj)
    {
        long i = find_column(cols, item->string);

        if (i >= 0 && !cells[i])
            cells[i] = item;
    }
    csv_put_cell(stdout, m->channel->topic, strlen(m->channel->topic));
    printf(",%llu,%llu", (unsigned long long)m->log_time_ns,
           (unsigned long long)m->publish_time_ns);
    for (size_t i = 0; i < cols->n && !rc; i++) {
        putchar(',');
        if (cells[i])
            rc = put_value(cells[i]);
    }
    putchar('\n');
    cJSON_Delete(obj);
    return rc;
}

static int export_csv(scn_recording *r, const scn_recording_channel *ch)
{
    scn_recording_message m;
    columns cols = {0};
    const cJSON **cells = NULL;
    int rc = 0;

    /* Pass 1: every key of every message, so that no row has a column the
     * header lacks. */
    while (!rc && scn_recording_next(r, &m)) {
        cJSON *obj;
        const cJSON *item;

        if (m.channel != ch || !(obj = parse_object(&m)))
            continue;
        cols.hint = 0;
        cJSON_ArrayForEach(item, obj)
        {
            if (add_column(&cols, item->string)) {
                rc = -1;
                break;
            }
        }
        cJSON_Delete(obj);
    }
    if (!rc && cols.n && !(cells = calloc(cols.n, sizeof(*cells))))
        rc = -1;
    if (!rc) {
        fputs("topic,log_time_ns,publish_time_ns", stdout);
        for (size_t i = 0; i < cols.n; i++) {
            putchar(',');
            csv_put_cell(stdout, cols.names[i], strlen(cols.names[i]));
        }
        putchar('\n');
        scn_recording_rewind(r);
        while (!rc && scn_recording_next(r, &m))
            if (m.channel == ch)
                rc = csv_row(&m, &cols, cells);
    }
    for (size_t i = 0; i < cols.n; i++)
        free(cols.names[i]);
    free(cols.names);
    free(cells);
    return rc;
}

#define X "scn-record export"

static void usage(FILE *f)
{
    fputs("usage: scn-record export FILE --format csv|jsonl [--channel "
          "TOPIC]\n"
          "  jsonl: one object per message: topic, log_time_ns, "
          "publish_time_ns, data\n"
          "  csv:   one channel (--channel, needed when the file has "
          "several): topic,\n"
          "         log_time_ns, publish_time_ns, then every top-level key "
          "seen\n"
          "Messages in log time order, to stdout.\n"
          "Exit: 0 ok, 64 usage (or no such channel), 65 corrupt or not "
          "MCAP, 66 cannot\nread, 71 out of memory, 74 I/O error.\n",
          f);
}

int cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"channel", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const scn_recording_channel *ch = NULL;
    const char *format = NULL, *topic = NULL;
    scn_recording_info in;
    scn_recording *r;
    int opt, rc;

    optind = 1;
    if (cli_exact_long_options(X, argc, argv, longopts))
        return CLI_EX_USAGE;
    while ((opt = cli_getopt(X, argc, argv, "h", longopts)) != -1) {
        switch (opt) {
        case 'f':
            format = optarg;
            if (strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0)
                return cli_usage_error(X, "--format %s: must be csv or jsonl",
                                       format);
            break;
        case 'c':
            topic = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EX_OK;
        default:
            return CLI_EX_USAGE; /* reported by cli_getopt */
        }
    }
    if (optind == argc)
        return cli_usage_error(X, "the recording is missing (FILE)");
    if (optind != argc - 1)
        return cli_usage_error(X, "unexpected argument '%s'", argv[optind + 1]);
    if (!format)
        return cli_usage_error(X, "--format is required (csv or jsonl)");
    if ((rc = scn_recording_open(argv[optind], 0, &r))) {
        fprintf(stderr, "scn-record: %s: %s%s%s\n", argv[optind],
                scn_strerror(rc), rc == SCN_ERR_IO ? ": " : "",
                rc == SCN_ERR_IO ? strerror(errno) : "");
        return cli_exit_for_read_error(rc);
    }
    scn_recording_get_info(r, &in);
    if (topic && !(ch = scn_recording_find_channel(r, topic))) {
        fprintf(stderr, "scn-record: no channel '%s' in %s\n", topic,
                argv[optind]);
        scn_recording_close(r);
        return CLI_EX_USAGE;
    }
    if (!in.complete)
        fprintf(stderr,
                "scn-record: %s is incomplete; exporting its %llu "
                "readable messages\n",
                argv[optind], (unsigned long long)in.message_count);
    if (strcmp(format, "jsonl") == 0) {
        rc = export_jsonl(r, ch);
    } else {
        if (!ch && in.channel_count == 1)
            ch = scn_recording_channel_at(r, 0);
        if (!ch) {
            fputs("scn-record: csv needs --channel TOPIC; channels:", stderr);
            for (size_t i = 0; i < in.channel_count; i++)
                fprintf(stderr, " %s", scn_recording_channel_at(r, i)->topic);
            fputc('\n', stderr);
            scn_recording_close(r);
            return CLI_EX_USAGE;
        }
        rc = export_csv(r, ch);
    }
    scn_recording_close(r);
    if (rc) {
        fputs("scn-record: out of memory\n", stderr);
        return CLI_EX_OSERR;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "scn-record: writing: %s\n", strerror(errno));
        return CLI_EX_IOERR;
    }
    return CLI_EX_OK;
}
