# The held-out limits of `servesim validate calibration` per calibrated GPU and stack (the
# sources of hwprofiles/calibrated/regenerate.sh), written by tests/calibrate_targets.sh
# (docs/validation.md): per family and scheme, the issue's targets (median 5 %, P90 15 %)
# where they are met, else the figure then plus 10 % (relative), so a regression fails and
# the gap stays visible. Included by tests/calibrate_tests.cmake when ../shared/data is present.
add_test(NAME calib_validate_rtx_4090 COMMAND servesim validate calibration --source ../shared/data/kernels/llmservingsim/RTX4090 --gpu rtx-4090
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_mixed:extrapolate=0.071,0.529 --assert attn_mixed:kfold=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.238 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15)
set_tests_properties(calib_validate_rtx_4090 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 9 limits met")
add_test(NAME calib_validate_h100_sxm COMMAND servesim validate calibration --source ../shared/data/kernels/aiconfigurator/h100_sxm --gpu h100-sxm --stack vllm-0.24.0
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.05,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15 --assert moe:extrapolate=0.114,0.467 --assert moe:kfold=0.05,0.198 --assert moe:shapes=0.05,0.17)
set_tests_properties(calib_validate_h100_sxm PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 12 limits met")
add_test(NAME calib_validate_h200_sxm COMMAND servesim validate calibration --source ../shared/data/kernels/aiconfigurator/h200_sxm --gpu h200-sxm --stack vllm-0.24.0
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.05,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15 --assert moe:extrapolate=0.106,0.485 --assert moe:kfold=0.05,0.207 --assert moe:shapes=0.05,0.181)
set_tests_properties(calib_validate_h200_sxm PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 12 limits met")
add_test(NAME calib_validate_a100_80gb_sxm COMMAND servesim validate calibration --source ../shared/data/kernels/aiconfigurator/a100_sxm --source ../shared/data/kernels/vidur --gpu a100-80gb-sxm --stack vllm-0.14.0
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.05,0.15 --assert gemm:extrapolate=0.071,0.26 --assert gemm:kfold=0.06,0.233 --assert gemm:shapes=0.05,0.15)
set_tests_properties(calib_validate_a100_80gb_sxm PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 9 limits met")
add_test(NAME calib_validate_a100_80gb_sxm_vidur COMMAND servesim validate calibration --source ../shared/data/kernels/vidur --gpu a100-80gb-sxm --stack vidur-sarathi
  --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15)
set_tests_properties(calib_validate_a100_80gb_sxm_vidur PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 3 limits met")
add_test(NAME calib_validate_h100_sxm_vidur COMMAND servesim validate calibration --source ../shared/data/kernels/vidur --source ../shared/data/kernels/aiconfigurator/h100_sxm --source ../shared/data/kernels/apex_plus --lenient --gpu h100-sxm --stack vidur-sarathi
  --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.056,0.168)
set_tests_properties(calib_validate_h100_sxm_vidur PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 3 limits met")
add_test(NAME calib_validate_a40 COMMAND servesim validate calibration --source ../shared/data/kernels/vidur --gpu a40
  --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15)
set_tests_properties(calib_validate_a40 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 3 limits met")
add_test(NAME calib_validate_a800 COMMAND servesim validate calibration --source ../shared/data/kernels/frontier --gpu a800
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.056,0.15)
set_tests_properties(calib_validate_a800 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 7 limits met")
add_test(NAME calib_validate_rtx_pro_6000_eager COMMAND servesim validate calibration --source ../shared/data/kernels/llmservingsim/RTXPRO6000 --source ../shared/data/kernels/aiconfigurator/rtx_pro_6000_server/nccl-2.29.2 --gpu rtx-pro-6000 --stack vllm-0.19-eager
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.05,0.15 --assert attn_mixed:extrapolate=0.158,0.6 --assert attn_mixed:kfold=0.05,0.15 --assert attn_mixed:shapes=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.05,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15 --assert moe:extrapolate=0.177,0.228 --assert moe:kfold=0.064,0.21)
set_tests_properties(calib_validate_rtx_pro_6000_eager PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 14 limits met")
add_test(NAME calib_validate_rtx_pro_6000 COMMAND servesim validate calibration --source ../shared/data/kernels/aiconfigurator/rtx_pro_6000_server --gpu rtx-pro-6000 --stack vllm-0.19.0
  --assert attn_decode:extrapolate=0.063,0.199 --assert attn_decode:kfold=0.05,0.179 --assert attn_decode:shapes=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.05,0.15 --assert gemm:extrapolate=0.05,0.256 --assert gemm:kfold=0.05,0.19 --assert gemm:shapes=0.05,0.169 --assert moe:extrapolate=0.077,0.245 --assert moe:kfold=0.05,0.15 --assert moe:shapes=0.05,0.277)
set_tests_properties(calib_validate_rtx_pro_6000 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 12 limits met")
add_test(NAME calib_validate_h20 COMMAND servesim validate calibration --source ../shared/data/kernels/infersim --lenient --gpu h20
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.166 --assert attn_decode:shapes=0.116,0.512 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.093,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15 --assert moe:extrapolate=0.05,0.15 --assert moe:kfold=0.074,0.261 --assert moe:shapes=0.07,0.279)
set_tests_properties(calib_validate_h20 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 12 limits met")
add_test(NAME calib_validate_h800 COMMAND servesim validate calibration --source ../shared/data/kernels/infersim --lenient --gpu h800
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.05,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.22 --assert gemm:shapes=0.121,0.329 --assert moe:extrapolate=0.059,0.15 --assert moe:kfold=0.057,0.233 --assert moe:shapes=0.065,0.169)
set_tests_properties(calib_validate_h800 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 9 limits met")
