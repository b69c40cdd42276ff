/* Scenario loading and whole-scenario checks; see scenario.h.
 *
 * Order of work: apply each section's key table (catches unknown keys, types, ranges,
 * missing keys), then resolve names (model, hardware, scheduler, cost model, arrival process)
 * and run the cross-key checks (tp against heads, model against memory, scheduler budgets),
 * each error located at the key that causes it. Nothing is simulated until all of it passes.
 * The `workload:` section (sources, classes, MLPerf, explicit requests, length tables) is
 * scenario_workload.c. */
#include "workloads/scenario.h"
#include "workloads/scenario_int.h"

#include <stdlib.h>
#include <string.h>


/* ================================================================== key tables */

typedef struct root_cfg {
    int schema_version;
    char name[64];
    char description[256];
    int64_t seed;
    char model[128];
    yaml_node_t *cluster, *replica, *workload, *output;
} root_cfg;

#define R(f) offsetof(root_cfg, f)
static const ss_key root_keys[] = {
    {"schema_version", SS_KEY_INT, R(schema_version), 0, "1", 1, 1, 0, NULL,
     "Scenario format version; this servesim reads version 1.", NULL},
    {"name", SS_KEY_STRING, R(name), 64, "scenario", 0, 0, 0, NULL, "Short name of the run.", NULL},
    {"description", SS_KEY_STRING, R(description), 256, "", 0, 0, 0, NULL, "One line about it.", NULL},
    {"seed", SS_KEY_INT64, R(seed), 0, "1", 0, 9007199254740991.0, 0, NULL,
     "Scenario seed; each random stream's seed derives from it and the stream's name. "
     "`--seed` overrides it.", NULL},
    {"model", SS_KEY_STRING, R(model), 128, NULL, 0, 0, 0, NULL,
     "Built-in model name (`servesim list models`) or path to a model YAML file.", NULL},
    {"cluster", SS_KEY_NODE, R(cluster), 0, NULL, 0, 0, 0, NULL, "Instance pools (below).", NULL},
    {"replica", SS_KEY_NODE, R(replica), 0, "", 0, 0, 0, NULL,
     "Scheduler and engine limits of every instance (below).", NULL},
    {"workload", SS_KEY_NODE, R(workload), 0, NULL, 0, 0, 0, NULL, "Traffic (below).", NULL},
    {"output", SS_KEY_NODE, R(output), 0, "", 0, 0, 0, NULL, "What to record (below).", NULL},
    END_ROW};
#undef R

typedef struct cluster_cfg {
    yaml_node_t *pools;
} cluster_cfg;
static const ss_key cluster_keys[] = {
    {"pools", SS_KEY_NODE, offsetof(cluster_cfg, pools), 0, NULL, 0, 0, 0, NULL,
     "List of instance pools (today: exactly one).", NULL},
    END_ROW};

static const char *const role_choices[] = {"mixed", "prefill", "decode", NULL};

typedef struct pool_cfg {
    ss_pool p;
    yaml_node_t *parallelism;
} pool_cfg;
#define P(f) offsetof(pool_cfg, f)
static const ss_key pool_keys[] = {
    {"name", SS_KEY_STRING, P(p.name), 32, "main", 0, 0, 0, NULL, "Pool name.", NULL},
    {"hardware", SS_KEY_STRING, P(p.hardware), 128, NULL, 0, 0, 0, NULL,
     "GPU profile name or alias (`servesim list hardware`) or path to a profile YAML.", NULL},
    {"count", SS_KEY_INT, P(p.count), 0, "1", 1, 100000, 0, "instances",
     "Model instances in the pool (today: 1).", NULL},
    {"role", SS_KEY_ENUM, P(p.role), 0, "mixed", 0, 0, 0, NULL,
     "What the pool serves (today: mixed = prefill and decode).", role_choices},
    {"parallelism", SS_KEY_NODE, P(parallelism), 0, "", 0, 0, 0, NULL,
     "{tp, pp, ep, dp} of each instance (below).", NULL},
    END_ROW};
#undef P

#define Q(f) offsetof(ss_parallel, f)
static const ss_key par_keys[] = {
    {"tp", SS_KEY_INT, Q(tp), 0, "1", 1, 1024, 0, "GPUs", "Tensor-parallel degree.", NULL},
    {"pp", SS_KEY_INT, Q(pp), 0, "1", 1, 1024, 0, "stages", "Pipeline stages (today: 1).", NULL},
    {"ep", SS_KEY_INT, Q(ep), 0, "1", 1, 1024, 0, "GPUs", "Expert-parallel degree (today: 1).", NULL},
    {"dp", SS_KEY_INT, Q(dp), 0, "1", 1, 1024, 0, "ranks", "Attention data-parallel degree (today: 1).", NULL},
    END_ROW};
#undef Q

#define O(f) offsetof(ss_output_cfg, f)
static const ss_key output_keys[] = {
    {"request_records", SS_KEY_BOOL, O(request_records), 0, "true", 0, 0, 0, NULL,
     "Write one row per request to results.db.", NULL},
    {"iteration_records", SS_KEY_BOOL, O(iteration_records), 0, "true", 0, 0, 0, NULL,
     "Write per-iteration rows (time, duration, tokens, batch, KV) to results.db.", NULL},
    {"iteration_sample", SS_KEY_INT64, O(iteration_sample), 0, "1", 1, 1e12, 0, "iterations",
     "Keep one iteration record in N (for huge runs).", NULL},
    {"kv_sample_interval", SS_KEY_DURATION, O(kv_sample_interval), 0, "1s", 0, 1e9, 0, "s",
     "Period of the KV-utilisation / queue timeline; 0 = off, else at least 1ms. Rows are "
     "skipped while nothing can change (the previous row holds).", NULL},
    END_ROW};
#undef O

/* ================================================================== loading */

static ss_rc load_pools(ss_scenario *sc, yaml_node_t *cluster, yaml_node_t *root, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    cluster_cfg cc;
    memset(&cc, 0, sizeof cc);
    ss_rc rc = ss_cfg_apply(doc, cluster, root, "cluster", cluster_keys, &cc, d);
    if (rc) return rc;
    if (cc.pools->type != YAML_SEQUENCE_NODE)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, cc.pools, "cluster.pools",
                            "expected a list of pools, got %s", ss_node_kind(cc.pools));
    size_t n = ss_node_seq_len(cc.pools);
    if (n == 0)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, cc.pools, "cluster.pools",
                            "at least one pool is needed");
    if (n > 1)
        return ss_cfg_error(d, SS_ERR_UNSUPPORTED, doc, ss_node_seq_at(doc, cc.pools, 1),
                            "cluster.pools",
                            "not yet supported: more than one pool (this version simulates "
                            "one instance)");
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "cluster.pools[%zu]", i);
        yaml_node_t *pn = ss_node_seq_at(doc, cc.pools, i);
        pool_cfg pc;
        memset(&pc, 0, sizeof pc);
        if ((rc = ss_cfg_apply(doc, pn, cc.pools, path, pool_keys, &pc, d))) return rc;
        char ppath[96];
        snprintf(ppath, sizeof ppath, "%s.parallelism", path);
        if ((rc = ss_cfg_apply(doc, pc.parallelism, pn, ppath, par_keys, &pc.p.par, d)))
            return rc;
        char kp[128];
        if (pc.p.count != 1) {
            snprintf(kp, sizeof kp, "%s.count", path);
            return ss_cfg_error(d, SS_ERR_UNSUPPORTED, doc, ss_node_get(doc, pn, "count"), kp,
                                "not yet supported: count %d (this version simulates one "
                                "instance)", pc.p.count);
        }
        if (pc.p.role != SS_ROLE_MIXED) {
            snprintf(kp, sizeof kp, "%s.role", path);
            return ss_cfg_error(d, SS_ERR_UNSUPPORTED, doc, ss_node_get(doc, pn, "role"), kp,
                                "not yet supported: prefill/decode pools (disaggregation)");
        }
        static const char *const names[] = {"pp", "ep", "dp"};
        const int vals[] = {pc.p.par.pp, pc.p.par.ep, pc.p.par.dp};
        for (int k = 0; k < 3; k++)
            if (vals[k] != 1) {
                snprintf(kp, sizeof kp, "%s.%s", ppath, names[k]);
                return ss_cfg_error(d, SS_ERR_UNSUPPORTED, doc,
                                    ss_node_get(doc, pc.parallelism, names[k]), kp,
                                    "not yet supported: %s = %d (only tp parallelism is "
                                    "simulated today)", names[k], vals[k]);
            }
        snprintf(kp, sizeof kp, "%s.hardware", path);
        yaml_node_t *hn = ss_node_get(doc, pn, "hardware");
        ss_diag sub;
        ss_diag_clear(&sub);
        if ((rc = ss_hw_load(pc.p.hardware, ss_doc_dir(doc), &pc.p.hw, &sub))) {
            if (sub.file[0] && strcmp(sub.file, ss_doc_name(doc)) != 0) {
                *d = sub; /* the error is inside the hardware file: keep its location */
                return rc;
            }
            return ss_cfg_error(d, rc, doc, hn, kp, "%s", sub.msg);
        }
        snprintf(kp, sizeof kp, "%s.tp", ppath);
        char why[512];
        if (ss_model_check_tp(&sc->model, pc.p.par.tp, why, sizeof why))
            return ss_cfg_error(d, SS_ERR_INVALID, doc,
                                pc.parallelism ? ss_node_get(doc, pc.parallelism, "tp") : pn,
                                kp, "%s", why);
        sc->pools[i] = pc.p;
    }
    sc->npools = (int)n;
    return SS_OK;
}

static ss_rc load_replica(ss_scenario *sc, yaml_node_t *node, yaml_node_t *root,
                          ss_calib_cache *cache, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    ss_sched_config *c = &sc->sched;
    ss_rc rc = ss_cfg_apply(doc, node, root, "replica", ss_sched_config_keys, c, d);
    if (rc) return rc;
    char names[512];
    sc->sched_ops = ss_sched_find(c->scheduler);
    if (!sc->sched_ops) {
        ss_plugin_names((const void *const *)ss_sched_builtin, names, sizeof names);
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "scheduler"),
                            "replica.scheduler", "unknown scheduler '%s' (valid: %s)",
                            c->scheduler, names);
    }
    /* `auto` (the default, issue 5): the calibrated cost model wherever the GPU has a
     * calibrated profile (its own `calibration:` section or its GPU's default one), the
     * datasheet roofline otherwise. Resolved here so every output names the model used. */
    if (!strcmp(c->cost_model, "auto")) {
        const ss_hw *hw = &sc->pools[0].hw;
        int cal = ss_cost_calibration_doc(hw) != NULL;
        snprintf(c->cost_model, sizeof c->cost_model, "%s", cal ? "calibrated" : "roofline");
    }
    sc->cost_ops = ss_cost_find(c->cost_model);
    if (!sc->cost_ops) {
        ss_plugin_names((const void *const *)ss_cost_builtin, names, sizeof names);
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "cost_model"),
                            "replica.cost_model", "unknown cost model '%s' (valid: auto, %s)",
                            c->cost_model, names);
    }
    if (sc->cost_ops == &ss_cost_calibrated) {
        if (cache) {
            if ((rc = ss_calib_cache_get(cache, &sc->pools[0].hw, &sc->calib, d))) return rc;
        } else {
            if ((rc = ss_cost_calibration_load(&sc->pools[0].hw, &sc->calib_owned, d)))
                return rc;
            sc->calib = sc->calib_owned;
        }
    }
    sc->weight_dtype = c->weight_dtype ? (ss_dtype)(c->weight_dtype - 1) : sc->model.dtype;
    sc->kv_dtype = c->kv_dtype ? (ss_dtype)(c->kv_dtype - 1) : sc->weight_dtype;
    if (c->max_model_len == 0) c->max_model_len = sc->model.max_position;
    else if (c->max_model_len > sc->model.max_position)
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, node, "max_model_len"),
                            "replica.max_model_len",
                            "%lld exceeds the model's max_position_embeddings (%lld)",
                            (long long)c->max_model_len, (long long)sc->model.max_position);
    const char *key = "scheduler";
    char why[512];
    ss_sched_target target = {.hw = &sc->pools[0].hw};
    if ((rc = sc->sched_ops->configure(c, &target, &key, why, sizeof why))) {
        char kp[96];
        snprintf(kp, sizeof kp, "replica.%s", key);
        yaml_node_t *kn = ss_node_get(doc, node, key);
        return ss_cfg_error(d, rc, doc, kn ? kn : (node ? node : root), kp, "%s", why);
    }
    /* KV capacity of the (single) pool's instances: the model must fit. */
    const ss_pool *p = &sc->pools[0];
    if (ss_kv_capacity_compute(&sc->model, &p->hw, p->par.tp, (uint32_t)c->block_size,
                               c->gpu_memory_utilization, sc->weight_dtype, sc->kv_dtype,
                               &sc->kv, why, sizeof why)) {
        yaml_node_t *pools = ss_node_get(doc, ss_node_get(doc, root, "cluster"), "pools");
        yaml_node_t *pn = ss_node_seq_at(doc, pools, 0);
        return ss_cfg_error(d, SS_ERR_INVALID, doc, ss_node_get(doc, pn, "hardware"),
                            "cluster.pools[0].hardware", "%s", why);
    }
    if (c->num_gpu_blocks) sc->kv.blocks = c->num_gpu_blocks;
    return SS_OK;
}

static ss_rc load_output(ss_scenario *sc, yaml_node_t *node, yaml_node_t *root, ss_diag *d)
{
    ss_rc rc = ss_cfg_apply(sc->doc, node, root, "output", output_keys, &sc->output, d);
    if (rc) return rc;
    ss_time_ns dt = sc->output.kv_sample_interval;
    if (dt > 0 && dt < 1000000)
        return ss_cfg_error(d, SS_ERR_INVALID, sc->doc, ss_node_get(sc->doc, node,
                                                                   "kv_sample_interval"),
                            "output.kv_sample_interval",
                            "%lld ns is too fine: use 0 (off) or at least 1ms", (long long)dt);
    return SS_OK;
}

static ss_rc load(ss_scenario *sc, ss_calib_cache *cache, ss_diag *d)
{
    ss_doc *doc = sc->doc;
    yaml_node_t *root = ss_doc_root(doc);
    if (!root)
        return ss_diag_set(d, SS_ERR_INVALID, ss_doc_name(doc), 1, 1, NULL,
                           "empty scenario file");
    root_cfg rc_;
    memset(&rc_, 0, sizeof rc_);
    ss_rc rc = ss_cfg_apply(doc, root, NULL, "", root_keys, &rc_, d);
    if (rc) return rc;
    sc->schema_version = rc_.schema_version;
    snprintf(sc->name, sizeof sc->name, "%s", rc_.name);
    snprintf(sc->description, sizeof sc->description, "%s", rc_.description);
    sc->seed = (uint64_t)rc_.seed;
    snprintf(sc->model_name, sizeof sc->model_name, "%s", rc_.model);

    ss_diag sub;
    ss_diag_clear(&sub);
    if ((rc = ss_model_load(rc_.model, ss_doc_dir(doc), &sc->model, &sub))) {
        if (sub.file[0] && strcmp(sub.file, ss_doc_name(doc)) != 0) {
            *d = sub; /* error inside the model file itself */
            return rc;
        }
        return ss_cfg_error(d, rc, doc, ss_node_get(doc, root, "model"), "model", "%s", sub.msg);
    }
    ss_diag_clear(&sub);
    if ((rc = ss_model_check_supported(&sc->model, &sub)))
        return ss_cfg_error(d, rc, doc, ss_node_get(doc, root, "model"), "model", "%s", sub.msg);
    if ((rc = load_pools(sc, rc_.cluster, root, d))) return rc;
    if ((rc = load_replica(sc, rc_.replica, root, cache, d))) return rc;
    if ((rc = ss_scen_load_workload(sc, rc_.workload, root, d))) return rc;
    if ((rc = load_output(sc, rc_.output, root, d))) return rc;
    return SS_OK;
}

static ss_rc apply_overrides(ss_scenario *sc, const ss_overrides *ov, ss_diag *d)
{
    size_t used = 0;
    for (size_t i = 0; ov && i < ov->n; i++) {
        const char *eq = strchr(ov->items[i], '=');
        if (!eq || eq == ov->items[i])
            return ss_diag_fail(d, SS_ERR_INVALID, "override '%s': expected KEY=VALUE",
                                ov->items[i]);
        char key[256];
        if ((size_t)(eq - ov->items[i]) >= sizeof key)
            return ss_diag_fail(d, SS_ERR_INVALID, "override key too long: %s", ov->items[i]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - ov->items[i]), ov->items[i]);
        ss_rc rc = ss_doc_set(sc->doc, key, eq + 1, d);
        if (rc) return rc;
        int w = snprintf(sc->overrides + used, sizeof sc->overrides - used, "%s\n",
                         ov->items[i]);
        if (w < 0 || used + (size_t)w >= sizeof sc->overrides)
            return ss_diag_fail(d, SS_ERR_INVALID, "overrides too long to record (at most %zu "
                                                   "characters in all)", sizeof sc->overrides - 1);
        used += (size_t)w;
    }
    return SS_OK;
}

static ss_rc finish_load(ss_doc *doc, ss_rc rc, const ss_overrides *ov, ss_calib_cache *cache,
                         ss_scenario **out, ss_diag *d)
{
    *out = NULL;
    if (rc) return rc;
    ss_scenario *sc = calloc(1, sizeof *sc);
    if (!sc) {
        ss_doc_free(doc);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    sc->doc = doc;
    if ((rc = apply_overrides(sc, ov, d))) {
        ss_scenario_free(sc);
        return rc;
    }
    if ((rc = load(sc, cache, d))) {
        ss_scenario_free(sc);
        return rc;
    }
    *out = sc;
    return SS_OK;
}

ss_rc ss_scenario_load_file(const char *path, const ss_overrides *ov, ss_scenario **out,
                            ss_diag *d)
{
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_file(path, &doc, d);
    return finish_load(doc, rc, ov, NULL, out, d);
}

ss_rc ss_scenario_load_string(const char *name, const char *text, const ss_overrides *ov,
                              ss_scenario **out, ss_diag *d)
{
    return ss_scenario_load_string_cached(name, text, ov, NULL, out, d);
}

ss_rc ss_scenario_load_string_cached(const char *name, const char *text, const ss_overrides *ov,
                                     ss_calib_cache *cache, ss_scenario **out, ss_diag *d)
{
    ss_doc *doc = NULL;
    ss_rc rc = ss_doc_load_string(name, text, strlen(text), &doc, d);
    return finish_load(doc, rc, ov, cache, out, d);
}

const char *ss_scenario_default_text(void)
{
    return ss_embed_find(ss_scenario_zoo, "default")->text;
}

void ss_scenario_cost_setup(const ss_scenario *sc, ss_cost_setup *out)
{
    *out = (ss_cost_setup){.model = &sc->model,
                           .hw = &sc->pools[0].hw,
                           .par = sc->pools[0].par,
                           .weight_dtype = sc->weight_dtype,
                           .act_dtype = SS_DTYPE_BF16,
                           .kv_dtype = sc->kv_dtype,
                           .calib = sc->calib};
}

void ss_scenario_free(ss_scenario *sc)
{
    if (!sc) return;
    free(sc->workload.arrival_cfg);
    free(sc->workload.requests);
    free(sc->workload.length_table.prompt);
    free(sc->workload.length_table.output);
    for (size_t i = 0; i < sc->workload.nclasses; i++) {
        ss_wclass *c = &sc->workload.classes[i];
        free(c->arrival_cfg);
        free(c->length_table.prompt);
        free(c->length_table.output);
    }
    free(sc->workload.classes);
    ss_cost_calibration_free(sc->calib_owned);
    ss_doc_free(sc->doc);
    free(sc);
}

/* ================================================================== docs */

void ss_scen_doc_section(FILE *out, const char *title, const char *text)
{
    fprintf(out, "\n## %s\n\n%s%s| key | type | default | unit | description |\n"
                 "|---|---|---|---|---|\n", title, text, text[0] ? "\n\n" : "");
}

void ss_scenario_doc_markdown(FILE *out)
{
    fprintf(out, "# Scenario reference\n\n"
                 "Generated by `servesim doc scenario` from the key tables in the source "
                 "(workloads/scenario.c, workloads/scenario_workload.c, policies/sched.c, "
                 "workloads/arrival.c, workloads/lengths.c, workloads/mlperf.c); do not edit "
                 "by hand.\n\n"
                 "Unknown keys, wrong types, out-of-range values and missing required keys "
                 "are errors that name the file, line and key. Sizes accept units (`80GiB`, "
                 "`512MB`); durations accept `ns`, `us`, `ms`, `s`, `min`, `h` (a bare number "
                 "is seconds).\n");
    ss_scen_doc_section(out, "Top level", "");
    ss_cfg_doc_markdown(root_keys, "", out);
    ss_scen_doc_section(out, "cluster", "");
    ss_cfg_doc_markdown(cluster_keys, "cluster.", out);
    ss_scen_doc_section(out, "cluster.pools[]", "Each item of `cluster.pools`.");
    ss_cfg_doc_markdown(pool_keys, "", out);
    ss_scen_doc_section(out, "cluster.pools[].parallelism", "");
    ss_cfg_doc_markdown(par_keys, "parallelism.", out);
    ss_scen_doc_section(out, "replica", "Scheduler and engine limits, applied to every instance.");
    ss_cfg_doc_markdown(ss_sched_config_keys, "replica.", out);
    ss_scen_workload_doc_markdown(out);
    ss_scen_doc_section(out, "output", "");
    ss_cfg_doc_markdown(output_keys, "output.", out);
}
