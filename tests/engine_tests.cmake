# Engine, output and CLI tests (included from tests/CMakeLists.txt).
ss_add_unit_test(test_engine ss_cli)
ss_add_unit_test(test_scenario ss_workloads)
ss_add_unit_test(test_arrival ss_engine)
ss_add_unit_test(test_trace ss_workloads)

# Bad input: each case must fail cleanly (no crash), naming file, line and key.
set(B tests/data/bad)
ss_add_cli_fail_test(cli_typo_key "typo_key.yaml:14:1: key 'worklod': unknown key" run ${B}/typo_key.yaml --out build-test-out)
ss_add_cli_fail_test(cli_wrong_type "wrong_type.yaml:15:.*key 'workload.arrival.rate': expected a number, got 'fast'" run ${B}/wrong_type.yaml --out build-test-out)
ss_add_cli_fail_test(cli_negative_rate "negative_rate.yaml:15:.*key 'workload.arrival.rate':.*out of range" run ${B}/negative_rate.yaml --out build-test-out)
ss_add_cli_fail_test(cli_zero_rate "zero_rate.yaml:15:.*key 'workload.arrival.rate':.*must be > 0" run ${B}/zero_rate.yaml --out build-test-out)
ss_add_cli_fail_test(cli_missing_model "missing_model.yaml:2:.*key 'model': missing required key" run ${B}/missing_model.yaml --out build-test-out)
ss_add_cli_fail_test(cli_unknown_model "unknown_model.yaml:5:.*key 'model':.*llama-9-1b.*llama-3.1-8b" run ${B}/unknown_model.yaml --out build-test-out)
ss_add_cli_fail_test(cli_unknown_hardware "unknown_hardware.yaml:8:.*key 'cluster.pools\\[0\\].hardware':.*h1000.*h100-sxm" run ${B}/unknown_hardware.yaml --out build-test-out)
ss_add_cli_fail_test(cli_unknown_scheduler "unknown_scheduler.yaml:11:.*key 'replica.scheduler': unknown scheduler 'fastest' \\(valid: static, orca, vllm, sarathi, vllm_v1" run ${B}/unknown_scheduler.yaml --out build-test-out)
ss_add_cli_fail_test(cli_tp_heads "tp_heads.yaml:9:.*key 'cluster.pools\\[0\\].parallelism.tp':.*3" run ${B}/tp_heads.yaml --out build-test-out)
ss_add_cli_fail_test(cli_does_not_fit "does_not_fit.yaml:8:.*key 'cluster.pools\\[0\\].hardware':.*does not fit" run ${B}/does_not_fit.yaml --out build-test-out)
ss_add_cli_fail_test(cli_pool_count "pool_count.yaml:9:.*count.*not yet supported" run ${B}/pool_count.yaml --out build-test-out)
ss_add_cli_fail_test(cli_pipeline "pipeline.yaml:9:.*parallelism.pp.*not yet supported" run ${B}/pipeline.yaml --out build-test-out)
ss_add_cli_fail_test(cli_yaml_syntax "yaml_syntax.yaml:[0-9]+:[0-9]+: YAML syntax error" run ${B}/yaml_syntax.yaml --out build-test-out)
ss_add_cli_fail_test(cli_bad_uniform "bad_uniform.yaml:17:.*prompt_tokens.*below min" run ${B}/bad_uniform.yaml --out build-test-out)
ss_add_cli_fail_test(cli_unknown_dist "unknown_dist.yaml:17:.*prompt_tokens.dist.*unknown distribution 'gaussian'" run ${B}/unknown_dist.yaml --out build-test-out)
ss_add_cli_fail_test(cli_unknown_arrival "unknown_arrival.yaml:15:.*workload.arrival.process.*bursty.*poisson" run ${B}/unknown_arrival.yaml --out build-test-out)
ss_add_cli_fail_test(cli_zero_seqs "zero_seqs.yaml:12:.*replica.max_num_seqs.*out of range" run ${B}/zero_seqs.yaml --out build-test-out)
ss_add_cli_fail_test(cli_gpu_util "gpu_util.yaml:14:.*replica.gpu_memory_utilization.*out of range" run ${B}/gpu_util.yaml --out build-test-out)
ss_add_cli_fail_test(cli_no_end "no_end.yaml:16:.*workload.num_requests.*never ends" run ${B}/no_end.yaml --out build-test-out)
ss_add_cli_fail_test(cli_budget_small "budget_small.yaml:14:.*replica.max_num_batched_tokens.*smaller than max_model_len" run ${B}/budget_small.yaml --out build-test-out)
ss_add_cli_fail_test(cli_broken_model_file "broken-model.yaml:7:1: key 'num_layer': unknown key" run ${B}/broken_model_file.yaml --out build-test-out)
ss_add_cli_fail_test(cli_missing_file "nothere.yaml: cannot open file" run tests/data/nothere.yaml --out build-test-out)
ss_add_cli_fail_test(cli_bad_seed "--seed expects an integer from 0 to 2\\^53 - 1" run --seed -3)
ss_add_cli_fail_test(cli_unknown_option "unknown or incomplete option" run --sede 3)
ss_add_cli_fail_test(cli_list_unknown "unknown kind 'gpus'" list gpus)

# Smoke: the CLI's commands work end to end on the small scenario.
add_test(NAME cli_run_small COMMAND servesim run tests/data/good/small.yaml --out build-test-out/small --quiet)
add_test(NAME cli_print_default COMMAND servesim run --print-default)
set_tests_properties(cli_print_default PROPERTIES PASS_REGULAR_EXPRESSION "schema_version: 1")
add_test(NAME cli_list COMMAND servesim list)
set_tests_properties(cli_list PROPERTIES PASS_REGULAR_EXPRESSION "llama-3.1-8b.*h100-sxm.*vllm.*poisson.*roofline")
add_test(NAME cli_help COMMAND servesim run --help)
set_tests_properties(cli_help PROPERTIES PASS_REGULAR_EXPRESSION "--seed N.*--out DIR")
add_test(NAME cli_bench_tiny COMMAND servesim bench --requests 200)
set_tests_properties(cli_bench_tiny PROPERTIES PASS_REGULAR_EXPRESSION "events / s.*peak memory")
set_tests_properties(cli_run_small cli_print_default cli_list cli_help cli_bench_tiny
  PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli)

# Generated docs must match the code they are generated from.
add_test(NAME docs_scenario_reference
  COMMAND sh -c "$<TARGET_FILE:servesim> doc scenario | diff -u docs/scenario-reference.md -")
set_tests_properties(docs_scenario_reference PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS docs)

# Golden batch compositions of every scheduling policy (the policies' contract).
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_sched_golden.c)
  ss_add_unit_test(test_sched_golden ss_cli)
endif()

# --set overrides are checked like the file; errors name the key.
add_test(NAME cli_set_ok COMMAND servesim run tests/data/good/small.yaml --quiet --out build-test-out/set
  --set replica.scheduler=sarathi --set replica.chunk_size=256 --set "cluster.pools[0].parallelism.tp=2"
  --set workload.num_requests=50)
set_tests_properties(cli_set_ok PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli)
ss_add_cli_fail_test(cli_set_unknown_key "key 'replica.schedular': unknown key" run tests/data/good/small.yaml --set replica.schedular=vllm)
ss_add_cli_fail_test(cli_set_bad_value "key 'replica.scheduler': unknown scheduler 'x'" run tests/data/good/small.yaml --set replica.scheduler=x)
ss_add_cli_fail_test(cli_set_mapping "key 'replica': is a mapping in the file" run tests/data/good/small.yaml --set replica=vllm)
ss_add_cli_fail_test(cli_set_chunk_vllm "replica.chunk_size.*sarathi setting" run tests/data/good/small.yaml --set replica.chunk_size=64)
ss_add_cli_fail_test(cli_swap_no_space "replica.preemption_mode.*needs host memory" run tests/data/good/small.yaml --set replica.preemption_mode=swap)
ss_add_cli_fail_test(cli_sarathi_small_chunk "replica.chunk_size.*smaller than one decode batch" run tests/data/good/small.yaml --set replica.scheduler=sarathi --set replica.chunk_size=16)
ss_add_cli_fail_test(cli_sarathi_zero_chunk "replica.chunk_size.*smaller than one decode batch|chunk_size.*out of range" run tests/data/good/small.yaml --set replica.scheduler=sarathi --set replica.chunk_size=0)
ss_add_cli_fail_test(cli_v1_budget "replica.max_num_batched_tokens.*smaller than one decode batch" run tests/data/good/small.yaml --set replica.scheduler=vllm_v1 --set replica.max_num_batched_tokens=8)

# Hardening (review findings): nonsense that would hang or overflow is refused up front.
ss_add_cli_fail_test(cli_sample_too_fine "output.kv_sample_interval.*too fine" run tests/data/good/small.yaml --set output.kv_sample_interval=1ns)
ss_add_cli_fail_test(cli_empty_out "output directory name is empty" run tests/data/good/small.yaml --out=)
ss_add_cli_fail_test(cli_not_regular "/dev/null: not a regular file" run /dev/null)
ss_add_cli_fail_test(cli_set_names_origin "^servesim: error: --set: key 'workload.arrival.rate'" run tests/data/good/small.yaml --set workload.arrival.rate=-1)
ss_add_cli_fail_test(cli_bench_bad_requests "Usage: servesim bench" bench --requests 1e3)

# Traces: malformed rows name file, line and field; misuse is refused.
ss_add_cli_fail_test(cli_trace_bad_row "native_bad_negative.csv:3: field 'prompt_tokens': expected a non-negative integer, got '-5'" run ${B}/trace_bad_row.yaml --out build-test-out)
ss_add_cli_fail_test(cli_trace_no_times "lengths_small.csv: a lengths table has no arrival times" run ${B}/trace_no_times.yaml --out build-test-out)
ss_add_cli_fail_test(cli_trace_with_lengths "trace_with_lengths.yaml:5:.*workload.prompt_tokens.*the trace gives" run ${B}/trace_with_lengths.yaml --out build-test-out)
ss_add_cli_fail_test(cli_trace_missing "tests/data/bad/nothere.csv: cannot open" run ${B}/trace_missing.yaml --out build-test-out)
add_test(NAME cli_trace_lenient COMMAND servesim run tests/data/good/trace_lenient.yaml --out build-test-out/lenient)
set_tests_properties(cli_trace_lenient PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "3 arrived.*6 malformed rows skipped")
ss_add_cli_fail_test(cli_trace_strict "native_lenient.csv:3: field 'prompt_tokens'" run tests/data/good/trace_lenient.yaml --set workload.arrival.lenient=false)
ss_add_cli_fail_test(cli_trace_overflow "az2023_small.csv: rescaled, the trace would last" run ${B}/trace_overflow.yaml --out build-test-out)
ss_add_cli_fail_test(cli_requests_and_trace "requests_and_trace.yaml:4:.*workload.trace.*cannot be combined" run ${B}/requests_and_trace.yaml --out build-test-out)
ss_add_cli_fail_test(cli_closed_all_rejected "rejected at t=0 ns without time advancing" run ${B}/closed_all_rejected.yaml --out build-test-out)
# A measured rejection ends the measured duration like a completion.
add_test(NAME cli_reject_duration COMMAND servesim run tests/data/good/reject_last.yaml --out build-test-out/rj)
set_tests_properties(cli_reject_duration PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "1 rejected.*5.00 s simulated.*0.200 req/s")

# Capacity under SLO, cost, configuration search (issue 7, part 2).
ss_add_unit_test(test_tco ss_hwprofiles)
ss_add_unit_test(test_capacity ss_capacity)
set(CAPS tests/data/good/small.yaml --set workload.num_requests=200 --lo 1 --hi 4 --tol 0.1)
add_test(NAME cli_capacity_small COMMAND servesim capacity-search ${CAPS}
  --slo ttft_p99=2s,tpot_p99=100ms --target-load 50 --out build-test-out/capacity)
set_tests_properties(cli_capacity_small PROPERTIES PASS_REGULAR_EXPRESSION
  "capacity +[0-9.]+ req/s \\((converged|straddle); the threshold lies in \\[[0-9.]+, [0-9.]+\\]\\).*binding +(ttft|tpot)_p99.*cost +[0-9]+ instances x 1 h100-sxm.*M output tok.*cost model  calibrated: partially calibrated \\(h100-sxm@vllm-0.24.0")
# Results do not depend on the number of worker processes.
string(REPLACE ";" " " CAPS_SH "${CAPS}")
add_test(NAME cli_capacity_jobs_invariant COMMAND sh -c
  "mkdir -p build-test-out && $<TARGET_FILE:servesim> capacity-search ${CAPS_SH} --slo attainment=0.95,ttft=500ms --jobs 1 > build-test-out/cap-j1.txt && $<TARGET_FILE:servesim> capacity-search ${CAPS_SH} --slo attainment=0.95,ttft=500ms --jobs 2 > build-test-out/cap-j2.txt && diff build-test-out/cap-j1.txt build-test-out/cap-j2.txt && grep -q 'binding     attainment' build-test-out/cap-j1.txt")
set_tests_properties(cli_capacity_small cli_capacity_jobs_invariant PROPERTIES
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli)
ss_add_cli_fail_test(cli_capacity_no_slo "--slo is required" capacity-search tests/data/good/small.yaml)
ss_add_cli_fail_test(cli_capacity_bad_slo "--slo: key 'ttft_p42': unknown SLO key" capacity-search tests/data/good/small.yaml --slo ttft_p42=2s)
ss_add_cli_fail_test(cli_capacity_slo_unit "--slo: key 'tpot_p99': unknown time unit 'parsecs'" capacity-search tests/data/good/small.yaml --slo tpot_p99=3parsecs)
ss_add_cli_fail_test(cli_capacity_bounds "need 0 < lo < hi, got lo 5, hi 2" capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --lo 5 --hi 2)
ss_add_cli_fail_test(cli_capacity_bad_key "key 'workload.arrival.rat': unknown key" capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --key workload.arrival.rat)
ss_add_cli_fail_test(cli_capacity_bad_cost "--cost: key 'pue':.*out of range" capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --cost pue=0.2)
ss_add_cli_fail_test(cli_capacity_bad_scenario "typo_key.yaml:14:1: key 'worklod': unknown key" capacity-search ${B}/typo_key.yaml --slo ttft_p99=2s)
ss_add_cli_fail_test(cli_capacity_bad_reps "--reps expects an integer from 1 to 64" capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --reps 0)

# servesim search: ranking, Pareto set, infeasible configurations with their reason.
add_test(NAME cli_search_small COMMAND servesim search tests/data/studies/search_small.yaml --out build-test-out/search)
set_tests_properties(cli_search_small PROPERTIES PASS_REGULAR_EXPRESSION
  "1 of 4 configurations meet the SLO.*1\\* +[0-9.]+ +[0-9.]+ +[0-9]+ .*model=llama-3.1-8b cluster.pools\\[0\\].hardware=h100-sxm.*Infeasible or unpriced:.*hardware=rtx-4090: SLO fails at the lowest load 1: tpot_p99 = [0-9.]+ \\+- [0-9.]+ ms \\(limit 20 ms\\).*search_small.yaml:11:33: key 'cluster.pools\\[0\\].hardware': point 2.*does not fit")
add_test(NAME cli_search_jobs_invariant COMMAND sh -c
  "mkdir -p build-test-out && $<TARGET_FILE:servesim> search tests/data/studies/search_small.yaml --jobs 1 > build-test-out/s-j1.txt && $<TARGET_FILE:servesim> search tests/data/studies/search_small.yaml --jobs 2 > build-test-out/s-j2.txt && diff build-test-out/s-j1.txt build-test-out/s-j2.txt")
set_tests_properties(cli_search_small cli_search_jobs_invariant PROPERTIES
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli)
set(SB tests/data/studies/bad)
ss_add_cli_fail_test(cli_search_no_slo "search_no_slo.yaml:1:1: key 'slo': missing section" search ${SB}/search_no_slo.yaml)
ss_add_cli_fail_test(cli_search_bad_slo "search_bad_slo.yaml:10:13: key 'slo.ttft_p99': unknown time unit 'sec'" search ${SB}/search_bad_slo.yaml)
ss_add_cli_fail_test(cli_search_no_target "search_no_target.yaml:9:3: key 'search.target_load': missing required key" search ${SB}/search_no_target.yaml)
ss_add_cli_fail_test(cli_search_bad_cost "search_bad_cost.yaml:12:3: key 'cost.utilization': unknown key" search ${SB}/search_bad_cost.yaml)
ss_add_cli_fail_test(cli_search_typo_section "search_typo_section.yaml:8:1: key 'serch': unknown key" search ${SB}/search_typo_section.yaml)
ss_add_cli_fail_test(cli_search_none_loads "search_none_loads.yaml:7:.*key 'cluster.pools\\[0\\].hardware': point 0.*does not fit" search ${SB}/search_none_loads.yaml)
ss_add_cli_fail_test(cli_search_no_file "expected one study file" search)
add_test(NAME docs_search_reference
  COMMAND sh -c "$<TARGET_FILE:servesim> doc search | diff -u docs/search-reference.md -")
set_tests_properties(docs_search_reference PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS docs)
# Closed loop: integer loads (clients).
add_test(NAME cli_capacity_clients COMMAND servesim capacity-search tests/data/good/small_closed.yaml
  --key workload.arrival.clients --slo tpot_p99=30ms --lo 1 --hi 8 --reps 2 --quiet)
set_tests_properties(cli_capacity_clients PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "capacity +[0-9]+ clients \\((converged|straddle); the threshold lies in \\[[0-9]+, [0-9]+\\]")
# An SLO that cannot be met is a finding (exit 0, "infeasible" with the reason), not a crash.
add_test(NAME cli_capacity_infeasible COMMAND servesim capacity-search ${CAPS} --slo tpot_p99=1ms)
set_tests_properties(cli_capacity_infeasible PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "infeasible +SLO fails at the lowest load 1: tpot_p99 = [0-9.]+ \\+- [0-9.]+ ms \\(limit 1 ms\\)")
# validate e2e (docs/validation.md): reader, metric definitions, refusals, determinism on the
# hand-written fixtures of tests/data/validation/ (README there).
ss_add_unit_test(test_validation ss_cli)
set(V tests/data/validation)
ss_add_cli_fail_test(cli_validate_bad_row "${V}/bad_row/requests.jsonl:3: key 'output_toks': expected a positive integer, got a string" validate e2e --run ${V}/bad_row)
ss_add_cli_fail_test(cli_validate_bad_tick "${V}/bad_tick/timeseries.csv:4: key 'running': expected a request count, got '2.5'" validate e2e --run ${V}/bad_tick)
ss_add_cli_fail_test(cli_validate_refuse_pp "${V}/refuse_pp/meta.json:31: key 'resolved_config.parallel_config.pipeline_parallel_size': the run used pipeline parallelism" validate e2e --run ${V}/refuse_pp)
ss_add_cli_fail_test(cli_validate_unknown_gpu "${V}/unknown_gpu/meta.json:28: key 'hardware.device_name': no hardware profile for GPU 'NVIDIA GeForce RTX 9999'" validate e2e --run ${V}/unknown_gpu)
ss_add_cli_fail_test(cli_validate_no_dir "nothere: cannot open run directory" validate e2e --run ${V}/nothere)
ss_add_cli_fail_test(cli_validate_no_run "--run DIR is required" validate e2e)
ss_add_cli_fail_test(cli_validate_unknown_kind "unknown kind 'e3e' \\(e2e" validate e3e)
ss_add_cli_fail_test(cli_validate_bad_threshold "--max-mean-error expects a percentage" validate e2e --run ${V}/tiny --max-mean-error -5)
ss_add_cli_fail_test(cli_validate_set_checked "--set: key 'replica.max_num_seqs'" validate e2e --run ${V}/tiny --set replica.max_num_seqs=0)
ss_add_cli_fail_test(cli_validate_bad_hw "key 'cluster.pools\\[0\\].hardware':.*h1000" validate e2e --run ${V}/tiny --hw h1000)
# The fixture's hand-made timestamps are far slower than any GPU: the threshold must trip.
ss_add_cli_fail_test(cli_validate_threshold "a mean error is [0-9.]+%, above --max-mean-error 15%" validate e2e --run ${V}/tiny --max-mean-error 15)
add_test(NAME cli_validate_tiny COMMAND servesim validate e2e --run ${V}/tiny --out build-test-out/validate-tiny --timeline-every 1)
set_tests_properties(cli_validate_tiny PROPERTIES PASS_REGULAR_EXPRESSION
  "TTFT mean +0.625 .*TPOT mean +666.667 .*E2E mean +2.000 .*prefix caching was on.*timeline.*validation.json")
add_test(NAME cli_validate_print_scenario COMMAND servesim validate e2e --run ${V}/tiny --print-scenario)
set_tests_properties(cli_validate_print_scenario PROPERTIES PASS_REGULAR_EXPRESSION
  "scheduler: vllm_v1.*num_gpu_blocks: 64.*at: 2000000000ns, prompt_tokens: 300, output_tokens: 2")
# Requests the simulation refuses are reported, not silently dropped from the statistics.
add_test(NAME cli_validate_rejections COMMAND servesim validate e2e --run ${V}/tiny --set replica.max_model_len=200 --timeline-every 0)
set_tests_properties(cli_validate_rejections PROPERTIES PASS_REGULAR_EXPRESSION
  "simulated 2 finished, 2 rejected.*the simulation rejected 2 of the measured requests.*only the 2 it finished")
add_test(NAME cli_validate_help COMMAND servesim validate e2e --help)
set_tests_properties(cli_validate_help PROPERTIES PASS_REGULAR_EXPRESSION "--run DIR.*--hw NAME.FILE.*--max-mean-error PCT")
# Same inputs, same bytes: validation.json and summary.json of two runs are identical.
add_test(NAME cli_validate_deterministic COMMAND sh -c
  "$<TARGET_FILE:servesim> validate e2e --run ${V}/tiny --out build-test-out/val-det-a >/dev/null && $<TARGET_FILE:servesim> validate e2e --run ${V}/tiny --out build-test-out/val-det-b >/dev/null && cmp build-test-out/val-det-a/validation.json build-test-out/val-det-b/validation.json && cmp build-test-out/val-det-a/summary.json build-test-out/val-det-b/summary.json")
set_tests_properties(cli_validate_tiny cli_validate_print_scenario cli_validate_help cli_validate_deterministic
  cli_validate_rejections PROPERTIES
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli)
# The real vLLM run (../shared/data/validation, when present at configure time): it must run,
# print every metric, and (with the default cost model: the calibrated rtx-4090 profile) keep
# every mean TTFT / TPOT / E2E error within 15 % (exit status 3 otherwise; docs/validation.md).
set(SS_REAL_RUN ${PROJECT_SOURCE_DIR}/../shared/data/validation/llmservingsim_vllm/RTX4090/Llama-3.1-8B)
if(EXISTS ${SS_REAL_RUN}/meta.json)
  add_test(NAME validate_e2e_real_rtx4090 COMMAND servesim validate e2e --run ${SS_REAL_RUN} --max-mean-error 15)
  set_tests_properties(validate_e2e_real_rtx4090 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    LABELS "cli;shared-data" PASS_REGULAR_EXPRESSION
    "hardware profile rtx-4090, cost model calibrated.*requests +300 measured; simulated 300 finished.*TTFT mean.*p99.*TPOT mean.*p99.*E2E mean.*p99.*prefix caching was on.*timeline"
    # PASS_REGULAR_EXPRESSION makes CTest ignore the exit status: the threshold's message fails it
    FAIL_REGULAR_EXPRESSION "above --max-mean-error")
endif()
# Request classes and MLPerf LoadGen scenarios (docs/mlperf.md, docs/scenarios.md).
ss_add_unit_test(test_mlperf ss_workloads)
ss_add_unit_test(test_classes ss_cli)
ss_add_cli_fail_test(cli_class_duplicate "class_duplicate.yaml:15:.*key 'workload.classes\\[1\\].name': duplicate class name 'chat'" run ${B}/class_duplicate.yaml --out build-test-out)
ss_add_cli_fail_test(cli_class_bad_name "key 'workload.classes\\[0\\].name': 'a b' is not a valid class name" run tests/data/good/classes.yaml --set "workload.classes[0].name=a b")
ss_add_cli_fail_test(cli_class_with_arrival "class_with_arrival.yaml:4:.*key 'workload.arrival': cannot be combined with `classes`" run ${B}/class_with_arrival.yaml --out build-test-out)
ss_add_cli_fail_test(cli_class_empty_slo "class_empty_slo.yaml:10:.*key 'workload.classes\\[0\\].slo': give at least one target" run ${B}/class_empty_slo.yaml --out build-test-out)
ss_add_cli_fail_test(cli_class_zero_slo "key 'workload.classes\\[0\\].slo.ttft': value 0 is out of range" run tests/data/good/classes.yaml --set "workload.classes[0].slo.ttft=0")
ss_add_cli_fail_test(cli_class_bad_rate "key 'workload.classes\\[1\\].arrival.rate': expected a number, got 'lots'" run tests/data/good/classes.yaml --set "workload.classes[1].arrival.rate=lots")
ss_add_cli_fail_test(cli_mlperf_unknown_scenario "mlperf_bad_scenario.yaml:5:.*key 'workload.mlperf.scenario': unknown value 'Batch' \\(valid: Offline, Server, SingleStream, MultiStream, Interactive\\)" run ${B}/mlperf_bad_scenario.yaml --out build-test-out)
ss_add_cli_fail_test(cli_mlperf_negative_qps "key 'workload.mlperf.target_qps':.*out of range" run workloads/scenarios/mlperf-llama2-70b-server.yaml --set workload.mlperf.target_qps=-3)
ss_add_cli_fail_test(cli_mlperf_no_qps "mlperf_no_qps.yaml:5:.*key 'workload.mlperf.target_qps': missing: the Server scenario needs target_qps" run ${B}/mlperf_no_qps.yaml --out build-test-out)
ss_add_cli_fail_test(cli_mlperf_unknown_benchmark "key 'workload.mlperf.benchmark': unknown benchmark 'gpt-j' \\(valid: llama2-70b" run workloads/scenarios/mlperf-llama2-70b-server.yaml --set workload.mlperf.benchmark=gpt-j)
ss_add_cli_fail_test(cli_mlperf_with_arrival "key 'workload.arrival': workload.mlperf sets the arrivals" run workloads/scenarios/mlperf-llama2-70b-server.yaml --set workload.arrival.process=poisson)
# The worked examples run and print what they are for.
add_test(NAME cli_run_classes COMMAND servesim run --builtin chat-and-summarise --out build-test-out/classes)
set_tests_properties(cli_run_classes PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "per class.*chat .*summarise .*overall SLO attainment")
add_test(NAME cli_run_mlperf_valid COMMAND servesim run --builtin mlperf-llama2-70b-server --out build-test-out/mlperf)
set_tests_properties(cli_run_mlperf_valid PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "Scenario : Server.*Completed samples per second.*Result is : VALID.*Min duration satisfied : Yes.*99 percentile First Token latency")
add_test(NAME cli_run_mlperf_invalid COMMAND servesim run --builtin mlperf-llama2-70b-server --out build-test-out/mlperf-short --set workload.num_requests=50)
set_tests_properties(cli_run_mlperf_invalid PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "Result is : INVALID.*Min duration satisfied : NO.*Min queries satisfied : NO.*below min_duration 600 s.*50 queries issued, fewer than min_query_count 100")

# Silent input handling (review of issues 6 and 7): each is an error naming the key or flag.
ss_add_cli_fail_test(cli_cost_capex_and_price "--cost: key 'price_per_hour': give either price_per_hour \\(rent\\) or capex \\(own\\), not both"
  capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --cost capex=25000,price_per_hour=2.5)
ss_add_cli_fail_test(cli_cost_twice "--cost: key 'pue': given twice"
  capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --cost pue=1.2,pue=1.4)
ss_add_cli_fail_test(cli_search_capex_and_price "search_capex_and_price.yaml:12:10: key 'cost.capex': give either price_per_hour \\(rent\\) or capex \\(own\\), not both"
  search tests/data/studies/bad/search_capex_and_price.yaml)
ss_add_cli_fail_test(cli_slo_twice "--slo: key 'ttft_p99': given twice"
  capacity-search tests/data/good/small.yaml --slo ttft_p99=2s,tpot_p99=100ms,ttft_p99=3s)
ss_add_cli_fail_test(cli_arrival_past_time_limit "key 'workload.arrival.rate': arrival 110 of class 'default' \\(poisson\\) would come after the simulator's time limit .* 109 of 300 requests issued"
  run tests/data/good/small.yaml --set workload.arrival.rate=1e-8 --set workload.num_requests=300 --out build-test-out/arrival-limit)
ss_add_cli_fail_test(cli_capacity_key_not_numeric "--key: key 'replica.scheduler': its value 'vllm' is not numeric"
  capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --key replica.scheduler)
ss_add_cli_fail_test(cli_trace_all_malformed "native_all_bad.csv: the trace has no usable rows: all 3 rows malformed \\(skipped\\)"
  run tests/data/good/trace_lenient.yaml --set workload.arrival.file=../traces/native_all_bad.csv --out build-test-out/all-bad)
# A usage error: exit 2 before the report's header is printed.
add_test(NAME cli_capacity_tol_zero COMMAND sh -c
  "mkdir -p build-test-out && $<TARGET_FILE:servesim> capacity-search tests/data/good/small.yaml --slo ttft_p99=2s --tol 0 >build-test-out/tol0.out 2>build-test-out/tol0.err; rc=$?; cat build-test-out/tol0.out build-test-out/tol0.err; [ $rc -eq 2 ] && [ ! -s build-test-out/tol0.out ] && echo 'exit 2, nothing printed'")
set_tests_properties(cli_capacity_tol_zero PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "tol must lie in \\(0, 1\\), got 0.*exit 2, nothing printed")
# servesim run --lenient: the scenario's trace is read leniently, skipped rows counted and
# reported (table and summary.json); without it the same scenario stops at the first bad row.
add_test(NAME cli_run_lenient_flag COMMAND sh -c
  "$<TARGET_FILE:servesim> run tests/data/good/trace_strict.yaml --lenient --out build-test-out/lenient-flag && grep '\"input_rows_skipped\"' build-test-out/lenient-flag/summary.json")
set_tests_properties(cli_run_lenient_flag PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "3 arrived.*6 malformed rows skipped \\(lenient\\).*\"input_rows_skipped\":[ \t]*6")
ss_add_cli_fail_test(cli_run_strict_without_flag "native_lenient.csv:3: field 'prompt_tokens'"
  run tests/data/good/trace_strict.yaml --out build-test-out/strict)
ss_add_cli_fail_test(cli_run_lenient_no_trace "--lenient: the scenario reads no trace or length file"
  run tests/data/good/small.yaml --lenient --out build-test-out/lenient-none)
ss_add_cli_fail_test(cli_run_lenient_short_form "--lenient: workload.trace is the short form"
  run tests/data/bad/trace_bad_row.yaml --lenient --out build-test-out/lenient-short)
# --lenient on more classes than the loader takes: the loader's located error, no overrun of
# --lenient's own list (it adds two overrides per class).
ss_add_cli_fail_test(cli_run_lenient_too_many_classes "too_many_classes_lengths.yaml:75:7: key 'workload.classes': at most 16 classes"
  run tests/data/bad/too_many_classes_lengths.yaml --lenient --out build-test-out/lenient-classes)
