/* Studies: a base scenario plus the points to run it at (docs/sweeps.md).
 *
 * A study file names a base scenario and the scenario keys to vary, either as a Cartesian
 * product of axes or as an explicit list of points:
 *
 *   study:
 *     name: rate-sweep
 *     scenario: default          # built-in scenario name, or a path relative to this file
 *     replications: 3            # R >= 1
 *     seed: 42                   # optional; default = the scenario's seed
 *     mode: product              # product (axes in file order, last varies fastest) | list
 *     axes:                      # product: key -> list, or {from, to, step} / {from, to, mul}
 *       workload.arrival.rate: [2, 4, 8, 16]
 *       replica.max_num_seqs: {from: 32, to: 256, mul: 2}
 *     points:                    # list: a list of maps key -> scalar
 *       - {replica.scheduler: vllm, replica.max_num_seqs: 64}
 *     family: ["cluster.pools[0].hardware"]   # optional: keys naming a plot curve (a key
 *                                             # with [i] is quoted in a [...] list)
 *
 * Loading checks everything before anything runs: the study keys (the ss_key tables of
 * sim/core/cfg.h), each axis value, and every point, by loading the scenario once with the
 * point's overrides. A scenario error caused by a point is reported at the study line that
 * set the offending value ("study.yaml:7:28: key 'replica.chunk_size': point 3 (...): ...").
 *
 * Other commands may keep their own top-level sections in a study file (see
 * ss_study_sections in study.c); they read them through ss_study_doc. The study owns every
 * string it hands out; nothing here has global mutable state. */
#ifndef SS_STUDY_STUDY_H
#define SS_STUDY_STUDY_H

#include <stddef.h>
#include <stdint.h>

#include "sim/core/cfg.h"
#include "sim/core/diag.h"
#include "workloads/scenario.h"

typedef struct ss_study ss_study;

/* Parse and validate a study file. */
ss_rc ss_study_load(const char *path, ss_study **out, ss_diag *d);
/* Same from memory: `name` is used in messages, `base_dir` resolves a scenario path (NULL:
 * the directory of `name`, or "." if it has none). */
ss_rc ss_study_load_string(const char *name, const char *text, const char *base_dir,
                           ss_study **out, ss_diag *d);
void ss_study_free(ss_study *s);
/* Like ss_study_load, except that the points' scenarios are not loaded up front: a point that
 * does not load (a model that does not fit the GPU at that tp) is reported when it is used,
 * by ss_study_load_point_scenario, and ss_study_point_error places that error at the study
 * line that set the value. For `servesim search`, which lists such points as infeasible. */
ss_rc ss_study_load_lenient(const char *path, ss_study **out, ss_diag *d);
/* Turn the error `pd` of loading point i into one located at the study line that set the
 * offending key ("study.yaml:7:28: key 'k': point 3 (...): ..."). Returns pd->rc. */
ss_rc ss_study_point_error(const ss_study *s, size_t i, const ss_diag *pd, ss_diag *d);

const char *ss_study_name(const ss_study *s);
size_t ss_study_npoints(const ss_study *s);
int ss_study_replications(const ss_study *s);
/* Overrides of point i ("key=value" items, owned by the study, valid until ss_study_free). */
void ss_study_point(const ss_study *s, size_t i, ss_overrides *out);
/* The configuration family of point i: "key=value, ..." over the `family` keys (the last
 * component of each key path), "all" when the study names no family. Owned by the study. */
const char *ss_study_family(const ss_study *s, size_t i);
/* Load the base scenario with point i's overrides, then `extra` (may be NULL). */
ss_rc ss_study_load_point_scenario(const ss_study *s, size_t i, const ss_overrides *extra,
                                   ss_scenario **out, ss_diag *d);
/* Seed of every run of a point: the study's `seed`, else the point scenario's own. */
uint64_t ss_study_seed(const ss_study *s, const ss_scenario *point_scenario);
/* The base scenario as given in the study ("default", "../x.yaml") and its text. */
const char *ss_study_scenario_ref(const ss_study *s);
const char *ss_study_scenario_text(const ss_study *s);

/* Request classes of the study's points, over every point whose runs have a per-class
 * summary (more than one class, or an SLO), in order of first appearance; none for a study
 * loaded with ss_study_load_lenient. */
size_t ss_study_nclasses(const ss_study *s);
const char *ss_study_class_name(const ss_study *s, size_t i);

/* The parsed study file, for sections other commands own. */
ss_doc *ss_study_doc(const ss_study *s);

#endif
