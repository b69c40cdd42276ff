/* Cost of serving; formulas in tco.h and docs/capacity-and-cost.md. */
#include "hwprofiles/tco.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the key table writes: utilisation is read as text so that it can be `measured`. */
typedef struct tco_parse {
    ss_tco_cfg c;
    char utilisation[32];
} tco_parse;

#define TF(f) offsetof(tco_parse, c.f)

static const ss_key tco_keys[] = {
    {.name = "price_per_hour", .type = SS_KEY_DOUBLE, .offset = TF(price_per_hour), .def = "",
     .min = 0, .max = 1e4, .flags = SS_KEY_MIN_EXCL, .unit = "USD/GPU-hour",
     .help = "Rent price per GPU-hour; default: the hardware profile's on-demand price."},
    {.name = "capex", .type = SS_KEY_DOUBLE, .offset = TF(capex), .def = "", .min = 0,
     .max = 1e8, .flags = SS_KEY_MIN_EXCL, .unit = "USD/GPU",
     .help = "Purchase price per GPU (server share included); selects the ownership model."},
    {.name = "amortisation_years", .type = SS_KEY_DOUBLE, .offset = TF(amortisation_years),
     .def = "4", .min = 0, .max = 50, .flags = SS_KEY_MIN_EXCL, .unit = "years",
     .help = "Straight-line amortisation period of capex."},
    {.name = "pue", .type = SS_KEY_DOUBLE, .offset = TF(pue), .def = "1.3", .min = 1, .max = 5,
     .help = "Power usage effectiveness of the data centre."},
    {.name = "usd_per_kwh", .type = SS_KEY_DOUBLE, .offset = TF(usd_per_kwh), .def = "0.10",
     .min = 0, .max = 10, .unit = "USD/kWh", .help = "Electricity price."},
    {.name = "utilisation", .type = SS_KEY_STRING, .offset = offsetof(tco_parse, utilisation),
     .size = 32, .def = "measured", .flags = SS_KEY_NO_BOUNDS,
     .help = "`measured` (busy fraction of the run at capacity) or a fraction of TDP in (0, 1]."},
    {.name = NULL},
};

void ss_tco_defaults(ss_tco_cfg *c)
{
    *c = (ss_tco_cfg){.price_per_hour = -1, .capex = 0, .amortisation_years = 4, .pue = 1.3,
                      .usd_per_kwh = 0.10, .utilisation = -1};
}

void ss_tco_doc_markdown(FILE *out)
{
    fprintf(out, "| Key | Type | Default | Unit | Description |\n|---|---|---|---|---|\n");
    ss_cfg_doc_markdown(tco_keys, "cost.", out);
}

/* "measured" or a number in (0, 1]; 0 on success, else writes why. */
static int parse_util(const char *text, double *out, char *why, size_t n)
{
    if (!text[0]) return 0; /* absent: keep */
    if (!strcmp(text, "measured")) {
        *out = -1;
        return 0;
    }
    char *end;
    double v = strtod(text, &end);
    if (*end || end == text || !(v > 0 && v <= 1)) {
        snprintf(why, n, "expected `measured` or a fraction in (0, 1], got '%s'", text);
        return -1;
    }
    *out = v;
    return 0;
}

ss_rc ss_tco_parse(ss_doc *doc, yaml_node_t *map, yaml_node_t *parent, const char *path,
                   ss_tco_cfg *out, ss_diag *d)
{
    tco_parse p;
    memset(&p, 0, sizeof p);
    ss_tco_defaults(&p.c);
    ss_rc rc = ss_cfg_apply(doc, map, parent, path, tco_keys, &p, d);
    if (rc) return rc;
    char why[256];
    yaml_node_t *capex = ss_node_get(doc, map, "capex");
    if (capex && ss_node_get(doc, map, "price_per_hour")) {
        char key[128];
        snprintf(key, sizeof key, "%s.capex", path);
        return ss_cfg_error(d, SS_ERR_INVALID, doc, capex, key,
                            "give either price_per_hour (rent) or capex (own), not both");
    }
    if (parse_util(p.utilisation, &p.c.utilisation, why, sizeof why)) {
        char key[128];
        snprintf(key, sizeof key, "%s.utilisation", path);
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, map, "utilisation"), key,
                            "%s", why);
    }
    *out = p.c;
    return SS_OK;
}

ss_rc ss_tco_parse_spec(const char *spec, ss_tco_cfg *out, ss_diag *d)
{
    tco_parse p;
    memset(&p, 0, sizeof p);
    p.c = *out;
    char buf[1024];
    if (strlen(spec) >= sizeof buf) return ss_diag_fail(d, SS_ERR_INVALID, "--cost: too long");
    strcpy(buf, spec);
    char *save = NULL;
    bool seen[sizeof tco_keys / sizeof tco_keys[0]] = {false};
    bool own = false, rent = false; /* capex / price_per_hour given */
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            return ss_diag_set(d, SS_ERR_INVALID, "--cost", 0, 0, item, "expected KEY=VALUE");
        *eq = '\0';
        const ss_key *k = NULL;
        size_t ki = 0;
        for (size_t i = 0; tco_keys[i].name; i++)
            if (!strcmp(tco_keys[i].name, item)) {
                k = &tco_keys[i];
                ki = i;
            }
        if (k && seen[ki])
            return ss_diag_set(d, SS_ERR_INVALID, "--cost", 0, 0, item, "given twice");
        if (k) seen[ki] = true;
        if (k && !strcmp(item, "capex")) own = true;
        if (k && !strcmp(item, "price_per_hour")) rent = true;
        if (own && rent)
            return ss_diag_set(d, SS_ERR_INVALID, "--cost", 0, 0, item,
                               "give either price_per_hour (rent) or capex (own), not both");
        char why[256] = "";
        if (!k)
            return ss_diag_set(d, SS_ERR_INVALID, "--cost", 0, 0, item,
                               "unknown key (valid: price_per_hour, capex, amortisation_years, "
                               "pue, usd_per_kwh, utilisation)");
        if (k->type == SS_KEY_STRING) {
            if (parse_util(eq + 1, &p.c.utilisation, why, sizeof why))
                return ss_diag_set(d, SS_ERR_INVALID, "--cost", 0, 0, item, "%s", why);
        } else if (ss_cfg_parse_scalar(k, eq + 1, &p, why, sizeof why)) {
            return ss_diag_set(d, SS_ERR_INVALID, "--cost", 0, 0, item, "%s", why);
        }
    }
    *out = p.c;
    return SS_OK;
}

/* The profile's "price_per_hour: ..." source line. */
static void price_source(const ss_hw *hw, char *buf, size_t n)
{
    const char *p = hw->sources;
    snprintf(buf, n, "%s profile (no source given)", hw->name);
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (!strncmp(p, "price_per_hour: ", 16)) {
            snprintf(buf, n, "%s profile: %.*s", hw->name, (int)(len - 16), p + 16);
            return;
        }
        p = eol ? eol + 1 : NULL;
    }
}

int ss_tco_instances(double target, double capacity)
{
    if (!(capacity > 0)) return 0;
    double n = ceil(target / capacity * (1 - 1e-12)); /* 20 / (20/3) is 3, not 3.0000001 */
    return n < 1 ? 1 : (int)n;
}

ss_rc ss_tco_compute(const ss_hw *hw, const ss_tco_cfg *cfg, const ss_tco_load *load,
                     ss_tco *out, ss_diag *d)
{
    memset(out, 0, sizeof *out);
    if (load->gpus_per_instance < 1 || load->instances < 1)
        return ss_diag_fail(d, SS_ERR_INVALID, "cost: no GPUs to price");
    out->utilisation = cfg->utilisation >= 0 ? cfg->utilisation : load->busy_fraction;
    out->power_w_per_gpu = hw->tdp_w * out->utilisation * cfg->pue;
    double gpus = (double)load->gpus_per_instance * load->instances;
    if (cfg->capex > 0) {
        out->owned = 1;
        out->capex_per_gpu_hour = cfg->capex / (cfg->amortisation_years * SS_HOURS_PER_YEAR);
        out->energy_per_gpu_hour = out->power_w_per_gpu / 1000.0 * cfg->usd_per_kwh;
        out->usd_per_gpu_hour = out->capex_per_gpu_hour + out->energy_per_gpu_hour;
        snprintf(out->price_source, sizeof out->price_source,
                 "capex %.0f USD/GPU over %g years + energy %.3f USD/kWh at PUE %g",
                 cfg->capex, cfg->amortisation_years, cfg->usd_per_kwh, cfg->pue);
    } else if (cfg->price_per_hour > 0) {
        out->usd_per_gpu_hour = cfg->price_per_hour;
        snprintf(out->price_source, sizeof out->price_source, "cost.price_per_hour (study)");
    } else {
        out->usd_per_gpu_hour = hw->price_per_hour;
        price_source(hw, out->price_source, sizeof out->price_source);
    }
    if (!(out->usd_per_gpu_hour > 0))
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "cost: %s has no price (price_per_hour 0); give cost.price_per_hour "
                            "or cost.capex",
                            hw->name);
    out->usd_per_hour = out->usd_per_gpu_hour * gpus;
    double out_tok_h = load->output_tok_s * load->instances * 3600.0;
    double tot_tok_h = load->total_tok_s * load->instances * 3600.0;
    if (!(out_tok_h > 0) || !(tot_tok_h > 0))
        return ss_diag_fail(d, SS_ERR_INVALID, "cost: no tokens served, nothing to divide by");
    out->usd_per_mtok_output = out->usd_per_hour / out_tok_h * 1e6;
    out->usd_per_mtok_total = out->usd_per_hour / tot_tok_h * 1e6;
    double watts = out->power_w_per_gpu * gpus;
    if (watts > 0) {
        out->output_tok_per_joule = load->output_tok_s * load->instances / watts;
        out->total_tok_per_joule = load->total_tok_s * load->instances / watts;
    }
    return SS_OK;
}
