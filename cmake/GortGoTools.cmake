# Go 1.22's own trace reader and validator, built once per build tree from the
# installed Go sources (scripts/install-deps.sh installs golang-1.22-go). They
# are test oracles only: nothing in gort links against or runs Go at run time.
#
# Sets GORT_GO (path to go) and, when found, the build-time targets
#   gort_go_tools  -> ${GORT_GO_TOOLS_DIR}/gotracevalidate, gotraceraw
# Tests that need them call gort_require_go_tools(<test-target>) and read the
# paths from the GORT_GO_VALIDATE / GORT_GO_RAW variables.
find_program(GORT_GO NAMES go PATHS /usr/lib/go-1.22/bin NO_DEFAULT_PATH)
if(NOT GORT_GO)
  find_program(GORT_GO NAMES go-1.22 go)
endif()
set(GORT_GO_TOOLS_DIR ${CMAKE_BINARY_DIR}/gotools)
set(GORT_GO_VALIDATE ${GORT_GO_TOOLS_DIR}/gotracevalidate)
set(GORT_GO_RAW ${GORT_GO_TOOLS_DIR}/gotraceraw)
if(GORT_GO)
  execute_process(COMMAND ${GORT_GO} env GOROOT OUTPUT_VARIABLE GORT_GOROOT OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${GORT_GO} env GOVERSION OUTPUT_VARIABLE GORT_GOVERSION OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
if(GORT_GO AND GORT_GOVERSION MATCHES "^go1\\.22")
  set(GORT_HAVE_GO122 ON)
  set(_goenv ${CMAKE_COMMAND} -E env GOTOOLCHAIN=local GOFLAGS=-mod=mod GOCACHE=${CMAKE_BINARY_DIR}/gocache)
  add_custom_command(OUTPUT ${GORT_GO_VALIDATE} ${GORT_GO_RAW}
    COMMAND ${_goenv} ${GORT_GO} build -o ${GORT_GO_VALIDATE} ./internal/trace/v2/testdata/cmd/gotracevalidate
    COMMAND ${_goenv} ${GORT_GO} build -o ${GORT_GO_RAW} ./internal/trace/v2/testdata/cmd/gotraceraw
    WORKING_DIRECTORY ${GORT_GOROOT}/src
    COMMENT "Building Go 1.22's trace validator (test oracle)")
  add_custom_target(gort_go_tools ALL DEPENDS ${GORT_GO_VALIDATE} ${GORT_GO_RAW})
  set(GORT_GO_TRACE_TOOL ${GORT_GOROOT}/pkg/tool/linux_amd64/trace)
  message(STATUS "gort: Go 1.22 found (${GORT_GOVERSION} at ${GORT_GOROOT}); trace oracle tests enabled")
else()
  set(GORT_HAVE_GO122 OFF)
  message(STATUS "gort: Go 1.22 not found; tests that need Go's trace validator are skipped (run scripts/install-deps.sh)")
endif()
