#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace synshard::convert {

// The layout of what a spool folder holds (records, outcome lists, this header): a
// folder of another layout is never read.
inline constexpr int kSpoolFormatVersion = 3;

// What made a spool folder, in its header file: a run uses the spools of a folder only
// when the whole header equals its own.
struct SpoolHeader {
    int format_version = kSpoolFormatVersion;
    std::string run_id;
    nlohmann::ordered_json processing_options = nlohmann::ordered_json::object();
    std::string resume_fingerprint;  // manifest::digest() of the run's
    // The canonical OUT of the run that made the folder. Not compared (a moved OUT keeps
    // its spools through its journal's run id): it tells whose leftover the folder is.
    std::string output;

    bool same_run(const SpoolHeader& other) const {
        return format_version == other.format_version && run_id == other.run_id &&
               processing_options == other.processing_options &&
               resume_fingerprint == other.resume_fingerprint;
    }
};

// <scratch>/synshard-<run id>.
std::filesystem::path spool_folder(const std::filesystem::path& scratch, const std::string& run_id);

// The header file in a spool folder.
std::filesystem::path spool_header_path(const std::filesystem::path& folder);

// nullopt when the folder has no header; Error naming the file when it is torn, fails its
// checksum or is not a header.
std::optional<SpoolHeader> read_spool_header(const std::filesystem::path& folder);

// Creates the header file, durably, unless it exists (ranks sharing a scratch folder all
// call this with the same header: the first one writes it).
void create_spool_header(const std::filesystem::path& folder, const SpoolHeader& header);

// A spool folder in a scratch folder that is not the run's own.
struct OtherSpoolFolder {
    std::filesystem::path path;
    std::optional<SpoolHeader> header;  // nullopt: none, or unreadable
    std::uint64_t bytes = 0;            // of the regular files in it
};

// Every spool folder ("synshard-<16 hex digits>") in scratch but `own`, by name.
std::vector<OtherSpoolFolder> other_spool_folders(const std::filesystem::path& scratch,
                                                  const std::filesystem::path& own);

}  // namespace synshard::convert
