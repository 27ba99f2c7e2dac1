#pragma once

// The state and phases of one conversion on one rank, shared by the files named after
// the phases (prepare, spool_store, process, dedup, assign, write, outputs); convert()
// in converter.cpp runs them in order.

#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "synshard/convert/converter.hpp"
#include "synshard/convert/journal.hpp"
#include "synshard/convert/output_files.hpp"
#include "synshard/convert/outputs.hpp"
#include "synshard/convert/record.hpp"
#include "synshard/corpus/reader.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/h5/shard_writer.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/mpi/count_limit.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/mpi/progress.hpp"
#include "synshard/survey/survey.hpp"
#include "synshard/util/interrupt.hpp"
#include "synshard/util/output_lock.hpp"
#include "synshard/util/progress.hpp"

namespace synshard::convert {

using Clock = std::chrono::steady_clock;
using corpus::Split;

constexpr std::size_t kSplits = 2;

inline std::size_t split_index(Split split) {
    return static_cast<std::size_t>(split);
}

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// What a rank keeps in memory about each image it processed (the pixels are spooled):
// a few dozen bytes, the key in the Conversion's one buffer of keys.
struct LocalImage {
    std::uint32_t spool = 0;  // index into the rank's open spools
    SpoolEntry entry;
    std::uint64_t key_begin = 0;
    std::uint32_t key_size = 0;
    std::int32_t label = 0;
    Split split = Split::train;
    std::uint64_t hash = 0;
    Sha256Digest source_sha256{};
    bool dropped = false;
    std::uint32_t shard = 0;
};

// A copy the duplicate verdicts drop, to be told to the rank that holds it.
struct DuplicateDrop {
    int origin;
    std::uint64_t index;  // into that rank's images
    std::string same_as;
};

// The shard a class's owner assigned to one image of another rank.
struct ShardReply {
    int origin;
    std::uint64_t index;  // into that rank's images
    std::uint32_t shard;
};

struct ShardJob {
    Split split;
    std::uint32_t index;
    std::uint32_t count;
};

// The job's shard file, relative to OUT.
std::string shard_path(const ShardJob& job);

// Where a rank's processed images live: its spool folder <scratch>/synshard-<run id>
// (spool_folder.hpp), in it one folder per source, and there one spool per piece
// ("<begin>-<end>.spool") and, once the piece is complete and synced, its outcome list
// ("<begin>-<end>.done"). A rerun of the same run takes every input found in a .done file
// of its source instead of processing it again, whatever the new pieces are.
// A source's folder in the spool folder.
std::string source_folder_name(const std::string& source);

// The outcome of every input of a complete piece, as its .done file holds it.
struct PieceOutcome {
    struct Image {
        std::string spool_file;  // in the source's folder
        std::string key;
        LocalImage image;
        image::PixelStats sums;  // train images: their record's pixel_sums
    };
    std::vector<Image> images;
    std::vector<Rejection> rejected;
};

// Outcome lists carry a format version and an XXH3-64 checksum over their bytes.
void write_outcome(const std::filesystem::path& path, const PieceOutcome& outcome);
// Throws Error naming the file when it is truncated, fails its checksum or was written by
// another build (the records it lists are not checked here).
PieceOutcome read_outcome(const std::filesystem::path& path);
// Removes every outcome list next to `spool` that refers to it: the inputs they list are
// processed again by the next run.
void discard_outcome_lists_using(const std::filesystem::path& spool) noexcept;

// The --expect-manifest comparison of the shards of `actual` with REF's.
Journal::Expectation compare_with(const std::filesystem::path& reference,
                                  const manifest::Manifest& actual);
// "N shards differ from REF:" and one line per shard.
std::string expectation_failure(const Journal::Expectation& expectation);

OutputFiles output_files(const ConvertOptions& options);
// Throws UsageError naming the first path in OUT that synshard did not write.
void require_only_our_files(const ConvertOptions& options);

// The state of one conversion on one rank.
class Conversion {
  public:
    Conversion(const ConvertOptions& options, const mpi::Comm& comm)
        : options_(options),
          comm_(comm),
          display_(make_progress_display(stdout, options.quiet || !comm.is_root())) {}

    ExitCode run();

  private:
    // Root, before anything is written: check_output(), and OUT's journal, if any, is read.
    void inspect_output();
    // Every check the plan allows before any image is processed (shard counts against
    // the planned images): a UsageError, with nothing written.
    void check_plan();
    // The outcome of the run that finished OUT when it is complete and this run's inputs
    // and options are the same; throws Error naming the change when they are not, or the
    // differences from --expect-manifest.
    std::optional<ExitCode> finished_outcome();
    // Creates OUT, takes its lock, clears it for --restart or decides what of the
    // journaled run is resumed, removes stale files of ours and writes the journal.
    void take_output();
    // Collective, before processing: every rank opens the run's spool folder on its
    // scratch, discarding what it holds unless its header is this run's, and removes the
    // spool folders earlier runs on this OUT left there; other spool folders are reported.
    void open_spool_folder();
    // Collective: every rank removes the run's spool folder from its scratch, and the
    // scratch folder when that leaves it empty; the root removes OUT's archive index.
    void remove_spool_folders(const std::string& run_id);
    // Collective, after a failed phase: the root writes every reject known so far to
    // OUT/rejected.json; returns the failure with a pointer to it.
    mpi::PhaseFailure with_rejects_listed(const mpi::PhaseFailure& failure);
    // Returns false when it stopped before the piece was complete (a signal, or too many
    // rejects): the piece is redone on resume.
    bool process_piece(std::size_t share_index, image::Pipeline& pipeline,
                       mpi::PhaseProgress& progress, mpi::CountLimit& rejects, std::uint64_t& done);
    // The spool record of a processed image, with its pixel sums for a train image.
    ImageRecord record_of(const corpus::Item& item, std::span<const std::uint8_t> source,
                          image::ProcessedImage& processed) const;
    // A complete piece's images and rejections become this rank's, its spool opened for
    // reading.
    void adopt(const std::filesystem::path& folder, PieceOutcome& outcome);
    std::uint32_t open_spool(const std::filesystem::path& path, Spool::Mode mode);
    bool process();
    void find_duplicates();
    // The owner of some digests: groups of identical copies among the records that
    // arrived (recorded as duplicates and leaks), and the copies to drop.
    std::vector<DuplicateDrop> judge_duplicates(
        const std::vector<std::vector<std::uint8_t>>& incoming);
    void assign_shards();
    // The owner of some classes: each member that arrived, ranked by (H, key) within its
    // class and split, gets the shard of its global position.
    std::vector<ShardReply> rank_class_members(
        std::vector<std::vector<std::uint8_t>>& incoming,
        const std::array<std::vector<std::uint64_t>, kSplits>& class_offsets) const;
    bool write_shards();
    // Collective: which shards an earlier run published are kept (1) for `jobs`, given
    // this rank's images of each job: those whose file is intact and to which this run
    // assigns the keys they hold, in their order. Their rows go into the index's key
    // locations; the others leave the journal.
    std::vector<std::uint8_t> kept_shards(
        const std::vector<ShardJob>& jobs,
        const std::vector<std::vector<std::size_t>>& images_of_job);
    // A record that arrived for a shard, its image still in the message it came in.
    struct RoutedRecord {
        ImageRecord record;
        std::span<const std::uint8_t> image;
    };
    // Writes the shard of `job` from the records that arrived for it.
    PublishedShard write_shard(const ShardJob& job, std::vector<RoutedRecord> records,
                               const h5::ClassTable& classes);
    // Collective: the shards published in a round go into the root's journal.
    void record_published(const std::vector<PublishedShard>& published);
    // Collective: the root writes index.h5, manifest.json and the finished journal.
    // Returns the run's exit code on every rank (1 when --expect-manifest differs).
    ExitCode finish();
    // Collective: every rank's outcome goes to the root (its keys into `keys`); other
    // ranks get an empty outcome.
    GatheredOutcome gather_outcome(std::array<h5::KeyLocations, kSplits>& keys);
    void log_summary(manifest::Manifest& result);
    // Collective: the root writes options_.stats (see convert()).
    void write_stats(ExitCode code);

    std::string_view key_of(const LocalImage& image) const {
        return std::string_view(keys_).substr(image.key_begin, image.key_size);
    }
    bool interrupted_everywhere() const { return comm_.max(interrupt_signal() != 0 ? 1 : 0) != 0; }
    void time_phase(const std::string& name, Clock::time_point start) {
        timings_[name] = seconds_since(start);
    }
    std::vector<ShardJob> shard_jobs() const;

    const ConvertOptions& options_;
    const mpi::Comm& comm_;
    std::unique_ptr<ProgressDisplay> display_;
    std::optional<OutputLock> lock_;
    std::optional<Journal> journal_;      // root only
    std::filesystem::path spool_folder_;  // spool_folder(scratch, run id), on every rank
    std::vector<std::unique_ptr<Spool>> spools_;
    std::map<std::filesystem::path, std::uint32_t> spool_index_;
    survey::PlanResult plan_;
    corpus::GzipArchives gzip_archives_;  // what this rank's pieces read a gzipped input through
    std::vector<LocalImage> images_;
    std::string keys_;  // the keys of images_, one after the other
    // Exact sums over the stored pixels of this rank's train images that are not dropped
    // duplicates: mean and std need no rounding until the end, so they do not depend on
    // how images are spread over ranks.
    image::PixelStats train_sums_;
    std::vector<Rejection> rejected_;  // this rank's pipeline and duplicate rejections
    // Of this rank's pipeline rejections, those that count against --max-reject-fraction.
    std::uint64_t counted_rejects_ = 0;
    std::vector<manifest::KeyGroup> duplicates_;  // groups this rank owns
    std::vector<manifest::KeyGroup> leaks_;
    std::array<std::vector<std::uint64_t>, kSplits> class_counts_;  // global survivors
    std::array<std::uint32_t, kSplits> shard_counts_{};
    std::array<h5::KeyLocations, kSplits> locations_;  // of the shards this rank wrote
    std::map<std::string, double> timings_;
    image::StageTimes stage_times_;
    double write_exchange_seconds_ = 0;
    Clock::time_point start_ = Clock::now();
};

}  // namespace synshard::convert
