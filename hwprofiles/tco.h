/* Money and energy cost of serving: $/hour, $ per million tokens, tokens per joule.
 *
 * Two ways to price a GPU-hour (docs/capacity-and-cost.md):
 *   rent   (default) the profile's on-demand `price_per_hour` (or the `cost:` section's),
 *          which already includes power and the data centre;
 *   own    `capex` per GPU amortised linearly over `amortisation_years` of 8,760 hours,
 *          plus energy: TDP x utilisation x PUE x $/kWh.
 * Energy always gives tokens per joule: tokens/s / (TDP x utilisation x PUE x GPUs), where
 * utilisation is the measured busy fraction of the run (`utilisation: measured`, the
 * default) or a fixed number. Everything here is arithmetic on its inputs: no simulation,
 * no state, so the formulas are unit-tested on a hand-checked case (tests/unit/test_tco.c). */
#ifndef SS_HWPROFILES_TCO_H
#define SS_HWPROFILES_TCO_H

#include "hwprofiles/hw.h"
#include "sim/core/cfg.h"
#include "sim/core/diag.h"

#define SS_HOURS_PER_YEAR 8760.0

/* The `cost:` section of a study (every key optional). */
typedef struct ss_tco_cfg {
    double price_per_hour;     /* USD per GPU-hour; < 0: the hardware profile's */
    double capex;              /* USD per GPU; > 0 selects the ownership model */
    double amortisation_years; /* years over which capex is spread */
    double pue;                /* power usage effectiveness of the data centre (>= 1) */
    double usd_per_kwh;        /* electricity price */
    double utilisation;        /* fraction of TDP drawn; < 0: measured busy fraction */
} ss_tco_cfg;

/* Defaults: rent at the profile's price; PUE 1.3, $0.10/kWh, 4-year amortisation, measured
 * utilisation. */
void ss_tco_defaults(ss_tco_cfg *c);
/* Read a `cost:` mapping (NULL: defaults) with the key table below; errors are
 * file:line:col: key 'cost.x': message. `path` is the mapping's key path ("cost"). */
ss_rc ss_tco_parse(ss_doc *doc, yaml_node_t *map, yaml_node_t *parent, const char *path,
                   ss_tco_cfg *out, ss_diag *d);
/* Parse "key=value,key=value" (the CLI's --cost), same keys and checks as the section. */
ss_rc ss_tco_parse_spec(const char *spec, ss_tco_cfg *out, ss_diag *d);
/* The section's reference as Markdown table rows. */
void ss_tco_doc_markdown(FILE *out);

/* What was served, per instance, at the operating point being priced. */
typedef struct ss_tco_load {
    int gpus_per_instance;   /* tp x pp x ... */
    int instances;           /* >= 1 */
    double output_tok_s;     /* per instance */
    double total_tok_s;      /* per instance, input + output */
    double busy_fraction;    /* measured, 0..1 (used when utilisation is "measured") */
} ss_tco_load;

typedef struct ss_tco {
    double usd_per_gpu_hour;   /* rent: the price; own: amortised capex + energy */
    double capex_per_gpu_hour; /* own only (0 when renting) */
    double energy_per_gpu_hour;/* USD, own only (0 when renting: in the price) */
    double power_w_per_gpu;    /* TDP x utilisation x PUE */
    double utilisation;        /* the one used */
    double usd_per_hour;       /* whole deployment: GPUs x instances x usd_per_gpu_hour */
    double usd_per_mtok_output;
    double usd_per_mtok_total;
    double output_tok_per_joule;
    double total_tok_per_joule;
    int owned;                 /* 1: capex model */
    char price_source[512];    /* where the price came from */
} ss_tco;

/* Price `load` on `hw` under `cfg`. Fails (SS_ERR_INVALID) when there is no price (rent with
 * price 0) or no throughput. */
ss_rc ss_tco_compute(const ss_hw *hw, const ss_tco_cfg *cfg, const ss_tco_load *load,
                     ss_tco *out, ss_diag *d);

/* Instances needed to carry `target` at `capacity` per instance: ceil(target / capacity),
 * at least 1; 0 when capacity <= 0 (cannot be served). */
int ss_tco_instances(double target, double capacity);

#endif
