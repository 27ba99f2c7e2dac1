#pragma once

// What verify()'s checks share, and the root's checks of the manifest (manifest_checks.cpp),
// index.h5 (index_checks.cpp) and the gathered tallies (tally_checks.cpp); check_shard
// (shard_checks.cpp) is in verify.hpp. verify() in verify.cpp deals them out.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "synshard/manifest/manifest.hpp"
#include "synshard/reader/index_reader.hpp"
#include "synshard/verify/verify.hpp"

namespace synshard::verify {

// A corrupted shard can be wrong in every row; the list stays readable.
constexpr std::size_t kMaxProblemsPerShard = 20;

// Collects one file's problems, keeping the first kMaxProblemsPerShard.
class ProblemList {
  public:
    ProblemList(std::string file, Report& report) : file_(std::move(file)), report_(report) {}
    ~ProblemList() {
        if (dropped_ > 0) {
            report_.problems.push_back(
                {file_, "... and " + std::to_string(dropped_) + " more problems"});
        }
    }
    ProblemList(const ProblemList&) = delete;
    ProblemList& operator=(const ProblemList&) = delete;

    void add(const std::string& what) {
        if (kept_ == kMaxProblemsPerShard) {
            ++dropped_;
            return;
        }
        ++kept_;
        report_.problems.push_back({file_, what});
    }

  private:
    std::string file_;
    Report& report_;
    std::size_t kept_ = 0;
    std::uint64_t dropped_ = 0;
};

template <class T>
std::string mismatch(const std::string& what, const T& expected, const T& actual) {
    std::ostringstream text;
    text << what << " is " << actual << ", expected " << expected;
    return text.str();
}

// What index.h5 says, as far as this rank needs it.
struct IndexView {
    bool readable = false;
    std::string encoding;
    h5::ClassTable classes;
    std::map<std::string, std::vector<h5::KeyLocation>> keys;  // split -> every key
};

// Every section of manifest.json against its recorded digest.
void check_digests(const manifest::Json& document, Report& report);

// The first path in OUT that synshard did not write, if any: the rule convert applies
// before it writes (the default scratch folder, OUT/.scratch, is ours).
std::optional<std::filesystem::path> foreign_path(const std::filesystem::path& output,
                                                  Report& report);

// The manifest's own consistency, and shard files on disk that it does not list.
void check_manifest(const std::filesystem::path& output, const manifest::Manifest& manifest,
                    const std::optional<std::filesystem::path>& foreign, Report& report);

// What the manifest says about the inputs that are in no shard: kept + rejected =
// scanned, each reject once and in no split, every dropped duplicate in a duplicates
// group, every leak group a duplicates group, every grouped key kept or rejected. The
// kept keys are the index's (`index` null when it is unreadable).
void check_accounting(const manifest::Manifest& manifest, const IndexView* index, Report& report);

// Every shard's sha256 against a reference run's manifest (as convert --expect-manifest).
void check_expectation(const std::filesystem::path& reference, const manifest::Manifest& manifest,
                       Report& report);

// index.h5 against the manifest: size and sha256, splits, shard lists, counts, keys
// sorted and unique, label scheme, class table; and its hierarchy against its classes.
void check_index(const std::filesystem::path& output, const reader::IndexReader& index,
                 const IndexView& view, const manifest::Manifest& manifest, Report& report);

// The shards' tallies against the manifest's claims: each class's counts and, when every
// train image was summed, the stats (within manifest::kStatsMeanTolerance and
// kStatsStdTolerance).
void check_tally(const manifest::Manifest& manifest, const Tally& tally,
                 const VerifyOptions& options, Report& report);

}  // namespace synshard::verify
