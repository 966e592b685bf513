/*
 * The simulated odour world: one plume per compound, fully determined by a
 * seed. Concentrations drift slowly, peak now and then (a puff passing) and
 * fall off with distance from a slowly meandering source, so that a fixed
 * device sees a plausible time series and a moving drone sees a gradient.
 */
#ifndef SCN_SIM_PLUME_H
#define SCN_SIM_PLUME_H

#include <stdint.h>

#define PLUME_NCOMPOUNDS 14

typedef struct plume_source {
    double base;       /* typical level at the source, ppb */
    double sparse;     /* 0, or the share cut off so the value often <= 0 */
    double period[2];  /* drift periods, s */
    double phase[3];   /* drift and meander phases, rad */
    double sx, sy, sz; /* source position, cm */
} plume_source;

typedef struct plume {
    uint64_t seed;
    plume_source src[PLUME_NCOMPOUNDS];
} plume;

void plume_init(plume *p, uint64_t seed);

/* Concentration in ppb of compound index c (0..PLUME_NCOMPOUNDS-1) at
 * position (x, y, z) in cm, t seconds after the simulation started. May be
 * <= 0: the device omits such a compound from its frame. Pure: the same
 * arguments always give the same value. */
double plume_concentration(const plume *p, int c, double x, double y, double z,
                           double t);

/* Formula as it appears in frames ("NH3"), NULL when out of range. */
const char *plume_compound_name(int c);
/* Index of a compound name, case-insensitive ("nh3" too), or -1. */
int plume_compound_index(const char *name);

#endif
