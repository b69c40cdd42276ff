/* NCCL all-reduce timing across the GPUs of one machine, from one process
 * (ncclCommInitAll, one stream per GPU, calls grouped with ncclGroupStart/End as in
 * nccl-tests' single-process mode). Out-of-place sum; the time of one call is the largest of
 * the per-GPU times between events recorded on each GPU's stream around the collective.
 * After the first size is timed, one output element is checked against the expected sum.
 * Compiled out (SS_PROF_NCCL=0) when CMake found no NCCL. */
#include <cmath>
#include <cstring>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "validation/profiler/cuda_int.h"

#if SS_PROF_NCCL
#include <nccl.h>

#define SS_NC(call)                                                                   \
    do {                                                                              \
        ncclResult_t r_ = (call);                                                     \
        if (r_ != ncclSuccess)                                                        \
            return ss_prof_fail(err, __FILE__, __LINE__, #call, ncclGetErrorString(r_)); \
    } while (0)

int ss_prof_nccl_built(void) { return 1; }

void ss_prof_nccl_version(char *buf, size_t n)
{
    int v = 0;
    if (ncclGetVersion(&v) != ncclSuccess) {
        std::snprintf(buf, n, "unknown");
        return;
    }
    /* NCCL >= 2.9 encodes major*10000 + minor*100 + patch. */
    std::snprintf(buf, n, "%d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
}

namespace {
/* Everything one measurement owns, released in its destructor. */
struct ar_ctx {
    int n = 0;
    std::vector<ncclComm_t> comms;
    std::vector<cudaStream_t> streams;
    std::vector<void *> send, recv;
    std::vector<std::vector<cudaEvent_t>> ev;
    ~ar_ctx()
    {
        for (int i = 0; i < n; i++) {
            cudaSetDevice(i);
            if (i < (int)streams.size() && streams[i]) cudaStreamSynchronize(streams[i]);
            for (cudaEvent_t e : ev[i]) cudaEventDestroy(e);
            if (send[i]) cudaFree(send[i]);
            if (recv[i]) cudaFree(recv[i]);
            if (streams[i]) cudaStreamDestroy(streams[i]);
            if (comms[i]) ncclCommDestroy(comms[i]);
        }
    }
};
} // namespace

int ss_prof_allreduce(int gpus, ss_prof_elem e, const int64_t *bytes, size_t nb, int warmup,
                      int reps, float *times_us, char *err)
{
    int count = 0;
    SS_CK(cudaGetDeviceCount(&count));
    if (gpus < 2 || gpus > count) {
        std::snprintf(err, SS_PROF_ERR_LEN, "all-reduce on %d GPUs: this machine has %d", gpus,
                      count);
        return -1;
    }
    /* fp8 GEMM runs keep activations, hence the all-reduce, in bf16. */
    const ncclDataType_t type = e == SS_PROF_E_FP16 ? ncclFloat16 : ncclBfloat16;
    int64_t maxb = 0;
    for (size_t i = 0; i < nb; i++) maxb = bytes[i] > maxb ? bytes[i] : maxb;

    ar_ctx c;
    c.n = gpus;
    c.comms.assign(gpus, nullptr);
    c.streams.assign(gpus, nullptr);
    c.send.assign(gpus, nullptr);
    c.recv.assign(gpus, nullptr);
    c.ev.assign(gpus, {});
    std::vector<int> devs(gpus);
    for (int i = 0; i < gpus; i++) devs[i] = i;
    SS_NC(ncclCommInitAll(c.comms.data(), gpus, devs.data()));
    for (int i = 0; i < gpus; i++) {
        SS_CK(cudaSetDevice(i));
        SS_CK(cudaStreamCreateWithFlags(&c.streams[i], cudaStreamNonBlocking));
        SS_CK(cudaMalloc(&c.send[i], (size_t)maxb));
        SS_CK(cudaMalloc(&c.recv[i], (size_t)maxb));
        SS_CK(cudaMemsetAsync(c.send[i], 0x3c, (size_t)maxb, c.streams[i]));
        for (int r = 0; r < 2 * reps; r++) {
            cudaEvent_t ev;
            SS_CK(cudaEventCreate(&ev));
            c.ev[i].push_back(ev);
        }
    }
    auto collective = [&](size_t elems) -> int {
        SS_NC(ncclGroupStart());
        for (int i = 0; i < gpus; i++)
            SS_NC(ncclAllReduce(c.send[i], c.recv[i], elems, type, ncclSum, c.comms[i],
                                c.streams[i]));
        SS_NC(ncclGroupEnd());
        return 0;
    };
    for (size_t bi = 0; bi < nb; bi++) {
        const size_t elems = (size_t)bytes[bi] / 2;
        for (int w = 0; w < warmup; w++)
            if (collective(elems)) return -1;
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < gpus; i++) {
                SS_CK(cudaSetDevice(i));
                SS_CK(cudaEventRecord(c.ev[i][2 * r], c.streams[i]));
            }
            if (collective(elems)) return -1;
            for (int i = 0; i < gpus; i++) {
                SS_CK(cudaSetDevice(i));
                SS_CK(cudaEventRecord(c.ev[i][2 * r + 1], c.streams[i]));
            }
        }
        for (int i = 0; i < gpus; i++) {
            SS_CK(cudaSetDevice(i));
            SS_CK(cudaStreamSynchronize(c.streams[i]));
        }
        if (bi == 0) {
            /* Check the sum once: every element of every send buffer holds the 16-bit
             * pattern 0x3c3c, so each output element is gpus times its value. */
            uint16_t bits = 0;
            SS_CK(cudaSetDevice(0));
            SS_CK(cudaMemcpy(&bits, c.recv[0], sizeof bits, cudaMemcpyDeviceToHost));
            const uint16_t in = 0x3c3c;
            float one, got;
            if (type == ncclFloat16) {
                one = __half2float(*reinterpret_cast<const __half *>(&in));
                got = __half2float(*reinterpret_cast<const __half *>(&bits));
            } else {
                one = __bfloat162float(*reinterpret_cast<const __nv_bfloat16 *>(&in));
                got = __bfloat162float(*reinterpret_cast<const __nv_bfloat16 *>(&bits));
            }
            const float want = one * (float)gpus;
            if (!(std::fabs(got - want) <= 0.02f * want)) {
                std::snprintf(err, SS_PROF_ERR_LEN,
                              "all-reduce on %d GPUs returned %g where %g was expected", gpus,
                              (double)got, (double)want);
                return -1;
            }
        }
        for (int r = 0; r < reps; r++) {
            float worst = 0.0f;
            for (int i = 0; i < gpus; i++) {
                float ms = 0.0f;
                SS_CK(cudaEventElapsedTime(&ms, c.ev[i][2 * r], c.ev[i][2 * r + 1]));
                worst = ms > worst ? ms : worst;
            }
            times_us[bi * (size_t)reps + r] = worst * 1000.0f;
        }
    }
    return 0;
}

#else /* !SS_PROF_NCCL */

int ss_prof_nccl_built(void) { return 0; }

void ss_prof_nccl_version(char *buf, size_t n)
{
    if (n) buf[0] = '\0';
}

int ss_prof_allreduce(int gpus, ss_prof_elem e, const int64_t *bytes, size_t nb, int warmup,
                      int reps, float *times_us, char *err)
{
    (void)gpus, (void)e, (void)bytes, (void)nb, (void)warmup, (void)reps, (void)times_us;
    std::snprintf(err, SS_PROF_ERR_LEN,
                  "servesim-profile was built without NCCL; the all-reduce is not available");
    return -1;
}

#endif
