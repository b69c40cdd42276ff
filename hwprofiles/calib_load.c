/* The calibration a calibrated cost model runs on: which profile document a GPU takes (its
 * own calibration, else the default calibrated profile of its name), loading it, and a
 * cache that lets every replica of a run share one loaded copy (cost.h). */
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/fit.h"
#include "hwprofiles/cost.h"

const char *ss_cost_calibration_doc(const ss_hw *hw)
{
    if (hw->calib_doc[0]) return hw->calib_doc;
    const char *def = ss_hw_default_calibrated(hw->name);
    const ss_embedded_file *e = def ? ss_hw_calibrated_by_name(def) : NULL;
    return e ? e->path : NULL;
}

ss_rc ss_cost_calibration_load(const ss_hw *hw, ss_calib **out, ss_diag *d)
{
    *out = NULL;
    const char *doc = ss_cost_calibration_doc(hw);
    if (!doc) return SS_OK;
    ss_calib *c = malloc(sizeof *c);
    if (!c) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    ss_rc rc = ss_calib_load_doc(doc, hw->name, c, d);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return SS_OK;
}

void ss_cost_calibration_free(ss_calib *c)
{
    if (!c) return;
    ss_calib_free(c);
    free(c);
}

struct ss_calib_cache {
    size_t n, cap;
    struct cache_entry {
        char *doc;      /* owned: embedded path or file path */
        ss_calib *cal;  /* owned */
    } *e;
};

ss_calib_cache *ss_calib_cache_new(void) { return calloc(1, sizeof(ss_calib_cache)); }

void ss_calib_cache_free(ss_calib_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].doc);
        ss_cost_calibration_free(c->e[i].cal);
    }
    free(c->e);
    free(c);
}

ss_rc ss_calib_cache_get(ss_calib_cache *c, const ss_hw *hw, const ss_calib **out, ss_diag *d)
{
    *out = NULL;
    const char *doc = ss_cost_calibration_doc(hw);
    if (!doc) return SS_OK;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].doc, doc)) {
            *out = c->e[i].cal;
            return SS_OK;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4;
        struct cache_entry *e = realloc(c->e, cap * sizeof *e);
        if (!e) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        c->e = e, c->cap = cap;
    }
    ss_calib *cal = NULL;
    ss_rc rc = ss_cost_calibration_load(hw, &cal, d);
    if (rc) return rc;
    char *key = malloc(strlen(doc) + 1);
    if (!key) {
        ss_cost_calibration_free(cal);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    }
    strcpy(key, doc);
    c->e[c->n].doc = key;
    c->e[c->n].cal = cal;
    c->n++;
    *out = cal;
    return SS_OK;
}
