# src/stack: optional libdw (elfutils) for symbolization (function, file,
# line). Without it the symbolizer falls back to dladdr (function, module, 0).
option(GORT_USE_LIBDW "Symbolize stacks with libdw when it is installed (else dladdr)" ON)
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND AND GORT_USE_LIBDW)
  pkg_check_modules(GORT_LIBDW QUIET libdw)
endif()
if(GORT_LIBDW_FOUND)
  # Plain library names (not the imported target) so that the exported
  # gort_static link interface needs nothing from pkg-config at use time.
  list(APPEND GORT_LIB_PRIVATE_LIBS ${GORT_LIBDW_LIBRARIES})
  list(APPEND GORT_LIB_PRIVATE_DEFS GORT_HAVE_LIBDW=1)
  string(APPEND GORT_PC_PRIVATE_LIBS " -ldw -lelf")
  message(STATUS "gort: libdw ${GORT_LIBDW_VERSION} found; stacks are symbolized with file and line")
else()
  message(STATUS "gort: libdw not used; stacks are symbolized with dladdr (no file/line)")
endif()

