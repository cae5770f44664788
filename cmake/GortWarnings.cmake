# Warning flags for every gort target (Lua's makefile lists its own the same way).
# -Werror is added by GORT_WERROR (CI turns it on). Sanitizer flags are global so
# that tests, tools and the library agree.
set(GORT_WARNING_FLAGS
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wwrite-strings -Wformat=2 -Wundef -Wvla)
if(GORT_WERROR)
  list(APPEND GORT_WARNING_FLAGS -Werror)
endif()
function(gort_target_warnings target)
  target_compile_options(${target} PRIVATE ${GORT_WARNING_FLAGS})
endfunction()

if(GORT_SANITIZE)
  add_compile_options(-fsanitize=${GORT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${GORT_SANITIZE})
  add_compile_definitions(GORT_SANITIZE_BUILD=1)
endif()
