/* Hardware profiles: one GPU type's datasheet figures (each with its source), its price and
 * power, and the efficiency parameters of the roofline cost model.
 *
 * This header is the contract of hwprofiles/. Profiles are YAML files (the built-in set in
 * hwprofiles/data/, or a user file). Names used by the measurement data sets (h100_sxm,
 * H100-SXM-80GB, h100, ...) are mapped to canonical names by the one alias table,
 * hwprofiles/data/aliases.yaml. */
#ifndef SS_HWPROFILES_HW_H
#define SS_HWPROFILES_HW_H

#include <stdint.h>
#include <stdio.h>

#include "models/model.h"
#include "sim/core/cfg.h"
#include "sim/core/diag.h"
#include "sim/core/embed.h"

typedef struct ss_hw {
    char name[64];          /* canonical, e.g. "h100-sxm" */
    char display_name[96];  /* "NVIDIA H100 SXM5 80GB" */
    char vendor[32];
    /* Peak dense throughput, FLOP/s (0 = not supported by this GPU). */
    double peak_flops_bf16;  /* also used for fp16 */
    double peak_flops_fp8;   /* also used for int8 */
    double peak_flops_fp4;
    double peak_flops_fp32;
    uint64_t hbm_bytes;      /* capacity as the device reports it (80 GiB = 85,899,345,920 B) */
    double hbm_bandwidth;    /* B/s */
    uint64_t l2_bytes;       /* on-chip last-level cache (0 = unknown): a benchmark that
                                re-reads less than this may be served from it */
    double link_bandwidth;   /* scale-up link per GPU, one direction, B/s (NVLink, IF) */
    double link_latency_s;   /* per collective step */
    double host_link_bandwidth; /* GPU <-> host, one direction, B/s (PCIe) */
    double tdp_w;
    double price_per_hour;   /* USD per GPU-hour, on-demand list */
    uint64_t reserve_bytes;  /* HBM kept back from the KV cache: activations, CUDA graphs,
                                runtime (on top of the weights) */
    /* Roofline cost model v1 parameters (docs/cost-model.md). */
    double compute_efficiency;  /* achievable fraction of peak FLOP/s, 0..1 */
    double memory_efficiency;   /* achievable fraction of HBM bandwidth, 0..1 */
    double link_efficiency;     /* achievable fraction of link bandwidth, 0..1 */
    double kernel_launch_s;     /* per kernel launch */
    double iteration_overhead_s; /* per iteration: scheduler, input prep, sampling (CPU) */
    char sources[2048];         /* "key: source" lines, for provenance output */
    /* Calibrated profiles (hwprofiles/calibrated/, written by `servesim calibrate`): the
     * document holding the `calibration:` section ("" = a datasheet profile), the software
     * stack its measurements came from, and whether it is its GPU's default calibration. */
    char calib_doc[512];
    char calib_stack[96];
    int calib_default;
} ss_hw;

/* The built-in profiles and the alias table (generated from hwprofiles/data/). */
extern const ss_embedded_file ss_hw_zoo[];
/* The calibrated profiles (generated from hwprofiles/calibrated/), named GPU@STACK. */
extern const ss_embedded_file ss_hw_calibrated_zoo[];
/* Embedded profile (either table) whose source path is `path`, or NULL. */
const ss_embedded_file *ss_hw_embedded_by_path(const char *path);
/* Name of the default calibrated profile of canonical GPU `gpu` ("h100-sxm" ->
 * "h100-sxm@vllm-0.24.0"), or NULL when the GPU has none. */
const char *ss_hw_default_calibrated(const char *gpu);
/* The embedded calibrated profile named GPU@STACK (case-insensitive), or NULL. */
const ss_embedded_file *ss_hw_calibrated_by_name(const char *name);

/* Canonical name for any alias or canonical name (case-insensitive), or NULL. */
const char *ss_hw_canonical(const char *name);
/* Load by name or alias, by calibrated name GPU@STACK, or from a YAML file when the value ends in .yaml/.yml or contains
 * '/' (relative to base_dir unless absolute). Unknown names list the built-ins. */
ss_rc ss_hw_load(const char *name_or_path, const char *base_dir, ss_hw *out, ss_diag *d);
ss_rc ss_hw_parse(ss_doc *doc, ss_hw *out, ss_diag *d);
/* One line per built-in profile: name, HBM, BF16 peak, bandwidth, price. */
void ss_hw_list(FILE *out);
/* The profile schema as Markdown table rows, written from the key table ss_hw_parse applies
 * (docs/hardware.md holds a copy; test_hw checks it is current). Added beside the original
 * contract, following ss_model_doc_markdown, so the documentation cannot drift. */
void ss_hw_doc_markdown(FILE *out);
/* Peak FLOP/s for arithmetic in dtype t (bf16/fp16 -> bf16 peak, fp8/int8 -> fp8, ...);
 * falls back to the next wider type the GPU has when t is not supported natively. */
double ss_hw_peak_flops(const ss_hw *hw, ss_dtype t);

#endif
