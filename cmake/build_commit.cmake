# Writes OUT: a header defining WARDEN_COMMIT (short hash, "-dirty" when tracked files
# differ from it; "unknown" without git). Run at every build (warden_build_info), and the
# header is replaced only when its text changes, so main.cpp recompiles only then. No
# optional locks: a build must never hold the index lock a concurrent `git commit` needs.
execute_process(COMMAND git --no-optional-locks -C "${SRC}" rev-parse --short HEAD OUTPUT_VARIABLE commit
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git --no-optional-locks -C "${SRC}" diff --quiet HEAD -- RESULT_VARIABLE dirty ERROR_QUIET)
  if(NOT dirty EQUAL 0)
    set(commit "${commit}-dirty")
  endif()
endif()
file(WRITE "${OUT}.tmp" "#pragma once\n#define WARDEN_COMMIT \"${commit}\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
