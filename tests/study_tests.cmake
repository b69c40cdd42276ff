# Studies, sweeps, MPI and the Pareto frontier (included from tests/CMakeLists.txt).
ss_add_unit_test(test_study ss_study)
ss_add_unit_test(test_pareto ss_study)
ss_add_unit_test(test_sweep ss_cli)

set(ST tests/data/studies)
set(SWEEP_OUT build-test-out/sweep-identity)

# Serial, multi-process and MPI runs of one study give identical canonical dumps.
set(SS_TEST_MPIRUN "")
if(SS_MPI AND MPIEXEC_EXECUTABLE)
  set(SS_TEST_MPIRUN ${MPIEXEC_EXECUTABLE})
endif()
add_test(NAME cli_sweep_identity
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/sweep_identity.sh $<TARGET_FILE:servesim>
          ${ST}/small-sweep.yaml ${SWEEP_OUT})
# Open MPI keeps some allocations until exit by design. Under the sanitizers its own leaks
# are suppressed (tests/lsan-openmpi.supp), which needs symbolised stacks: its plug-ins stay
# loaded (disable_dlclose) and stacks are unwound fully, not by frame pointers.
set(SWEEP_ENV "OMPI_MCA_mca_base_component_disable_dlclose=1")
if(SS_SANITIZE)
  list(APPEND SWEEP_ENV
    "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan-openmpi.supp:print_suppressions=0"
    "ASAN_OPTIONS=fast_unwind_on_malloc=0")
endif()
set_tests_properties(cli_sweep_identity PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS "cli;sweep" TIMEOUT 400 FIXTURES_SETUP sweepdb ENVIRONMENT "${SWEEP_ENV}"
  PASS_REGULAR_EXPRESSION "serial and 2 workers: identical")
# The MPI comparison: built with MPI, it must run and match ("3 MPI ranks"); without MPI the
# test is reported as skipped (exit 77), never as a pass.
if(SS_TEST_MPIRUN)
  add_test(NAME cli_sweep_identity_mpi
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/sweep_identity.sh $<TARGET_FILE:servesim>
            ${ST}/small-sweep.yaml build-test-out/sweep-identity-mpi ${SS_TEST_MPIRUN})
  set_tests_properties(cli_sweep_identity_mpi PROPERTIES
    PASS_REGULAR_EXPRESSION "serial, 2 workers and 3 MPI ranks: identical"
    ENVIRONMENT "${SWEEP_ENV}")
elseif(SS_MPI)
  # built with MPI but nothing to launch it with: a failure, not a skip
  add_test(NAME cli_sweep_identity_mpi
    COMMAND sh -c "echo 'built with SS_MPI but no mpiexec was found: cannot check MPI identity'; exit 1")
else()
  add_test(NAME cli_sweep_identity_mpi
    COMMAND sh -c "echo 'MPI not built (SS_MPI off): MPI identity not checked'; exit 77")
  set_tests_properties(cli_sweep_identity_mpi PROPERTIES SKIP_RETURN_CODE 77)
endif()
set_tests_properties(cli_sweep_identity_mpi PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS "cli;sweep" TIMEOUT 400)

add_test(NAME cli_run_replication
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/replication.sh $<TARGET_FILE:servesim>
          build-test-out/replication)
set_tests_properties(cli_run_replication PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS cli PASS_REGULAR_EXPRESSION "replication 1 differs")

# The frontier table, and the plot (PNG + SVG) when gnuplot is installed.
add_test(NAME cli_pareto_table COMMAND servesim pareto ${SWEEP_OUT}/j1/sweep.db --all)
set_tests_properties(cli_pareto_table PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS cli FIXTURES_REQUIRED sweepdb
  PASS_REGULAR_EXPRESSION "Pareto frontier of sweep 'small-sweep': [1-4] of 4 points.*QPS.*TTFT P50.*TTFT P99.*TPOT P50.*\\*")
add_test(NAME cli_pareto_plot
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/pareto_plot.sh $<TARGET_FILE:servesim>
          ${SWEEP_OUT}/j1/sweep.db build-test-out/pareto-plot)
set_tests_properties(cli_pareto_plot PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS cli FIXTURES_REQUIRED sweepdb SKIP_RETURN_CODE 77)
ss_add_cli_fail_test(cli_pareto_no_gnuplot "cannot plot: gnuplot was not found on PATH"
  pareto ${SWEEP_OUT}/j1/sweep.db --plot build-test-out/pareto-nognuplot.png)
set_tests_properties(cli_pareto_no_gnuplot PROPERTIES FIXTURES_REQUIRED sweepdb
  ENVIRONMENT "SERVESIM_GNUPLOT=/nonexistent/gnuplot")
ss_add_cli_fail_test(cli_pareto_unknown_metric "unknown metric 'ttft_p98'"
  pareto ${SWEEP_OUT}/j1/sweep.db --y ttft_p98)
ss_add_cli_fail_test(cli_pareto_no_direction "say which with --y-max or --y-min"
  pareto ${SWEEP_OUT}/j1/sweep.db --y gpus)
set_tests_properties(cli_pareto_unknown_metric cli_pareto_no_direction PROPERTIES
  FIXTURES_REQUIRED sweepdb)
ss_add_cli_fail_test(cli_pareto_not_db "not a sweep database|file is not a database"
  pareto tests/data/good/small.yaml)
ss_add_cli_fail_test(cli_pareto_missing "nothere.db: cannot open file" pareto nothere.db)
ss_add_cli_fail_test(cli_sweep_dump_not_db "not a sweep database|file is not a database"
  sweep-dump tests/data/good/small.yaml)

# Bad studies: file:line:col: key 'k': message, non-zero exit, no crash.
ss_add_cli_fail_test(cli_study_typo "bad_typo.yaml:3:3: key 'study.replicatons': unknown key"
  sweep ${ST}/bad_typo.yaml --out build-test-out/bad-sweep)
ss_add_cli_fail_test(cli_study_type "bad_type.yaml:3:17: key 'study.replications': expected an integer"
  sweep ${ST}/bad_type.yaml --out build-test-out/bad-sweep)
ss_add_cli_fail_test(cli_study_empty_axis "bad_empty_axis.yaml:4:28: key 'study.axes.workload.arrival.rate': empty axis"
  sweep ${ST}/bad_empty_axis.yaml --out build-test-out/bad-sweep)
ss_add_cli_fail_test(cli_study_scenario_key "bad_scenario_key.yaml:5:27: key 'replica.max_num_seq': point 0 .*unknown key"
  sweep ${ST}/bad_scenario_key.yaml --out build-test-out/bad-sweep)
ss_add_cli_fail_test(cli_study_value "bad_value.yaml:4:31: key 'replica.scheduler': point 1 \\(replica.scheduler=fastest\\): unknown scheduler"
  sweep ${ST}/bad_value.yaml --out build-test-out/bad-sweep)
ss_add_cli_fail_test(cli_study_missing "nothere.yaml: cannot open file"
  sweep ${ST}/nothere.yaml)
ss_add_cli_fail_test(cli_sweep_bad_jobs "-j expects a number of workers" sweep ${ST}/small-sweep.yaml -j 0)
ss_add_cli_fail_test(cli_sweep_no_study "expected one study file" sweep)
ss_add_cli_fail_test(cli_sweep_print_run_range "the study has points 0..3"
  sweep ${ST}/small-sweep.yaml --print-run 4)
ss_add_cli_fail_test(cli_run_bad_replication "--replication expects an integer" run --replication x)

# The worked example of docs/sweeps.md is a valid study.
add_test(NAME cli_sweep_example_check COMMAND servesim sweep docs/examples/rate-sweep.yaml --check)
add_test(NAME cli_sweep_print_run COMMAND servesim sweep ${ST}/small-sweep.yaml --print-run 1:1)
set_tests_properties(cli_sweep_example_check cli_sweep_print_run PROPERTIES
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli)
set_tests_properties(cli_sweep_example_check PROPERTIES
  PASS_REGULAR_EXPRESSION "is valid: 40 points x 3 replications")
set_tests_properties(cli_sweep_print_run PROPERTIES
  PASS_REGULAR_EXPRESSION "servesim run '.*small.yaml' --set 'workload.arrival.rate=5' --set 'replica.scheduler=sarathi' --set 'workload.num_requests=150' --set 'cluster.pools\\[0\\].hardware=rtx-4090' --seed 7 --replication 1")

# Issue 5: the calibration status of every configuration in sweep.db, pareto, capacity-search
# and search outputs (table, JSON, SQLite).
add_test(NAME cli_study_calibration_status
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/calibration_outputs.sh $<TARGET_FILE:servesim>
          build-test-out/calibration-outputs)
set_tests_properties(cli_study_calibration_status PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS cli PASS_REGULAR_EXPRESSION "calibration status in every study output \\(SQLite columns checked\\)")

# Issue 6: sweep.db holds the MLPerf figures, so the highest VALID target_qps is a query
# (point 0, qps 10, is VALID; point 1, qps 40, is not).
add_test(NAME cli_sweep_mlperf_valid COMMAND sh -c
  "rm -rf build-test-out/mlperf-qps && $<TARGET_FILE:servesim> sweep tests/data/studies/mlperf-qps.yaml --out build-test-out/mlperf-qps --quiet >/dev/null && $<TARGET_FILE:servesim> sweep-dump build-test-out/mlperf-qps/sweep.db | grep -E '^[01]\\|0\\|mlperf\\.(valid|completed_samples_per_s|ttft_s\\.p99)\\|'")
set_tests_properties(cli_sweep_mlperf_valid PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS "cli;sweep"
  PASS_REGULAR_EXPRESSION "0\\|0\\|mlperf.completed_samples_per_s\\|[0-9.]+.*0\\|0\\|mlperf.valid\\|1\n.*1\\|0\\|mlperf.valid\\|0\n")
ss_add_cli_fail_test(cli_pareto_nothing_to_plot "cannot plot: none of the 4 points has both x \\(throughput.output_tokens_per_s_per_gpu\\) and y \\(slo.attainment\\) defined"
  pareto ${SWEEP_OUT}/j1/sweep.db --y slo.attainment --plot build-test-out/pareto-nothing.png)
set_tests_properties(cli_pareto_nothing_to_plot PROPERTIES FIXTURES_REQUIRED sweepdb)

# Worked example of docs/sweeps.md#concurrency-sweep: closed-loop clients 1..64 on the
# default model, run whole (21 runs); the table lists every concurrency, throughput rising.
add_test(NAME cli_concurrency_sweep_example COMMAND sh -c
  "rm -rf build-test-out/concurrency-sweep && $<TARGET_FILE:servesim> sweep docs/examples/concurrency-sweep.yaml --out build-test-out/concurrency-sweep --quiet >/dev/null && $<TARGET_FILE:servesim> pareto build-test-out/concurrency-sweep/sweep.db --all && $<TARGET_FILE:servesim> sweep-dump build-test-out/concurrency-sweep/sweep.db | awk -F'|' 'NF == 6 && $2 == \"throughput.output_tokens_per_s\" { if ($4 > prev) up++; prev = $4 } END { print \"rising: \" up }'")
set_tests_properties(cli_concurrency_sweep_example PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS "cli;sweep" TIMEOUT 300
  PASS_REGULAR_EXPRESSION "concurrency-sweep': [1-7] of 7 points.*conc 1 .*conc 2 .*conc 4 .*conc 8 .*conc 16 .*conc 32 .*conc 64 .*rising: 7")
