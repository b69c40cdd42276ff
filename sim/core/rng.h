/* Named random streams: one GSL generator per random source, seeded from
 * hash(scenario seed, replication, stream name).
 *
 * A stream's identity depends only on its name, never on creation order, so adding a new
 * random source never shifts the draws of existing ones (ROSS tw_rand_init_streams, ns-3
 * SetRun). Sampling goes through GSL's gsl_ran_* functions, whose algorithms are GSL's own
 * and so identical on every platform. The derived seeds are recorded in results.db. */
#ifndef SS_CORE_RNG_H
#define SS_CORE_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "sim/core/diag.h"

typedef struct ss_rng {
    gsl_rng *g;
    char name[64];
    uint64_t seed; /* the derived seed actually given to GSL */
} ss_rng;

/* 64-bit seed for stream `name` of replication `rep` of a scenario seeded `seed`:
 * splitmix64 mixing of seed, rep and the FNV-1a hash of the name. */
uint64_t ss_rng_derive_seed(uint64_t seed, uint64_t rep, const char *name);

/* Create the stream (MT19937; GSL seeds it with 32 bits, so the 64-bit derived seed is
 * folded: high ^ low word). */
ss_rc ss_rng_init(ss_rng *r, uint64_t seed, uint64_t rep, const char *name, ss_diag *d);
void ss_rng_free(ss_rng *r);

#endif
