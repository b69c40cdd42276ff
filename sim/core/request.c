/* Names for request states and rejection reasons (from the X-macro lists in request.h). */
#include "sim/core/request.h"

const char *ss_req_state_name(ss_req_state s)
{
    switch (s) {
#define SS_REQ_STATE_CASE(e, name) \
    case e:                        \
        return name;
        SS_REQ_STATE_LIST(SS_REQ_STATE_CASE)
#undef SS_REQ_STATE_CASE
    }
    return "?";
}

const char *ss_reject_text(ss_reject_reason r)
{
    switch (r) {
#define SS_REJECT_CASE(e, text) \
    case e:                     \
        return text;
        SS_REJECT_LIST(SS_REJECT_CASE)
#undef SS_REJECT_CASE
    }
    return "?";
}
