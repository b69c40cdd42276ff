/* Iteration cost models: how long one iteration of a batch takes on one instance.
 *
 * The engine sees only this vtable: it describes a batch as an ss_batch_shape and gets a
 * duration back. v1 is "roofline" (per operator max(FLOPs / (peak x efficiency),
 * bytes / (bandwidth x efficiency)) + launch overhead, plus TP all-reduce); a calibrated
 * per-operator model fitted to real kernel measurements plugs in beside it as another entry
 * of ss_cost_builtin[] without touching the engine. */
#ifndef SS_HWPROFILES_COST_H
#define SS_HWPROFILES_COST_H

#include "hwprofiles/hw.h"
#include "models/model.h"
#include "sim/core/plugin.h"
#include "sim/core/time.h"

#define SS_COST_ABI 1

struct ss_calib;

/* Everything a cost model may look at when it is created. */
typedef struct ss_cost_setup {
    const ss_model *model;
    const ss_hw *hw;
    ss_parallel par;
    ss_dtype weight_dtype;
    ss_dtype act_dtype;
    ss_dtype kv_dtype;
    /* Optional: the calibration the "calibrated" model uses, already loaded by the caller
     * (ss_cost_calibration_load; not owned, must outlive the state). NULL: the model loads
     * the profile's own calibration or its GPU's default one itself. */
    const struct ss_calib *calib;
} ss_cost_setup;

typedef struct ss_cost_ops {
    ss_plugin_info info;
    /* Build the model's state (precomputed per-layer constants). The setup's pointers stay
     * valid for the life of the state. Errors: unsupported dtype on this GPU, ... */
    ss_rc (*create)(const ss_cost_setup *setup, void **state, ss_diag *d);
    void (*destroy)(void *state);
    /* Duration of one iteration. Called once per iteration: must be O(1) in batch size. An
     * empty batch (num_seqs == 0) is never passed. */
    ss_time_ns (*iteration)(void *state, const ss_batch_shape *b);
    /* Optional (may be NULL): seconds per operator for the same batch, summed over layers,
     * plus the fixed iteration overhead in out[SS_OP_COUNT]. For docs, tests and
     * future per-operator reports. */
    void (*breakdown)(void *state, const ss_batch_shape *b, double out_s[SS_OP_COUNT + 1]);
} ss_cost_ops;

/* NULL-terminated table of built-in cost models ("roofline", ...). */
extern const ss_cost_ops *const ss_cost_builtin[];
const ss_cost_ops *ss_cost_find(const char *name);

/* The "calibrated" cost model (cost_calibrated.c) and, for outputs, what it would calibrate
 * for this setup: "calibrated (GPU@STACK)", "partially calibrated (GPU@STACK; roofline:
 * OPS...)" or "uncalibrated (...)". */
extern const ss_cost_ops ss_cost_calibrated;
void ss_cost_calibration_status(const ss_cost_setup *s, char *buf, size_t n);
/* The calibration "calibrated" uses on `hw`: its own `calibration:` section, else its GPU's
 * default calibrated profile. *out = NULL (and SS_OK) when the GPU has none; otherwise a new
 * calibration the caller owns (free with ss_cost_calibration_free). Loading a large profile
 * is the costly part of a run's start-up: callers that create several cost states (one per
 * replica, the status line) load it once and pass it in ss_cost_setup.calib. */
ss_rc ss_cost_calibration_load(const ss_hw *hw, struct ss_calib **out, ss_diag *d);
/* The document (embedded path or file) holding the calibration `hw` uses: its own
 * `calibration:` section, else its GPU's default calibrated profile; NULL when none. */
const char *ss_cost_calibration_doc(const ss_hw *hw);
void ss_cost_calibration_free(struct ss_calib *c);

/* Calibrations loaded once for many scenarios (a sweep's points, their forked workers): keyed
 * by the profile document they come from, owned by the cache. Parsing the H100 profile takes
 * ~0.14 s, as long as a 10,000-request run; a study that loads each point's scenario three
 * times (validation, metadata, the run) pays it once per GPU instead. Not thread-safe (one
 * per process; a forked child inherits the parent's entries). */
typedef struct ss_calib_cache ss_calib_cache;
ss_calib_cache *ss_calib_cache_new(void);
void ss_calib_cache_free(ss_calib_cache *c);
/* ss_cost_calibration_load through the cache: *out is borrowed (valid until the cache is
 * freed), NULL when the GPU has no calibration. */
ss_rc ss_calib_cache_get(ss_calib_cache *c, const ss_hw *hw, const struct ss_calib **out,
                         ss_diag *d);

#endif
