/* scn-record info: what a recording holds, as text or JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <scentience/error.h>
#include <scentience/frame.h>
#include <scentience/recording.h>

#include "cli.h"
#include "cmds.h"
#include "jsonw.h"

static const char *when(uint64_t ns, char *buf, size_t cap)
{
    if (ns > INT64_MAX || scn_timestamp_format((int64_t)ns, buf, cap) != 0)
        snprintf(buf, cap, "-");
    return buf;
}

static const char *status(const scn_recording_info *in)
{
    if (in->complete)
        return "complete";
    return in->salvaged ? "corrupt" : "incomplete";
}

static void print_text(const char *path, scn_recording *r,
                       const scn_recording_info *in)
{
    char a[40], b[40];

    printf("file:      %s\n", path);
    printf("status:    %s", status(in));
    if (!in->complete)
        printf(" (%llu of %llu bytes readable; 'scn-record recover' "
               "repairs it)",
               (unsigned long long)in->valid_bytes,
               (unsigned long long)in->file_bytes);
    printf("\nlibrary:   %s\n", in->library);
    printf("messages:  %llu\n", (unsigned long long)in->message_count);
    printf("chunks:    %llu\n", (unsigned long long)in->chunk_count);
    if (in->message_count) {
        printf("start:     %s (%llu ns)\n", when(in->start_ns, a, sizeof(a)),
               (unsigned long long)in->start_ns);
        printf("end:       %s (%llu ns)\n", when(in->end_ns, b, sizeof(b)),
               (unsigned long long)in->end_ns);
        printf("duration:  %.3f s\n",
               (double)(in->end_ns - in->start_ns) / 1e9);
    }
    printf("channels:  %zu\n", in->channel_count);
    if (in->channel_count)
        printf("  %5s  %-20s %10s  %-8s %s\n", "id", "topic", "messages",
               "encoding", "schema");
    for (size_t i = 0; i < in->channel_count; i++) {
        const scn_recording_channel *c = scn_recording_channel_at(r, i);

        printf("  %5u  %-20s %10llu  %-8s %s%s%s%s\n", c->id, c->topic,
               (unsigned long long)c->message_count, c->message_encoding,
               c->schema_name, *c->schema_encoding ? " (" : "",
               c->schema_encoding, *c->schema_encoding ? ")" : "");
    }
}

static void put_key(const char *key)
{
    json_put_string(stdout, key, strlen(key));
    putchar(':');
}

static void put_str(const char *key, const char *value, int comma)
{
    put_key(key);
    json_put_string(stdout, value, strlen(value));
    if (comma)
        putchar(',');
}

static void put_u64(const char *key, uint64_t v, int comma)
{
    put_key(key);
    printf("%llu%s", (unsigned long long)v, comma ? "," : "");
}

/* Times are JSON numbers: exact in Python and jq (big integers), and in
 * JavaScript only up to 2^53, so consumers there should read them as text
 * or BigInt. */
static void print_json(const char *path, scn_recording *r,
                       const scn_recording_info *in)
{
    putchar('{');
    put_str("file", path, 1);
    put_str("status", status(in), 1);
    printf("\"complete\":%s,\"truncated\":%s,", in->complete ? "true" : "false",
           in->truncated ? "true" : "false");
    put_str("library", in->library, 1);
    put_str("profile", in->profile, 1);
    put_u64("messages", in->message_count, 1);
    put_u64("chunks", in->chunk_count, 1);
    put_u64("start_ns", in->start_ns, 1);
    put_u64("end_ns", in->end_ns, 1);
    put_u64("file_bytes", in->file_bytes, 1);
    put_u64("valid_bytes", in->valid_bytes, 1);
    put_key("channels");
    putchar('[');
    for (size_t i = 0; i < in->channel_count; i++) {
        const scn_recording_channel *c = scn_recording_channel_at(r, i);

        printf("%s{", i ? "," : "");
        put_u64("id", c->id, 1);
        put_str("topic", c->topic, 1);
        put_u64("messages", c->message_count, 1);
        put_str("message_encoding", c->message_encoding, 1);
        put_str("schema", c->schema_name, 1);
        put_str("schema_encoding", c->schema_encoding, 1);
        put_u64("start_ns", c->start_ns, 1);
        put_u64("end_ns", c->end_ns, 0);
        putchar('}');
    }
    puts("]}");
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    scn_recording_info in;
    scn_recording *r;
    int opt, json = 0, rc;

    optind = 1;
    if (cli_exact_long_options("scn-record info", argc, argv, longopts))
        return CLI_EX_USAGE;
    while ((opt = cli_getopt("scn-record info", argc, argv, "h", longopts)) !=
           -1) {
        switch (opt) {
        case 'j':
            json = 1;
            break;
        case 'h':
            puts("usage: scn-record info [--json] FILE\n"
                 "Channels, message counts per channel, time span, and "
                 "whether the file is\ncomplete.\nExit: 0 ok, 64 usage, 65 "
                 "corrupt or not MCAP, 66 cannot read, 74 I/O error.");
            return CLI_EX_OK;
        default:
            return CLI_EX_USAGE; /* reported by cli_getopt */
        }
    }
    if (optind == argc)
        return cli_usage_error("scn-record info", "the recording is missing "
                                                  "(FILE)");
    if (optind != argc - 1)
        return cli_usage_error("scn-record info", "unexpected argument '%s'",
                               argv[optind + 1]);
    if ((rc = scn_recording_open(argv[optind], 0, &r))) {
        fprintf(stderr, "scn-record: %s: %s%s%s\n", argv[optind],
                scn_strerror(rc), rc == SCN_ERR_IO ? ": " : "",
                rc == SCN_ERR_IO ? strerror(errno) : "");
        return cli_exit_for_read_error(rc);
    }
    scn_recording_get_info(r, &in);
    if (json)
        print_json(argv[optind], r, &in);
    else
        print_text(argv[optind], r, &in);
    scn_recording_close(r);
    if (fflush(stdout) != 0)
        return CLI_EX_IOERR;
    return CLI_EX_OK;
}
