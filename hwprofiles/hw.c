/* Hardware profiles: the key table that reads a profile, the alias table, and lookups.
 *
 * A profile is checked by one declarative table (hw_keys) through ss_cfg_apply, so an unknown
 * key, a wrong type or an out-of-range value is reported as file:line:col: key 'x': ... like
 * every other servesim file. A few facts the table cannot express (the name must match the
 * file name, the reserve must fit in memory, sources may only name real keys) are checked
 * afterwards against the same document, so they carry a line number too.
 *
 * The alias table (data/aliases.yaml, embedded as the zoo entry "aliases") is parsed on every
 * lookup rather than cached: it is a few hundred bytes, lookups happen once per scenario, and
 * a cache would be mutable global state (STYLE.md rule 2). Both functions that read it keep
 * no state between calls. */
#include "hwprofiles/hw.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/core/time.h"

#define HW_SCHEMA_VERSION 1
#define HW_ALIAS_ENTRY "aliases"
/* Longest source text for one key; ss_hw.sources holds all of them joined. */
#define HW_SRC_LEN 512
/* Upper bound on rows of a key table built at run time (profiles in the zoo, keys). */
#define HW_MAX_ROWS 64

/* ================================================================== profile key table */

/* What the key table writes into: the public struct plus values stored in another form
 * (durations are read as ss_time_ns so "2.5us" works, then converted to seconds) or only
 * checked (schema_version) or parsed separately (sources). */
typedef struct hw_parse {
    ss_hw hw;
    int schema_version;
    ss_time_ns link_latency;
    ss_time_ns kernel_launch;
    ss_time_ns iteration_overhead;
    yaml_node_t *sources;
    yaml_node_t *calibration;
} hw_parse;

#define HWF(f) offsetof(hw_parse, hw.f)
#define PF(f) offsetof(hw_parse, f)
#define HWSZ(f) sizeof(((ss_hw *)0)->f)
/* Bounds: FLOP/s and bytes/s up to 1e18 and 1e15 are far beyond any GPU yet leave room; the
 * point of the bounds is to catch sign and unit mistakes, not to predict hardware. */
#define MAX_FLOPS 1e18
#define MAX_BW 1e15

static const ss_key hw_keys[] = {
    {.name = "schema_version", .type = SS_KEY_INT, .offset = PF(schema_version), .def = NULL,
     .min = 1, .max = 1000, .help = "Profile format version; this servesim reads 1."},
    {.name = "name", .type = SS_KEY_STRING, .offset = HWF(name), .size = HWSZ(name),
     .def = NULL, .flags = SS_KEY_NO_BOUNDS,
     .help = "Canonical name; must equal the file name without .yaml."},
    {.name = "display_name", .type = SS_KEY_STRING, .offset = HWF(display_name),
     .size = HWSZ(display_name), .def = NULL, .flags = SS_KEY_NO_BOUNDS,
     .help = "Human-readable product name."},
    {.name = "vendor", .type = SS_KEY_STRING, .offset = HWF(vendor),
     .size = HWSZ(vendor), .def = NULL, .flags = SS_KEY_NO_BOUNDS,
     .help = "NVIDIA, AMD, ..."},
    {.name = "peak_flops_bf16", .type = SS_KEY_DOUBLE, .offset = HWF(peak_flops_bf16),
     .def = NULL, .min = 1e9, .max = MAX_FLOPS, .unit = "FLOP/s",
     .help = "Dense BF16/FP16 tensor peak (FP32 accumulate), in FLOP/s (989e12, not 989)."},
    {.name = "peak_flops_fp8", .type = SS_KEY_DOUBLE, .offset = HWF(peak_flops_fp8),
     .def = "0", .min = 0, .max = MAX_FLOPS, .unit = "FLOP/s",
     .help = "Dense FP8/INT8 tensor peak; 0 = not supported (runs at the BF16 rate)."},
    {.name = "peak_flops_fp4", .type = SS_KEY_DOUBLE, .offset = HWF(peak_flops_fp4),
     .def = "0", .min = 0, .max = MAX_FLOPS, .unit = "FLOP/s",
     .help = "Dense FP4 tensor peak; 0 = not supported (runs at the FP8 or BF16 rate)."},
    {.name = "peak_flops_fp32", .type = SS_KEY_DOUBLE, .offset = HWF(peak_flops_fp32),
     .def = NULL, .min = 1e9, .max = MAX_FLOPS, .unit = "FLOP/s",
     .help = "FP32 peak of the CUDA/vector cores (non-tensor); element-wise operators."},
    {.name = "hbm_bytes", .type = SS_KEY_BYTES, .offset = HWF(hbm_bytes), .def = NULL,
     .min = 0, .max = 1e15, .flags = SS_KEY_MIN_EXCL, .unit = "bytes",
     .help = "Device memory capacity (80GiB = 85899345920)."},
    {.name = "hbm_bandwidth", .type = SS_KEY_DOUBLE, .offset = HWF(hbm_bandwidth), .def = NULL,
     .min = 1e9, .max = MAX_BW, .unit = "B/s",
     .help = "Peak device memory bandwidth."},
    {.name = "l2_bytes", .type = SS_KEY_BYTES, .offset = HWF(l2_bytes), .def = "0", .min = 0,
     .max = 1e12, .unit = "bytes",
     .help = "On-chip last-level cache (L2); 0 = unknown (calibration then cannot tell a "
             "decode benchmark streaming from memory from one re-reading its cache)."},
    {.name = "link_bandwidth", .type = SS_KEY_DOUBLE, .offset = HWF(link_bandwidth),
     .def = NULL, .min = 0, .max = MAX_BW, .flags = SS_KEY_MIN_EXCL, .unit = "B/s",
     .help = "Scale-up link per GPU, one direction (NVLink, Infinity Fabric, or PCIe)."},
    {.name = "link_latency", .type = SS_KEY_DURATION, .offset = PF(link_latency), .def = "1us",
     .min = 0, .max = 1, .unit = "s",
     .help = "Latency of one ring step of a TP all-reduce (number = seconds)."},
    {.name = "host_link_bandwidth", .type = SS_KEY_DOUBLE, .offset = HWF(host_link_bandwidth),
     .def = NULL, .min = 0, .max = MAX_BW, .flags = SS_KEY_MIN_EXCL, .unit = "B/s",
     .help = "GPU <-> host link, one direction (PCIe)."},
    {.name = "tdp_w", .type = SS_KEY_DOUBLE, .offset = HWF(tdp_w), .def = NULL, .min = 0,
     .max = 1e5, .flags = SS_KEY_MIN_EXCL, .unit = "W", .help = "Board power limit."},
    {.name = "price_per_hour", .type = SS_KEY_DOUBLE, .offset = HWF(price_per_hour),
     .def = NULL, .min = 0, .max = 1e4, .unit = "USD/GPU-hour",
     .help = "On-demand price; 0 = unknown (cost metrics read 0)."},
    {.name = "reserve_bytes", .type = SS_KEY_BYTES, .offset = HWF(reserve_bytes),
     .def = "3.5GiB", .min = 0, .max = 1e15, .unit = "bytes",
     .help = "Memory kept from the KV cache besides weights (activations, graphs, runtime)."},
    {.name = "compute_efficiency", .type = SS_KEY_DOUBLE, .offset = HWF(compute_efficiency),
     .def = "0.75", .min = 0, .max = 1, .flags = SS_KEY_MIN_EXCL,
     .help = "Achievable fraction of peak FLOP/s."},
    {.name = "memory_efficiency", .type = SS_KEY_DOUBLE, .offset = HWF(memory_efficiency),
     .def = "0.85", .min = 0, .max = 1, .flags = SS_KEY_MIN_EXCL,
     .help = "Achievable fraction of memory bandwidth."},
    {.name = "link_efficiency", .type = SS_KEY_DOUBLE, .offset = HWF(link_efficiency),
     .def = "0.6", .min = 0, .max = 1, .flags = SS_KEY_MIN_EXCL,
     .help = "Achievable fraction of link bandwidth in a ring all-reduce."},
    {.name = "kernel_launch", .type = SS_KEY_DURATION, .offset = PF(kernel_launch),
     .def = "2.5us", .min = 0, .max = 1, .unit = "s",
     .help = "Fixed time added per kernel (number = seconds)."},
    {.name = "iteration_overhead", .type = SS_KEY_DURATION, .offset = PF(iteration_overhead),
     .def = "1.17ms", .min = 0, .max = 60, .unit = "s",
     .help = "Fixed CPU time per iteration: schedule, prepare inputs, sample (number = s)."},
    {.name = "sources", .type = SS_KEY_NODE, .offset = PF(sources), .def = "",
     .flags = SS_KEY_NO_BOUNDS, .help = "Mapping key -> where its value comes from."},
    {.name = "calibration", .type = SS_KEY_NODE, .offset = PF(calibration), .def = "",
     .flags = SS_KEY_NO_BOUNDS,
     .help = "Fitted operator models written by `servesim calibrate` (docs/calibration.md)."},
    {.name = NULL},
};

void ss_hw_doc_markdown(FILE *out)
{
    fprintf(out, "| Key | Type | Default | Unit | Description |\n|---|---|---|---|---|\n");
    ss_cfg_doc_markdown(hw_keys, "", out);
}

/* Keys that may carry a source: every key except the bookkeeping ones. */
static int has_source(const char *key)
{
    return strcmp(key, "schema_version") != 0 && strcmp(key, "sources") != 0 &&
           strcmp(key, "calibration") != 0;
}

/* "hwprofiles/data/h100-sxm.yaml" -> "h100-sxm"; 0 when the name is not a .yaml/.yml file
 * (in-memory documents), in which case there is no file name to match. */
static int file_stem(const char *path, char *buf, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || (strcmp(dot, ".yaml") != 0 && strcmp(dot, ".yml") != 0)) return 0;
    size_t len = (size_t)(dot - base);
    if (len >= n) len = n - 1;
    memcpy(buf, base, len);
    buf[len] = '\0';
    return 1;
}

/* Parse `sources` (a mapping of profile keys to strings) into "key: text" lines. The key
 * table for it is built from hw_keys so the two can never disagree. */
static ss_rc parse_sources(ss_doc *doc, yaml_node_t *root, yaml_node_t *map, ss_hw *hw,
                           ss_diag *d)
{
    ss_key keys[HW_MAX_ROWS];
    const char *names[HW_MAX_ROWS];
    size_t n = 0;
    for (size_t i = 0; hw_keys[i].name; i++) {
        if (!has_source(hw_keys[i].name)) continue;
        keys[n] = (ss_key){.name = hw_keys[i].name, .type = SS_KEY_STRING,
                           .offset = n * HW_SRC_LEN, .size = HW_SRC_LEN, .def = "",
                           .flags = SS_KEY_NO_BOUNDS};
        names[n] = hw_keys[i].name;
        n++;
    }
    keys[n] = (ss_key){.name = NULL};

    char(*text)[HW_SRC_LEN] = calloc(n, HW_SRC_LEN);
    if (!text) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory reading sources");
    ss_rc rc = ss_cfg_apply(doc, map, root, "sources", keys, text, d);
    size_t used = 0;
    hw->sources[0] = '\0';
    for (size_t i = 0; rc == SS_OK && i < n; i++) {
        if (!text[i][0]) continue;
        int w = snprintf(hw->sources + used, sizeof hw->sources - used, "%s: %s\n", names[i],
                         text[i]);
        if (w < 0 || (size_t)w >= sizeof hw->sources - used)
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, map, "sources",
                              "sources are too long (at most %zu characters in all); "
                              "shorten them and keep the detail in comments",
                              sizeof hw->sources - 1);
        else
            used += (size_t)w;
    }
    free(text);
    return rc;
}

ss_rc ss_hw_parse(ss_doc *doc, ss_hw *out, ss_diag *d)
{
    yaml_node_t *root = ss_doc_root(doc);
    if (!root)
        return ss_diag_set(d, SS_ERR_INVALID, ss_doc_name(doc), 0, 0, NULL,
                           "empty hardware profile");
    hw_parse p;
    memset(&p, 0, sizeof p);
    ss_rc rc = ss_cfg_apply(doc, root, NULL, "", hw_keys, &p, d);
    if (rc != SS_OK) return rc;

    if (p.schema_version != HW_SCHEMA_VERSION)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, root, "schema_version"),
                            "schema_version",
                            "unsupported schema_version %d (this servesim reads %d)",
                            p.schema_version, HW_SCHEMA_VERSION);
    char stem[sizeof p.hw.name];
    if (!p.hw.name[0])
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, root, "name"), "name",
                            "name must not be empty");
    /* The file name is what users and the alias table refer to, the name field is what
     * results record: if they differed, a run would be reported under the wrong GPU. */
    if (file_stem(ss_doc_name(doc), stem, sizeof stem) && strcmp(stem, p.hw.name) != 0)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, root, "name"), "name",
                            "name '%s' differs from the file name '%s'", p.hw.name, stem);
    if (p.hw.reserve_bytes >= p.hw.hbm_bytes)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, root, "reserve_bytes"),
                            "reserve_bytes",
                            "reserve_bytes (%llu) must be smaller than hbm_bytes (%llu)",
                            (unsigned long long)p.hw.reserve_bytes,
                            (unsigned long long)p.hw.hbm_bytes);
    rc = parse_sources(doc, root, p.sources, &p.hw, d);
    if (rc != SS_OK) return rc;

    if (p.calibration) {
        /* Only what loading needs is read here; the fitted models are parsed (and checked
         * with file:line errors) by ss_calib_load when a calibrated cost model is made. */
        yaml_node_t *st = ss_node_get(doc, p.calibration, "stack");
        yaml_node_t *df = ss_node_get(doc, p.calibration, "default");
        const char *sv = ss_node_scalar(st), *dv = ss_node_scalar(df);
        if (p.calibration->type != YAML_MAPPING_NODE || !sv || !sv[0])
            return ss_cfg_error(d, SS_ERR_INVALID, doc, st ? st : p.calibration,
                                "calibration.stack", "a calibration needs a non-empty stack");
        snprintf(p.hw.calib_doc, sizeof p.hw.calib_doc, "%s", ss_doc_name(doc));
        snprintf(p.hw.calib_stack, sizeof p.hw.calib_stack, "%s", sv);
        p.hw.calib_default = dv && !strcmp(dv, "true");
    }
    p.hw.link_latency_s = ss_time_to_s(p.link_latency);
    p.hw.kernel_launch_s = ss_time_to_s(p.kernel_launch);
    p.hw.iteration_overhead_s = ss_time_to_s(p.iteration_overhead);
    *out = p.hw;
    return SS_OK;
}

/* ================================================================== zoo and aliases */

static int is_profile(const ss_embedded_file *e) { return strcmp(e->name, HW_ALIAS_ENTRY) != 0; }

/* Built-in profile named `name` (case-insensitive), or NULL. */
static const ss_embedded_file *profile_entry(const char *name)
{
    for (const ss_embedded_file *e = ss_hw_zoo; e->name; e++)
        if (is_profile(e) && strcasecmp(e->name, name) == 0) return e;
    return NULL;
}

static void profile_names(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const ss_embedded_file *e = ss_hw_zoo; e->name && used + 1 < n; e++) {
        if (!is_profile(e)) continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", e->name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

typedef struct alias_top {
    int schema_version;
    yaml_node_t *aliases;
} alias_top;

static const ss_key alias_top_keys[] = {
    {.name = "schema_version", .type = SS_KEY_INT, .offset = offsetof(alias_top, schema_version),
     .def = NULL, .min = 1, .max = 1, .help = "alias table format version (1)"},
    {.name = "aliases", .type = SS_KEY_NODE, .offset = offsetof(alias_top, aliases),
     .def = NULL, .flags = SS_KEY_NO_BOUNDS, .help = "canonical name -> list of aliases"},
    {.name = NULL},
};

/* Find `name` among the aliases. *canon is set to the zoo's own (static) name of the
 * profile, or NULL when no alias matches. The whole table is checked on every call (each
 * canonical name must be a built-in profile, each alias a string) so that a broken table
 * fails loudly instead of resolving some names and not others. */
static ss_rc alias_lookup(const char *name, const char **canon, ss_diag *d)
{
    *canon = NULL;
    const ss_embedded_file *tab = ss_embed_find(ss_hw_zoo, HW_ALIAS_ENTRY);
    if (!tab)
        return ss_diag_fail(d, SS_ERR_INTERNAL, "the built-in alias table is missing");

    /* One SS_KEY_NODE row per built-in profile: ss_cfg_apply then rejects a canonical name
     * that has no profile (with the list of valid ones) and duplicate entries. */
    ss_key keys[HW_MAX_ROWS];
    const ss_embedded_file *prof[HW_MAX_ROWS];
    yaml_node_t *lists[HW_MAX_ROWS];
    size_t n = 0;
    for (const ss_embedded_file *e = ss_hw_zoo; e->name; e++) {
        if (!is_profile(e)) continue;
        if (n + 1 >= HW_MAX_ROWS)
            return ss_diag_fail(d, SS_ERR_INTERNAL, "too many built-in hardware profiles");
        keys[n] = (ss_key){.name = e->name, .type = SS_KEY_NODE,
                           .offset = n * sizeof(yaml_node_t *), .def = "",
                           .flags = SS_KEY_NO_BOUNDS};
        prof[n] = e;
        n++;
    }
    keys[n] = (ss_key){.name = NULL};

    ss_doc *doc;
    ss_rc rc = ss_doc_load_string(tab->path, tab->text, strlen(tab->text), &doc, d);
    if (rc != SS_OK) return rc;
    alias_top top = {0};
    rc = ss_cfg_apply(doc, ss_doc_root(doc), NULL, "", alias_top_keys, &top, d);
    if (rc == SS_OK) rc = ss_cfg_apply(doc, top.aliases, NULL, "aliases", keys, lists, d);
    for (size_t i = 0; rc == SS_OK && i < n; i++) {
        if (!lists[i]) continue;
        char kp[128];
        snprintf(kp, sizeof kp, "aliases.%s", prof[i]->name);
        if (lists[i]->type != YAML_SEQUENCE_NODE) {
            rc = ss_cfg_error(d, SS_ERR_INVALID, doc, lists[i], kp, "expected a list, got %s",
                              ss_node_kind(lists[i]));
            break;
        }
        for (size_t j = 0; j < ss_node_seq_len(lists[i]); j++) {
            yaml_node_t *item = ss_node_seq_at(doc, lists[i], j);
            const char *alias = ss_node_scalar(item);
            if (!alias || !alias[0]) {
                rc = ss_cfg_error(d, SS_ERR_INVALID, doc, item, kp,
                                  "aliases must be non-empty strings, got %s",
                                  ss_node_kind(item));
                break;
            }
            if (strcasecmp(alias, name) == 0 && !*canon) *canon = prof[i]->name;
        }
    }
    ss_doc_free(doc);
    if (rc != SS_OK) *canon = NULL;
    return rc;
}

const char *ss_hw_canonical(const char *name)
{
    if (!name || !name[0]) return NULL;
    const ss_embedded_file *e = profile_entry(name);
    if (e) return e->name;
    const char *canon;
    ss_diag d;
    ss_diag_clear(&d);
    return alias_lookup(name, &canon, &d) == SS_OK ? canon : NULL;
}

/* ================================================================== loading */

static int is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && strcmp(s + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(s + n - 4, ".yml") == 0);
}

ss_rc ss_hw_load(const char *name_or_path, const char *base_dir, ss_hw *out, ss_diag *d)
{
    if (!name_or_path || !name_or_path[0])
        return ss_diag_fail(d, SS_ERR_INVALID,
                            "no GPU given (a built-in name such as h100-sxm, or a .yaml path)");
    ss_doc *doc = NULL;
    ss_rc rc;
    if (is_path(name_or_path)) {
        char path[4096];
        int w = (name_or_path[0] == '/' || !base_dir || !base_dir[0] || !strcmp(base_dir, "."))
                    ? snprintf(path, sizeof path, "%s", name_or_path)
                    : snprintf(path, sizeof path, "%s/%s", base_dir, name_or_path);
        if (w < 0 || (size_t)w >= sizeof path)
            return ss_diag_fail(d, SS_ERR_INVALID, "hardware profile path is too long: %s",
                                name_or_path);
        rc = ss_doc_load_file(path, &doc, d);
    } else if (strchr(name_or_path, '@')) {
        const ss_embedded_file *e = ss_hw_calibrated_by_name(name_or_path);
        if (!e) {
            char list[2048];
            size_t used = 0;
            list[0] = '\0';
            for (const ss_embedded_file *c = ss_hw_calibrated_zoo; c->name && used + 1 < sizeof list; c++) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", c->name);
                if (w < 0) break;
                used += (size_t)w;
            }
            return ss_diag_fail(d, SS_ERR_NOTFOUND,
                                "unknown calibrated profile '%s' (built-in: %s)", name_or_path,
                                list[0] ? list : "none");
        }
        rc = ss_doc_load_string(e->path, e->text, strlen(e->text), &doc, d);
    } else {
        const ss_embedded_file *e = profile_entry(name_or_path);
        if (!e) {
            const char *canon;
            rc = alias_lookup(name_or_path, &canon, d);
            if (rc != SS_OK) return rc;
            if (canon) e = profile_entry(canon);
        }
        if (!e) {
            char list[1024];
            profile_names(list, sizeof list);
            return ss_diag_fail(d, SS_ERR_NOTFOUND,
                                "unknown GPU '%s' (built-in: %s; aliases are listed in "
                                "hwprofiles/data/aliases.yaml; or give a .yaml profile path)",
                                name_or_path, list);
        }
        rc = ss_doc_load_string(e->path, e->text, strlen(e->text), &doc, d);
    }
    if (rc != SS_OK) return rc;
    /* Parse into a temporary so that a failed load leaves *out untouched. */
    ss_hw hw;
    rc = ss_hw_parse(doc, &hw, d);
    ss_doc_free(doc);
    if (rc == SS_OK) *out = hw;
    return rc;
}

void ss_hw_list(FILE *out)
{
    fprintf(out, "  %-14s %-50s %9s %13s %9s %9s\n", "name", "product", "memory", "BF16 dense",
            "bandwidth", "price");
    for (const ss_embedded_file *e = ss_hw_zoo; e->name; e++) {
        if (!is_profile(e)) continue;
        ss_hw hw;
        ss_diag d;
        ss_diag_clear(&d);
        if (ss_hw_load(e->name, NULL, &hw, &d) != SS_OK) {
            char msg[1400];
            ss_diag_format(&d, msg, sizeof msg);
            fprintf(out, "  %-14s (invalid: %s)\n", e->name, msg);
            continue;
        }
        fprintf(out, "  %-14s %-50s %5.0f GiB %6.0f TFLOPS %4.2f TB/s %5.2f $/h\n", hw.name,
                hw.display_name, (double)hw.hbm_bytes / 1073741824.0, hw.peak_flops_bf16 / 1e12,
                hw.hbm_bandwidth / 1e12, hw.price_per_hour);
    }
    fprintf(out, "  calibrated profiles (GPU@STACK; cost_model: calibrated, docs/calibration.md):\n");
    for (const ss_embedded_file *e = ss_hw_calibrated_zoo; e->name; e++) {
        ss_hw hw;
        ss_diag d;
        ss_diag_clear(&d);
        if (ss_hw_load(e->name, NULL, &hw, &d) != SS_OK) {
            fprintf(out, "  %-36s (invalid: %s)\n", e->name, d.msg);
            continue;
        }
        if (hw.calib_default) fprintf(out, "  %-36s default for its GPU\n", hw.name);
        else fprintf(out, "  %s\n", hw.name);
    }
}

double ss_hw_peak_flops(const ss_hw *hw, ss_dtype t)
{
    /* Narrowest to widest. A GPU without native support for a narrow type runs it through
     * the next wider unit it has (vLLM runs FP8 checkpoints on Ampere as W8A16 with FP8
     * Marlin kernels: the weights stay 8-bit in memory, the math is BF16). */
    const double ladder[4] = {hw->peak_flops_fp4, hw->peak_flops_fp8, hw->peak_flops_bf16,
                              hw->peak_flops_fp32};
    int start;
    switch (t) {
    case SS_DTYPE_FP4: start = 0; break;
    case SS_DTYPE_FP8:
    case SS_DTYPE_INT8: start = 1; break;
    case SS_DTYPE_BF16:
    case SS_DTYPE_FP16: start = 2; break;
    case SS_DTYPE_FP32:
    default: start = 3; break;
    }
    for (int i = start; i < 4; i++)
        if (ladder[i] > 0) return ladder[i];
    return 0;
}

const ss_embedded_file *ss_hw_embedded_by_path(const char *path)
{
    for (const ss_embedded_file *e = ss_hw_calibrated_zoo; e->name; e++)
        if (!strcmp(e->path, path)) return e;
    for (const ss_embedded_file *e = ss_hw_zoo; e->name; e++)
        if (!strcmp(e->path, path)) return e;
    return NULL;
}

const ss_embedded_file *ss_hw_calibrated_by_name(const char *name)
{
    for (const ss_embedded_file *e = ss_hw_calibrated_zoo; e->name; e++)
        if (!strcasecmp(e->name, name)) return e;
    return NULL;
}

/* `calibration.default` of a profile's text, read from the YAML event stream up to that key
 * only: `servesim calibrate` writes it before the fitted models, so finding a GPU's default
 * reads the datasheet part and the calibration header, not megabytes of measured grids. A
 * text that cannot be read says "not the default" (loading it reports the error). */
static int text_calib_default(const char *text, size_t len)
{
    enum { MAXD = 8 };
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return 0;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int depth = 0, result = 0, done = 0, in_cal = 0, want_cal = 0, want_def = 0;
    int is_map[MAXD + 1] = {0}, key_next[MAXD + 1] = {0};
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) break;
        int node = ev.type == YAML_SCALAR_EVENT || ev.type == YAML_MAPPING_START_EVENT ||
                   ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_ALIAS_EVENT;
        int is_key = 0;
        if (node && depth >= 1 && depth <= MAXD && is_map[depth]) {
            is_key = key_next[depth];
            key_next[depth] = !key_next[depth];
        }
        const char *v = ev.type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : NULL;
        if (is_key) {
            if (depth == 1) want_cal = v && !strcmp(v, "calibration");
            if (depth == 2 && in_cal) want_def = v && !strcmp(v, "default");
        } else if (node && depth == 1 && want_cal) {
            in_cal = ev.type == YAML_MAPPING_START_EVENT;
            if (!in_cal) done = 1;
        } else if (node && depth == 2 && in_cal && want_def) {
            result = v && !strcmp(v, "true");
            done = 1;
        }
        if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
            depth++;
            if (depth <= MAXD) {
                is_map[depth] = ev.type == YAML_MAPPING_START_EVENT;
                key_next[depth] = 1;
            }
        } else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            if (depth == 2 && in_cal) done = 1; /* calibration without `default` */
            depth--;
        } else if (ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT) {
            done = 1;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return result;
}

const char *ss_hw_default_calibrated(const char *gpu)
{
    /* The first calibrated profile of the GPU that says `default: true`; the table is sorted
     * by file name, so the answer is fixed by the files alone. */
    size_t n = strlen(gpu);
    for (const ss_embedded_file *e = ss_hw_calibrated_zoo; e->name; e++) {
        if (strncasecmp(e->name, gpu, n) != 0 || e->name[n] != '@') continue;
        if (text_calib_default(e->text, strlen(e->text))) return e->name;
    }
    return NULL;
}
