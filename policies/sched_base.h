/* Mechanics shared by the built-in schedulers: ordered waiting / running / swapped queues,
 * preemption by recompute or by swap (with its host-link time), swap-in, and the ops that
 * are the same for every policy (enqueue, finished, pending, destroy).
 *
 * A policy's state struct begins with an ss_sched_base, so the shared ops take the policy's
 * state pointer directly. Queue order follows replica.priority: a request's key is
 * (arrival), (prompt length, arrival) or (priority, arrival); "the newest / lowest-priority
 * running request" is the last of the running queue. */
#ifndef SS_POLICIES_SCHED_BASE_H
#define SS_POLICIES_SCHED_BASE_H

#include "policies/reqqueue.h"
#include "policies/sched.h"

typedef struct ss_sched_base {
    ss_sched_config cfg;
    ss_kv *kv;
    int instance;
    int64_t watermark_blocks;
    ss_reqq waiting, running, swapped;
    size_t finished_pending; /* finished requests not yet dropped from `running` */
    int (*before)(const ss_req *a, const ss_req *b); /* queue order */
    int64_t host_blocks_total, host_blocks_used;
    double swap_s_per_block; /* seconds to copy one block over the host link */
    uint32_t preempted_now;  /* preemptions during the current schedule() call */
} ss_sched_base;

ss_rc ss_sched_base_init(ss_sched_base *b, const ss_sched_env *env, ss_diag *d);

/* Shared create() for policies whose whole state is an ss_sched_base. */
ss_rc ss_sched_base_create(const ss_sched_env *env, void **state, ss_diag *d);

/* Shared ops (state = the policy state, whose first member is an ss_sched_base). */
void ss_sched_base_destroy(void *state);
ss_rc ss_sched_base_enqueue(void *state, ss_req *r);
void ss_sched_base_finished(void *state, ss_req *r);
size_t ss_sched_base_pending(void *state);

/* Start of every schedule(): drop finished requests from `running`, clear the batch. */
void ss_sched_base_begin(ss_sched_base *b, ss_batch *out);
/* Move waiting request r (at the head) into running, reserving KV for `tokens` more tokens,
 * and add it to the batch. */
ss_rc ss_sched_base_admit(ss_sched_base *b, ss_batch *out, uint32_t tokens);
/* Preempt the last running request: by swap if preemption_mode is swap and host space
 * holds its blocks (adding the copy time to out->extra), else by recompute (KV dropped, back
 * to the waiting queue at its ordered place). Returns the victim. */
ss_req *ss_sched_base_preempt_last(ss_sched_base *b, ss_batch *out);
/* Preempt the last running request until `blocks` blocks are free for running request r.
 * Returns 1 when they are, 0 when r itself had to be preempted (the caller stops its round),
 * -1 on out of memory. */
int ss_sched_base_make_room(ss_sched_base *b, ss_batch *out, const ss_req *r, int64_t blocks);
/* Bring swapped requests back in order while their blocks (+1 for the next token) fit above
 * the watermark and max_num_seqs allows; each decodes one token in this batch. */
ss_rc ss_sched_base_swap_in(ss_sched_base *b, ss_batch *out);
/* The decode round of vLLM v0 (also Sarathi-Serve's first phase): every running request
 * that has finished its prompt decodes one token in running order; before each, at least
 * one free block must exist (vLLM's can_append_slot), else the newest running request is
 * preempted; if that is the request itself the round stops. `budget` (may be NULL) is
 * decremented per decode and stops the round at 0. Prefilling requests (c < p + g - 1) are
 * skipped when skip_prefilling is set. */
ss_rc ss_sched_base_decode_round(ss_sched_base *b, ss_batch *out, int64_t *budget,
                                 int skip_prefilling);

/* Is r past its prompt, i.e. its next step computes one token that will be sampled? */
static inline int ss_req_decoding(const ss_req *r)
{
    return r->generated > 0 && r->computed + 1 == r->prompt_tokens + r->generated;
}

/* Configure-time checks shared by policies. */
ss_rc ss_sched_check_common(ss_sched_config *cfg, const char *policy, int uses_chunk,
                            int uses_threshold, int can_swap, const char **key, char *why,
                            size_t why_n);

#endif
