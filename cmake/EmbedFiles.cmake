# skiff_embed_files(OUT_CPP FUNCTION_NAME FILES...)
# Generates OUT_CPP defining
#   std::vector<std::pair<std::string_view, std::string_view>> FUNCTION_NAME()
# returning (file name, contents) for each file, so data files ship inside the binary.
function(skiff_embed_files out_cpp func)
  set(files ${ARGN})
  # A list in one argument would reach the shell as several commands: pass it
  # '|'-separated (quoted by VERBATIM) and let the script split it again.
  string(REPLACE ";" "|" files_arg "${files}")
  add_custom_command(
    OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} -DFUNC=${func} "-DFILES=${files_arg}"
            -P ${CMAKE_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    COMMENT "Embedding ${func}"
    VERBATIM)
endfunction()
