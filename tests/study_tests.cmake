# Studies, sweeps, MPI and the Pareto frontier (included from tests/CMakeLists.txt).
ss_add_unit_test(test_study ss_study)
