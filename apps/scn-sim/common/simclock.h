/* The simulators' one clock, and the seed used when none is given. */
#ifndef SCN_SIM_CLOCK_H
#define SCN_SIM_CLOCK_H

#include <stdint.h>

/* Monotonic microseconds: schedules, stalls, quotas, delays. */
int64_t sim_mono_us(void);

/* A seed that differs from run to run (time and pid); it is logged, so a
 * run can be repeated with --seed. */
uint64_t sim_random_seed(void);

#endif
