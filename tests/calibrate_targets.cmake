# Generated from the validation run of 2026-11-27 (calib-acc; H100 GEMM and H20 decode limits from calib-acc2, H100 and A100 decode extrapolation from the decode line continuation, RTX 4090 prefill extrapolation from the prefill prefix line, H100 GEMM extrapolation from the FP8 per-row term; docs/validation.md): per GPU,
# the held-out median and P90 error of the GEMM, attention and MoE families must stay within
# the issue's targets (5 % / 15 %) where they were met, else within 10 % (relative) of the
# figure achieved then. Included by tests/calibrate_tests.cmake when ../shared/data is present.
# rtx-pro-6000@vllm-0.19-eager is left out: its 113,760 mixed-attention rows take over a
# minute per run in a release build (far longer under the sanitizers).
add_test(NAME calib_validate_rtx_4090 COMMAND servesim validate calibration --source ../shared/data/kernels/llmservingsim/RTX4090 --gpu rtx-4090
  --assert attn_decode:extrapolate=0.059,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_mixed:extrapolate=0.071,0.529 --assert attn_mixed:kfold=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.238 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15)
set_tests_properties(calib_validate_rtx_4090 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 9 limits met")
add_test(NAME calib_validate_h100_sxm COMMAND servesim validate calibration --source ../shared/data/kernels/aiconfigurator/h100_sxm --gpu h100-sxm --stack vllm-0.24.0
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.05,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15 --assert moe:extrapolate=0.273,0.673 --assert moe:kfold=0.13,0.387 --assert moe:shapes=0.133,0.4)
set_tests_properties(calib_validate_h100_sxm PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 12 limits met")
add_test(NAME calib_validate_a100_80gb_sxm COMMAND servesim validate calibration --source ../shared/data/kernels/aiconfigurator/a100_sxm --source ../shared/data/kernels/vidur --gpu a100-80gb-sxm --stack vllm-0.14.0
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.068,0.341 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.05,0.15 --assert gemm:extrapolate=0.103,0.317 --assert gemm:kfold=0.06,0.233 --assert gemm:shapes=0.05,0.15)
set_tests_properties(calib_validate_a100_80gb_sxm PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 9 limits met")
add_test(NAME calib_validate_a40 COMMAND servesim validate calibration --source ../shared/data/kernels/vidur --gpu a40
  --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.166)
set_tests_properties(calib_validate_a40 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 3 limits met")
add_test(NAME calib_validate_a800 COMMAND servesim validate calibration --source ../shared/data/kernels/frontier --gpu a800
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_prefill:extrapolate=0.05,0.205 --assert attn_prefill:kfold=0.072,0.235 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.082,0.282)
set_tests_properties(calib_validate_a800 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 7 limits met")
add_test(NAME calib_validate_h20 COMMAND servesim validate calibration --source ../shared/data/kernels/infersim --lenient --gpu h20
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.174 --assert attn_decode:shapes=0.194,0.503 --assert attn_prefill:extrapolate=0.05,0.15 --assert attn_prefill:kfold=0.05,0.15 --assert attn_prefill:shapes=0.078,0.15 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.15 --assert gemm:shapes=0.05,0.15 --assert moe:extrapolate=0.05,0.15 --assert moe:kfold=0.08,0.273 --assert moe:shapes=0.079,0.279)
set_tests_properties(calib_validate_h20 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 12 limits met")
add_test(NAME calib_validate_h800 COMMAND servesim validate calibration --source ../shared/data/kernels/infersim --lenient --gpu h800
  --assert attn_decode:extrapolate=0.05,0.15 --assert attn_decode:kfold=0.05,0.15 --assert attn_decode:shapes=0.05,0.172 --assert gemm:extrapolate=0.05,0.15 --assert gemm:kfold=0.05,0.22 --assert gemm:shapes=0.114,0.769 --assert moe:extrapolate=0.084,0.175 --assert moe:kfold=0.076,0.19 --assert moe:shapes=0.084,0.15)
set_tests_properties(calib_validate_h800 PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} LABELS shared_data
  PASS_REGULAR_EXPRESSION "all 9 limits met")
