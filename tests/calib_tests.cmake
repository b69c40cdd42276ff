# Calibration readers (hwprofiles/calib) and `servesim measurements` (included from
# tests/CMakeLists.txt).
# The reader fixtures are hand-written rows, written at test time by tests/data/calib/generate.sh
# (README.md there) into the build-test-out folder, before the tests that read them.
set(CF build-test-out/calib-readers/calib)
set(CB build-test-out/calib-readers/calib_bad)
add_test(NAME calib_readers_fixture
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/data/calib/generate.sh build-test-out/calib-readers)
set_tests_properties(calib_readers_fixture PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  LABELS cli FIXTURES_SETUP calib_readers)
ss_add_unit_test(test_calib ss_calib)

# Bad input: each case fails cleanly, naming file, line and column.
ss_add_cli_fail_test(cli_meas_bad_number "calib_bad/aiconfigurator/h100_sxm/vllm-0.24.0/gemm_perf.csv:3: column 'latency': expected a number, got 'fast'" measurements --source ${CB}/aiconfigurator)
ss_add_cli_fail_test(cli_meas_apex_malformed "reduce_scatter.csv:5: column 'num_gpus_per_node': malformed row.*3 malformed rows in this file \\(lines 5-7\\)" measurements --source ${CB}/apex_plus)
ss_add_cli_fail_test(cli_meas_headerless "infersim/bench_data/mha/decode/h20/8-1-64.csv:1: no header line" measurements --source ${CF}/infersim)
ss_add_cli_fail_test(cli_meas_unknown_format "unknown calibration format 'vidor'.*formats: frontier, vidur" measurements --source vidor:${CF}/vidur)
ss_add_cli_fail_test(cli_meas_unrecognised "README.md: no calibration format recognises this file" measurements --source tests/data/calib/README.md)
ss_add_cli_fail_test(cli_meas_missing "calib/nothere: cannot open" measurements --source ${CF}/nothere)
ss_add_cli_fail_test(cli_meas_no_source "give at least one --source" measurements)
ss_add_cli_fail_test(cli_meas_gpu_filter "no measurement file for GPU 'h200-sxm'" measurements --source ${CF}/aiconfigurator --gpu h200)

# Smoke: every fixture read at once; the report names formats, GPUs and families.
add_test(NAME cli_meas_fixtures COMMAND servesim measurements --lenient --source ${CF}
  --csv build-test-out/measurements.csv)
set_tests_properties(cli_meas_fixtures PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS cli
  PASS_REGULAR_EXPRESSION "format aiconfigurator  gpu h100-sxm  stack nccl-2.29.2  rows 2.*families: allgather 1 alltoall 1.*lenient: 1 files read without their header line")
set_tests_properties(test_calib cli_meas_bad_number cli_meas_apex_malformed cli_meas_headerless
  cli_meas_unknown_format cli_meas_missing cli_meas_gpu_filter cli_meas_fixtures
  PROPERTIES FIXTURES_REQUIRED calib_readers)
add_test(NAME cli_meas_help COMMAND servesim measurements --help)
set_tests_properties(cli_meas_help PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "--source \\[FORMAT:\\]PATH.*llmservingsim")

# The real data (../shared/data), when it is there at configure time: every source folder
# read, row counts checked against its README.
get_filename_component(SS_SHARED_DATA ${PROJECT_SOURCE_DIR}/../shared/data ABSOLUTE)
if(EXISTS ${SS_SHARED_DATA}/README.md)
  add_executable(test_calib_shared unit/test_calib_shared.c)
  target_link_libraries(test_calib_shared PRIVATE ss_calib PkgConfig::CMOCKA)
  add_test(NAME test_calib_shared COMMAND test_calib_shared ${SS_SHARED_DATA})
  set_tests_properties(test_calib_shared PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    LABELS shared_data)
endif()
