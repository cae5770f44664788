# Test helpers shared by every tests/<area>/CMakeLists.txt.

add_library(gort_testhelper STATIC ${PROJECT_SOURCE_DIR}/tests/testhelper.c)
target_compile_definitions(gort_testhelper PRIVATE _GNU_SOURCE)
gort_target_warnings(gort_testhelper)
#
# gort_add_test(NAME name SOURCES a.c ... [LIBS ...] [LABELS ...] [TIMEOUT s]
#               [ARGS ...] [NEEDS_GO] [STATIC])
#   Builds one test executable linked with libgort (shared unless STATIC) and
#   registers it with ctest. NEEDS_GO: the test gets GORT_GO_VALIDATE,
#   GORT_GO_RAW, GORT_GO_TRACE_TOOL and GORT_GO in its environment and is
#   skipped (ctest SKIP_RETURN_CODE 77) when Go 1.22 is absent.
# Every test runs with GORT_TEST_TMPDIR set to a private directory in the
# build tree, and should return 77 to mean "skipped".
function(gort_add_test)
  cmake_parse_arguments(T "NEEDS_GO;STATIC" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${T_NAME} PRIVATE _GNU_SOURCE)
  target_compile_options(${T_NAME} PRIVATE -fno-omit-frame-pointer)
  if(T_STATIC)
    target_link_libraries(${T_NAME} PRIVATE gort_static gort_testhelper ${T_LIBS} Threads::Threads)
  else()
    target_link_libraries(${T_NAME} PRIVATE gort gort_testhelper ${T_LIBS} Threads::Threads)
  endif()
  gort_target_warnings(${T_NAME})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  set(tmp ${CMAKE_BINARY_DIR}/test-tmp/${T_NAME})
  file(MAKE_DIRECTORY ${tmp})
  set(env "GORT_TEST_TMPDIR=${tmp}" "GORT_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "GORT_BINARY_DIR=${CMAKE_BINARY_DIR}")
  if(T_NEEDS_GO)
    list(APPEND env "GORT_GO_VALIDATE=${GORT_GO_VALIDATE}" "GORT_GO_RAW=${GORT_GO_RAW}"
                    "GORT_GO_TRACE_TOOL=${GORT_GO_TRACE_TOOL}" "GORT_GO=${GORT_GO}")
    if(GORT_HAVE_GO122)
      add_dependencies(${T_NAME} gort_go_tools)
    endif()
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${env}" SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()

# gort_add_script_test(NAME name COMMAND ... [LABELS ...] [DEPENDS targets...] [NEEDS_GO])
#   Registers a shell-level test (e.g. running a tool on a trace) with the same
#   environment as gort_add_test.
function(gort_add_script_test)
  cmake_parse_arguments(T "NEEDS_GO" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set(tmp ${CMAKE_BINARY_DIR}/test-tmp/${T_NAME})
  file(MAKE_DIRECTORY ${tmp})
  set(env "GORT_TEST_TMPDIR=${tmp}" "GORT_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "GORT_BINARY_DIR=${CMAKE_BINARY_DIR}"
          "GORT_GO_VALIDATE=${GORT_GO_VALIDATE}" "GORT_GO_RAW=${GORT_GO_RAW}"
          "GORT_GO_TRACE_TOOL=${GORT_GO_TRACE_TOOL}" "GORT_GO=${GORT_GO}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${env}" SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()
