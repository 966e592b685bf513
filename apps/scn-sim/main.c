/*
 * scn-sim: simulated Scentience endpoints, so that clients run and are
 * tested without hardware. `scn-sim [MODE] [options]`; MODE defaults to
 * `device` (the Sockets API). Each mode parses its own options.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cloud/cloud_sim.h"
#include "common/simopts.h"
#include "device/device.h"
#include "uav/uav_sim.h"

typedef struct sim_mode {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
} sim_mode;

static const sim_mode modes[] = {
    {"device", "Scentience devices over WebSocket (default)", device_main},
    {"uav", "a drone over UAV-Sockets (scn-sim uav --help)", uav_main},
    {"cloud", "the cloud inference service (scn-sim cloud --help)", cloud_main},
};

#define N_MODES (sizeof(modes) / sizeof(modes[0]))

void sim_print_modes(FILE *f)
{
    size_t i;

    for (i = 0; i < N_MODES; i++)
        fprintf(f, "  %-8s %s\n", modes[i].name, modes[i].summary);
}

int main(int argc, char **argv)
{
    const sim_mode *mode = &modes[0];
    size_t i;

    if (argc > 1 && argv[1][0] != '-') {
        mode = NULL;
        for (i = 0; i < N_MODES; i++)
            if (!strcmp(argv[1], modes[i].name))
                mode = &modes[i];
        if (!mode)
            return cli_usage_error("scn-sim", "unknown mode: %s", argv[1]);
        argc--;
        argv++; /* the mode name becomes argv[0] for getopt */
    }
    return mode->main(argc, argv);
}
