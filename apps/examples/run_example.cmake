# Runs one tour example and checks it, for ctest (apps/examples/CMakeLists.txt):
#   cmake -DEXE=<program> -DARGS=<a|b|...> -DEXPECT=<regex|regex|...> -P run_example.cmake
# The test fails unless the program exits 0 (or 4: skipped, which ctest then reports as Skipped through the
# test's SKIP_REGULAR_EXPRESSION), every EXPECT regex occurs in its output, and every fact it prints in one of
# the two checked forms holds:
#   "max difference <x> (tolerance <t>)"   x <= t   (a NaN never passes)
#   "accuracy <a> (at least <b>)"          a >= b
# With -DPNG=<file> -DPNG_CHECK=<png_check program>, the picture the program drew must also pass png_check
# (it decodes, is at least 64 pixels a side, and is not one flat colour).
# `|` separates list items on the command line (a `;` would be split by the shell or by ctest).
string(REPLACE "|" ";" args "${ARGS}")
string(REPLACE "|" ";" expect "${EXPECT}")
execute_process(COMMAND ${EXE} ${args} OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
message("${out}")
if(rc EQUAL 4)
  return()  # skipped: the program said why ("skipped: ..."), which the test's SKIP_REGULAR_EXPRESSION matches
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited with ${rc} (expected 0)")
endif()
foreach(re IN LISTS expect)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "the output of ${EXE} does not contain /${re}/")
  endif()
endforeach()
set(number "[-+0-9.eEinfa]+")
string(REGEX MATCHALL "max difference ${number} \\(tolerance ${number}\\)" diffs "${out}")
foreach(line IN LISTS diffs)
  string(REGEX MATCH "max difference (${number}) \\(tolerance (${number})\\)" _ "${line}")
  if(NOT CMAKE_MATCH_1 LESS_EQUAL CMAKE_MATCH_2)
    message(FATAL_ERROR "${EXE}: '${line}' is over its tolerance")
  endif()
endforeach()
string(REGEX MATCHALL "accuracy ${number} \\(at least ${number}\\)" accs "${out}")
foreach(line IN LISTS accs)
  string(REGEX MATCH "accuracy (${number}) \\(at least (${number})\\)" _ "${line}")
  if(NOT CMAKE_MATCH_1 GREATER_EQUAL CMAKE_MATCH_2)
    message(FATAL_ERROR "${EXE}: '${line}' is below its bound")
  endif()
endforeach()
if(PNG)
  execute_process(COMMAND ${PNG_CHECK} ${PNG} 64 OUTPUT_VARIABLE png_out ERROR_VARIABLE png_out RESULT_VARIABLE png_rc)
  message("${png_out}")
  if(NOT png_rc EQUAL 0)
    message(FATAL_ERROR "the picture ${PNG} that ${EXE} drew fails png_check")
  endif()
endif()
list(LENGTH diffs n_diffs)
list(LENGTH accs n_accs)
message("checked: exit status 0, ${n_diffs} differences within tolerance, ${n_accs} accuracies above their bounds")
