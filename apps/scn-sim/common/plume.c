/* A deterministic plume model: every number derives from the seed through a
 * hash, never from a stateful generator, so values do not depend on how
 * often or in what order they are asked for. */
#include "plume.h"

#include <math.h>
#include <stddef.h>
#include <strings.h>

#define PLUME_PI         3.14159265358979323846
#define PEAK_SLOT_S      15.0   /* at most one puff per slot */
#define PEAK_CHANCE      0.35   /* share of slots that hold a puff */
#define SIGMA_H_CM       1500.0 /* horizontal plume spread */
#define SIGMA_V_CM       400.0  /* vertical plume spread */
#define BACKGROUND_SHARE 0.3    /* level far from the source */
#define MEANDER_CM       250.0
#define MEANDER_PERIOD_S 600.0

static const char *const names[PLUME_NCOMPOUNDS] = {
    "CO2", "NH3",  "NO",    "NO2", "CO",   "C2H5OH", "H2",
    "CH4", "C3H8", "C4H10", "H2S", "HCHO", "SO2",    "VOC"};

/* Typical levels (ppb), in the range of the published example frame. The
 * nitrogen oxides and CO2 are "sparse": above zero only when a puff or a
 * high drift lifts them, so frames do omit compounds. */
static const double bases[PLUME_NCOMPOUNDS] = {
    420.0, 270.0, 6.23,  6.23,   1275.0, 409.0,  152.0,
    410.0, 917.0, 917.0, 2581.0, 2584.0, 1261.0, 2917.0};
static const double sparses[PLUME_NCOMPOUNDS] = {0.9, 0, 1.0, 1.0, 0, 0, 0,
                                                 0,   0, 0,   0,   0, 0, 0};

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser: a good 64-bit hash for sequential inputs */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double hash01(uint64_t seed, uint64_t a, uint64_t b, uint64_t k)
{
    uint64_t h = mix(seed ^ mix(a ^ mix(b ^ mix(k))));

    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

void plume_init(plume *p, uint64_t seed)
{
    int c;

    p->seed = seed;
    for (c = 0; c < PLUME_NCOMPOUNDS; c++) {
        plume_source *s = &p->src[c];
        uint64_t id = (uint64_t)c + 1;

        s->base = bases[c];
        s->sparse = sparses[c];
        s->period[0] = 300.0 + 600.0 * hash01(seed, id, 1, 0);
        s->period[1] = 40.0 + 80.0 * hash01(seed, id, 2, 0);
        s->phase[0] = 2 * PLUME_PI * hash01(seed, id, 3, 0);
        s->phase[1] = 2 * PLUME_PI * hash01(seed, id, 4, 0);
        s->phase[2] = 2 * PLUME_PI * hash01(seed, id, 5, 0);
        /* Sources within 10 m of the origin, where device 0 sits. */
        s->sx = -1000.0 + 2000.0 * hash01(seed, id, 6, 0);
        s->sy = -1000.0 + 2000.0 * hash01(seed, id, 7, 0);
        s->sz = 50.0 + 150.0 * hash01(seed, id, 8, 0);
    }
}

/* Sum of the puffs near t: each slot holds at most one Gaussian bump whose
 * time, width and height come from the hash of (seed, compound, slot). */
static double puffs(const plume *p, int c, double t)
{
    double slot = floor(t / PEAK_SLOT_S), sum = 0;
    int k;

    for (k = -1; k <= 1; k++) {
        uint64_t j = (uint64_t)(int64_t)(slot + k), id = (uint64_t)c + 101;
        double centre, width, height, d;

        if (hash01(p->seed, id, j, 0) >= PEAK_CHANCE)
            continue;
        centre = (slot + k + hash01(p->seed, id, j, 1)) * PEAK_SLOT_S;
        width = 0.5 + 2.5 * hash01(p->seed, id, j, 2);
        height = 1.0 + 3.0 * hash01(p->seed, id, j, 3);
        d = (t - centre) / width;
        sum += height * exp(-0.5 * d * d);
    }
    return sum;
}

double plume_concentration(const plume *p, int c, double x, double y, double z,
                           double t)
{
    const plume_source *s;
    double drift, sx, sy, dh2, dz, near;

    if (c < 0 || c >= PLUME_NCOMPOUNDS)
        return 0;
    s = &p->src[c];
    drift = 1.0 + 0.2 * sin(2 * PLUME_PI * t / s->period[0] + s->phase[0]) +
            0.1 * sin(2 * PLUME_PI * t / s->period[1] + s->phase[1]);
    /* The source wanders on a small circle, as a plume meanders in wind. */
    sx = s->sx +
         MEANDER_CM * sin(2 * PLUME_PI * t / MEANDER_PERIOD_S + s->phase[2]);
    sy = s->sy +
         MEANDER_CM * cos(2 * PLUME_PI * t / MEANDER_PERIOD_S + s->phase[2]);
    dh2 = (x - sx) * (x - sx) + (y - sy) * (y - sy);
    dz = z - s->sz;
    near = exp(-dh2 / (2 * SIGMA_H_CM * SIGMA_H_CM) -
               dz * dz / (2 * SIGMA_V_CM * SIGMA_V_CM));
    return s->base * ((BACKGROUND_SHARE + (1 - BACKGROUND_SHARE) * near) *
                          (drift + puffs(p, c, t)) -
                      s->sparse);
}

const char *plume_compound_name(int c)
{
    if (c < 0 || c >= PLUME_NCOMPOUNDS)
        return NULL;
    return names[c];
}

int plume_compound_index(const char *name)
{
    int c;

    if (!name)
        return -1;
    for (c = 0; c < PLUME_NCOMPOUNDS; c++)
        if (!strcasecmp(name, names[c]))
            return c;
    return -1;
}
