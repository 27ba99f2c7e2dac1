// The walks of the --input archive's inner tars (a tar of per-synset tars), saved so that
// a resume or a later run reads no inner header again. Private to survey/: survey.cpp
// loads them while scanning and saves them once every rank has scanned.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "sources.hpp"
#include "synshard/corpus/archive_input.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/mpi/comm.hpp"

namespace synshard::survey {

// Where the walks are saved; nowhere without an index or for a folder.
std::optional<std::filesystem::path> inner_listings_path(const corpus::CorpusOptions& options);

bool is_inner_tar(const corpus::Source& source);
corpus::InnerTar inner_tar_of(const corpus::Source& source);

// What the saved walks are bound to: every inner tar of the archive as discovered now.
std::string inner_tars_digest(const Inputs& inputs);

// Collective. `walks_here`: the walks this rank made (emptied as they are sent);
// `saved_walks`: how many this rank found saved. The root saves them all unless none was
// walked.
void save_inner_walks(std::map<corpus::InnerTar, std::string>& walks_here,
                      std::uint64_t saved_walks, const Inputs& inputs,
                      const corpus::CorpusOptions& options, std::uint64_t round_bytes,
                      const mpi::Comm& comm);

}  // namespace synshard::survey
