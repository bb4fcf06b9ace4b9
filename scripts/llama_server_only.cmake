# Build only llama-server (and the libraries it links) from llama.cpp's source tree.
#
# Passed by scripts/install_local.py as -DCMAKE_PROJECT_INCLUDE=<this file>: CMake reads it
# after each project() call. At the end of the top-level directory, every executable except
# llama-server is taken out of the default build, so the tools oneringai never runs
# (llama-cli, llama-bench, quantize, perplexity, tts, ...) are not compiled; what
# llama-server links is still built because llama-server needs it.

if(NOT CMAKE_CURRENT_SOURCE_DIR STREQUAL CMAKE_SOURCE_DIR OR COMMAND _oneringai_server_only)
  return()
endif()

function(_oneringai_server_only directory)
  get_property(children DIRECTORY "${directory}" PROPERTY SUBDIRECTORIES)
  foreach(child IN LISTS children)
    _oneringai_server_only("${child}")
  endforeach()
  get_property(targets DIRECTORY "${directory}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type "${target}" TYPE)
    if(NOT target STREQUAL "llama-server" AND NOT type STREQUAL "INTERFACE_LIBRARY")
      set_property(TARGET "${target}" PROPERTY EXCLUDE_FROM_ALL TRUE)
    endif()
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _oneringai_server_only "${CMAKE_SOURCE_DIR}")
