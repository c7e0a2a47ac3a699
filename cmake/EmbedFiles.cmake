# skiff_embed_files(OUT_CPP FUNCTION_NAME FILES...)
# Generates OUT_CPP defining
#   std::vector<std::pair<std::string_view, std::string_view>> FUNCTION_NAME()
# returning (file name, contents) for each file, so data files ship inside the binary.
function(skiff_embed_files out_cpp func)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} -DFUNC=${func} "-DFILES=${files}"
            -P ${CMAKE_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    COMMENT "Embedding ${func}")
endfunction()
