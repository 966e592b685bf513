/*
 * scn-record bench: how fast the recorder writes, and how many bytes it
 * adds per message, with device frames of a chosen size (issue 5's
 * recording workload). Point it at tmpfs (/dev/shm) to measure the
 * recorder rather than the disk.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scentience/error.h>
#include <scentience/recorder.h>

#include "cli.h"
#include "cmds.h"

/* A device frame as scn_frame_to_json() writes one, before padding. */
static const char frame_head[] =
    "{\"UID\":\"SCN-DEV-000123\",\"TIMESTAMP\":\"2025-08-29T21:00:00.123Z\","
    "\"SEQ\":1234567,\"ENV_temperatureC\":22.5,\"ENV_humidity\":41.2,"
    "\"ENV_pressureHpa\":1013.25,\"STATUS_opuA\":1,\"BATT_health\":98,"
    "\"BATT_v\":3.92,\"BATT_charge\":77,\"BATT_time\":5.5,\"CO2\":412.7,"
    "\"NH3_A\":0.12,\"NH3_B\":0.11,\"NO\":0.02,\"NO2\":0.031,\"CO\":0.4,"
    "\"C2H5OH\":0.05,\"H2\":0.6,\"CH4\":1.9,\"C3H8\":0.01,\"C4H10\":0.02,"
    "\"H2S\":0.003,\"HCHO\":0.004,\"SO2\":0.002,\"VOC\":0.35,"
    "\"_pad\":\"";

static double seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define B "scn-record bench"

int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},
        {"sync", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    uint64_t count = 2000000, size = 500;
    size_t head = sizeof(frame_head) - 1;
    scn_recorder_options ro;
    scn_recorder_stats st;
    scn_recorder *rec;
    uint16_t ch;
    char *frame;
    double t0, dt;
    int opt, rc;

    scn_recorder_options_init(&ro);
    ro.no_sync = 1; /* the recorder's cost, not the disk's */
    optind = 1;
    if (cli_exact_long_options(B, argc, argv, longopts))
        return CLI_EX_USAGE;
    while ((opt = cli_getopt(B, argc, argv, "h", longopts)) != -1) {
        switch (opt) {
        case 'n':
            if (cli_opt_u64(B, "--count", optarg, 1, UINT64_MAX / 2, &count))
                return CLI_EX_USAGE;
            break;
        case 's':
            if (cli_opt_size(B, "--size", optarg, head + 2, 1u << 24, &size))
                return CLI_EX_USAGE;
            break;
        case 'y':
            ro.no_sync = 0;
            break;
        case 'h':
            puts("usage: scn-record bench OUT [--count N (2000000)] "
                 "[--size BYTES (500)] [--sync]\n"
                 "Writes N device frames of BYTES each to /olfaction in "
                 "OUT; prints frames/s\nand the bytes added per frame. "
                 "--sync: fdatasync at every flush.\n"
                 "Exit: 0 done, 64 usage, 71 out of memory, 73 cannot create "
                 "OUT, 74 I/O error.");
            return CLI_EX_OK;
        default:
            return CLI_EX_USAGE; /* reported by cli_getopt */
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(B, "%s",
                               optind == argc
                                   ? "the output file is missing (OUT)"
                                   : "more than one output file");
    if (!(frame = malloc(size))) {
        return CLI_EX_OSERR;
    }
    memcpy(frame, frame_head, head);
    memset(frame + head, 'x', size - head - 2);
    memcpy(frame + size - 2, "\"}", 2);

    t0 = seconds();
    if ((rc = scn_recorder_new(argv[optind], &ro, &rec)) ||
        (rc = scn_recorder_stream_channel(rec, SCN_RECORD_OLFACTION, &ch))) {
        fprintf(stderr, "scn-record: %s: %s\n", argv[optind], scn_strerror(rc));
        free(frame);
        scn_recorder_free(rec);
        return CLI_EX_CANTCREAT;
    }
    for (uint64_t i = 0; i < count && !rc; i++) {
        uint64_t t = 1756500000000000000ull + i * 1000000u;

        rc = scn_recorder_write(rec, ch, t, t, frame, (size_t)size);
    }
    if (!rc)
        rc = scn_recorder_finish(rec);
    dt = seconds() - t0;
    scn_recorder_get_stats(rec, &st);
    scn_recorder_free(rec);
    free(frame);
    if (rc) {
        fprintf(stderr, "scn-record: %s\n", scn_strerror(rc));
        return CLI_EX_IOERR;
    }
    printf("{\"frames\":%llu,\"frame_bytes\":%llu,\"seconds\":%.3f,"
           "\"frames_per_s\":%.0f,\"file_bytes\":%llu,"
           "\"overhead_bytes_per_frame\":%.2f,\"overhead_pct\":%.2f}\n",
           (unsigned long long)count, (unsigned long long)size, dt,
           (double)count / dt, (unsigned long long)st.bytes,
           (double)(st.bytes - st.payload_bytes) / (double)count,
           100.0 * (double)(st.bytes - st.payload_bytes) /
               (double)st.payload_bytes);
    return CLI_EX_OK;
}
