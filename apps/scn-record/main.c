/*
 * scn-record: record device streams (and their cloud inference stream) to
 * MCAP, and inspect, export and repair recordings.
 *
 * The key comes from SCENTIENCE_API_KEY or --key-file, never from an
 * option value, and never enters a recording: connection events carry only
 * its redacted form.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <scentience/error.h>
#include <scentience/recording.h>

#include "cli.h"
#include "cmds.h"

static void usage(FILE *f)
{
    fputs("usage: scn-record COMMAND ...\n"
          "  record --url URL [--cloud-url URL --spool-dir DIR] [options] "
          "OUT.mcap\n"
          "                                        record a device stream "
          "(and its cloud\n"
          "                                        inference stream)\n"
          "  info [--json] FILE                    channels, counts, span\n"
          "  export FILE --format csv|jsonl [--channel TOPIC]\n"
          "                                        messages to stdout\n"
          "  recover IN OUT                        repair a killed "
          "recording\n"
          "  bench OUT [--count N] [--size BYTES]  recorder write speed\n"
          "Run 'scn-record COMMAND --help' for a command's options.\n"
          "Exit: 0 done, 64 usage, 65 corrupt file, 66 cannot read, 69 "
          "unreachable or\nrefused, 70 internal error, 71 out of memory, 73 "
          "cannot create (or the output\nexists: --force), 74 I/O error, 75 "
          "spool in use, 77 key rejected, 78 no usable\nkey. Each command's "
          "--help lists its own.\n",
          f);
}

int cmd_recover(int argc, char **argv)
{
    scn_recording_info kept;
    int rc;

    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        puts("usage: scn-record recover IN OUT\n"
             "Reads what is valid in IN (a recording whose writer was "
             "killed, up to its\nlast complete chunk) and writes it to OUT "
             "as a complete, indexed file.\n"
             "Exit: 0 done, 64 usage, 65 not MCAP, 66 cannot read IN or "
             "create OUT, 71 out\nof memory, 74 I/O error.");
        return CLI_EX_OK;
    }
    if (argc != 3) {
        fputs("usage: scn-record recover IN OUT\n", stderr);
        return CLI_EX_USAGE;
    }
    rc = scn_recording_recover(argv[1], argv[2], &kept);
    if (rc == SCN_ERR_INVALID_ARG) {
        fputs("scn-record: IN and OUT must be different files\n", stderr);
        return CLI_EX_USAGE;
    }
    if (rc) {
        fprintf(stderr, "scn-record: recover %s %s: %s\n", argv[1], argv[2],
                scn_strerror(rc));
        return cli_exit_for_read_error(rc);
    }
    fprintf(stderr,
            "scn-record: recovered %llu messages on %zu channels from "
            "%llu of %llu bytes%s\n",
            (unsigned long long)kept.message_count, kept.channel_count,
            (unsigned long long)kept.valid_bytes,
            (unsigned long long)kept.file_bytes,
            kept.complete   ? " (the input was complete)"
            : kept.salvaged ? " (stopped at a corrupt record)"
                            : "");
    return CLI_EX_OK;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"record", cmd_record},
                {"info", cmd_info},
                {"export", cmd_export},
                {"recover", cmd_recover},
                {"bench", cmd_bench}};

    if (argc < 2) {
        usage(stderr);
        return CLI_EX_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_EX_OK;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "scn-record: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_EX_USAGE;
}
