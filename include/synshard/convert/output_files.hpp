#pragma once

#include <filesystem>
#include <optional>
#include <vector>

namespace synshard::convert {

// Which paths in an output folder OUT are synshard's, so that a conversion deletes or
// overwrites only what it can prove it wrote. A path is ours when its name is one
// synshard writes:
// - at OUT's top: manifest.json, index.h5, rejected.json, the journal, the lock file and
//   the archive index with its listings (below), each also as "<name>.tmp" (a write cut
//   short);
// - train/ and val/ holding only shard files of their split ("train-00000-of-00004.h5")
//   and their ".tmp";
// - a scratch folder (OUT/.scratch, or the --scratch folder when it lies in OUT) holding
//   only spool folders "synshard-<16 hex digits>", whatever those hold.
// Leftovers of a killed run are ours by this rule, whatever the journal says. A symbolic
// link is never ours (synshard writes none).
// Paths are canonical (see canonical_path()), so that they compare as names.
struct OutputFiles {
    std::filesystem::path output;
    // The run's --scratch folder, ours when it lies inside OUT (or is OUT itself).
    std::filesystem::path scratch;
    // A file the user named for this run (--stats) may lie in OUT: it is neither ours nor
    // in the way.
    std::optional<std::filesystem::path> user_file;
};

// The name of the list of rejects a failed run leaves in OUT.
inline constexpr const char* kRejectedFileName = "rejected.json";

// Where the index of an archive --input is kept when --archive-index names no file (a
// gzipped one's seek index, with its inner walks beside it; a plain one's inner walks):
// scratch, but in OUT rather than the scratch folder, which may be a node's own disk while
// every rank reads the index the root saves. It outlives a run cut short (a resume loads
// it instead of inflating the archive or walking its inner tars again) and goes with the
// spool folders when the run is complete.
inline constexpr const char* kArchiveIndexFileName = "archive.index";

// Whether name is a spool folder's name, "synshard-" and 16 lower-case hex digits.
bool is_spool_folder_name(const std::string& name);

// The first path in OUT (depth first, in name order) that is not ours, or nullopt when
// OUT holds only our files or does not exist. Throws Error when OUT cannot be listed.
std::optional<std::filesystem::path> first_foreign_path(const OutputFiles& files);

// Removes a spool folder "<scratch>/synshard-<id>": the spools and outcome lists
// (".spool", ".done" and its ".tmp") in its per-source folders, then each folder once
// empty, and its header. Anything else stays, and so do the folders holding it. Ranks
// sharing a scratch folder may remove the same spool folder at once.
void remove_spool_folder(const std::filesystem::path& folder);

// Removes every file of ours in OUT, one by one, and each of our folders once it is empty;
// the lock file stays (its holder keeps it open), and so does the archive index with its
// listings (the plan of the run calling this has just built or checked them against the
// archive; remove_archive_index() removes them). Leaves any foreign path and the folders
// holding one: callers check first_foreign_path() before. Throws Error naming the path
// that cannot be removed.
void remove_our_files(const OutputFiles& files);

// Removes OUT's archive index and its listings (kArchiveIndexFileName), if any.
void remove_archive_index(const std::filesystem::path& output);

// Removes a finished output folder whole when it holds only our files (its lock too):
// for outputs a tool of ours made and no longer needs (the bench's). Throws Error naming
// the first foreign path, having removed nothing.
void remove_output_folder(const OutputFiles& files);

// Removes the stale files of ours in OUT before a run writes: temporary files (writes
// cut short), shard files not in `published` (paths relative to OUT, as journaled:
// shards of an earlier assignment, or renamed but never journaled by a killed run) and
// an earlier failed run's rejected.json.
void remove_stale_files(const std::filesystem::path& output,
                        const std::vector<std::string>& published);

}  // namespace synshard::convert
