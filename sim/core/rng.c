/* Named GSL streams; see rng.h. */
#include "sim/core/rng.h"

#include <stdio.h>

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t ss_rng_derive_seed(uint64_t seed, uint64_t rep, const char *name)
{
    return splitmix64(splitmix64(splitmix64(seed) ^ rep) ^ fnv1a(name));
}

ss_rc ss_rng_init(ss_rng *r, uint64_t seed, uint64_t rep, const char *name, ss_diag *d)
{
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r->g) return ss_diag_fail(d, SS_ERR_NOMEM, "cannot allocate random stream %s", name);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->seed = ss_rng_derive_seed(seed, rep, name);
    unsigned long s = (unsigned long)((r->seed >> 32) ^ (r->seed & 0xffffffffULL));
    gsl_rng_set(r->g, s);
    return SS_OK;
}

void ss_rng_free(ss_rng *r)
{
    if (r->g) gsl_rng_free(r->g);
    r->g = NULL;
}
