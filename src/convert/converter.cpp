#include "synshard/convert/converter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "synshard/convert/journal.hpp"
#include "synshard/convert/output_files.hpp"
#include "synshard/convert/record.hpp"
#include "synshard/corpus/reader.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/h5/shard_writer.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/mpi/count_limit.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/mpi/progress.hpp"
#include "synshard/plan/plan.hpp"
#include "synshard/plan/shards.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/interrupt.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/memory.hpp"
#include "synshard/util/output_lock.hpp"

namespace synshard::convert {
namespace {

using Clock = std::chrono::steady_clock;
using corpus::Split;

// One message per rank for Comm::all_to_all, taken from the writers without a copy.
std::vector<std::vector<std::uint8_t>> messages_of(std::vector<ByteWriter>& writers) {
    std::vector<std::vector<std::uint8_t>> messages;
    messages.reserve(writers.size());
    for (auto& writer : writers) messages.push_back(std::move(writer.buffer()));
    return messages;
}

constexpr std::size_t kSplits = 2;

std::size_t split_index(Split split) {
    return static_cast<std::size_t>(split);
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

struct ShardJob {
    Split split;
    std::uint32_t index;
    std::uint32_t count;
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::uint64_t leading_u64(const Sha256Digest& digest) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | digest[static_cast<std::size_t>(i)];
    return value;
}

void write_rejections(ByteWriter& writer, const std::vector<Rejection>& rejections) {
    writer.put<std::uint64_t>(rejections.size());
    for (const auto& rejection : rejections) {
        writer.put_string(rejection.key);
        writer.put<std::uint8_t>(static_cast<std::uint8_t>(rejection.reason));
        writer.put_string(rejection.detail);
    }
}

std::vector<Rejection> read_rejections(ByteReader& reader) {
    std::vector<Rejection> rejections(reader.get<std::uint64_t>());
    for (auto& rejection : rejections) {
        rejection.key = reader.get_string();
        rejection.reason = static_cast<Reason>(reader.get<std::uint8_t>());
        rejection.detail = reader.get_string();
    }
    return rejections;
}

void write_groups(ByteWriter& writer, const std::vector<manifest::KeyGroup>& groups) {
    writer.put<std::uint64_t>(groups.size());
    for (const auto& group : groups) {
        writer.put_string(group.source_sha256);
        writer.put<std::uint64_t>(group.keys.size());
        for (const auto& key : group.keys) writer.put_string(key);
    }
}

std::vector<manifest::KeyGroup> read_groups(ByteReader& reader) {
    std::vector<manifest::KeyGroup> groups(reader.get<std::uint64_t>());
    for (auto& group : groups) {
        group.source_sha256 = reader.get_string();
        group.keys.resize(reader.get<std::uint64_t>());
        for (auto& key : group.keys) key = reader.get_string();
    }
    return groups;
}

// Where a rank's processed images live: <scratch>/synshard-<hash of OUT>/<source>/, one
// spool per piece ("<begin>-<end>.spool") and, once the piece is complete and synced,
// its outcome list ("<begin>-<end>.done"). A rerun takes every input found in a .done
// file of its source instead of processing it again, whatever the new pieces are.
std::filesystem::path spool_root(const ConvertOptions& options) {
    const auto output = canonical_path(options.output).string();
    char name[32];
    std::snprintf(name, sizeof name, "synshard-%016llx",
                  static_cast<unsigned long long>(keyed_hash(0, output)));
    return options.scratch / name;
}

std::string source_folder_name(const std::string& source) {
    std::string name = source;
    std::replace(name.begin(), name.end(), '/', '_');
    return name;
}

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

void write_outcome(const std::filesystem::path& path, const PieceOutcome& outcome) {
    ByteWriter writer;
    writer.put<std::uint64_t>(outcome.images.size());
    for (const auto& [spool_file, key, image, sums] : outcome.images) {
        writer.put_string(spool_file);
        writer.put(image.entry);
        writer.put_string(key);
        writer.put(image.label);
        writer.put(image.split);
        writer.put(image.hash);
        writer.put(image.source_sha256);
        writer.put(sums);
    }
    write_rejections(writer, outcome.rejected);
    write_file_atomically(path, writer.buffer());
}

PieceOutcome read_outcome(const std::filesystem::path& path) {
    const auto bytes = read_file(path);
    ByteReader reader(bytes);
    PieceOutcome outcome;
    outcome.images.resize(reader.get<std::uint64_t>());
    for (auto& [spool_file, key, image, sums] : outcome.images) {
        spool_file = reader.get_string();
        image.entry = reader.get<SpoolEntry>();
        key = reader.get_string();
        image.label = reader.get<std::int32_t>();
        image.split = reader.get<Split>();
        image.hash = reader.get<std::uint64_t>();
        image.source_sha256 = reader.get<Sha256Digest>();
        sums = reader.get<image::PixelStats>();
    }
    outcome.rejected = read_rejections(reader);
    return outcome;
}

// The state of one conversion on one rank.
class Conversion {
  public:
    Conversion(const ConvertOptions& options, const mpi::Comm& comm)
        : options_(options),
          comm_(comm),
          display_(make_progress_display(stdout, options.quiet || !comm.is_root())) {}

    ExitCode run();

  private:
    // Root, before anything is written: OUT holds nothing foreign (else UsageError) and
    // its journal, if any, is read.
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
    OutputFiles output_files() const;
    // Throws UsageError naming the first path in OUT that synshard did not write.
    void require_only_our_files() const;
    // Collective, after a failed phase: the root writes every reject known so far to
    // OUT/rejected.json; returns the failure with a pointer to it.
    mpi::PhaseFailure with_rejects_listed(const mpi::PhaseFailure& failure);
    // Returns false when it stopped before the piece was complete (a signal, or too many
    // rejects): the piece is redone on resume.
    bool process_piece(std::size_t share_index, image::Pipeline& pipeline,
                       mpi::PhaseProgress& progress, mpi::CountLimit& rejects, std::uint64_t& done);
    std::uint32_t open_spool(const std::filesystem::path& path, Spool::Mode mode);
    bool process();
    void find_duplicates();
    void assign_shards();
    bool write_shards();
    // Collective: the shards published in a round go into the root's journal.
    void record_published(const std::vector<manifest::ShardEntry>& published);
    ExitCode finish();
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
    h5::ClassTable class_table() const;

    const ConvertOptions& options_;
    const mpi::Comm& comm_;
    std::unique_ptr<ProgressDisplay> display_;
    std::optional<OutputLock> lock_;
    std::optional<Journal> journal_;  // root only
    std::vector<std::unique_ptr<Spool>> spools_;
    std::map<std::filesystem::path, std::uint32_t> spool_index_;
    plan::PlanResult plan_;
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

OutputFiles Conversion::output_files() const {
    OutputFiles files{canonical_path(options_.output), canonical_path(options_.scratch), {}};
    if (options_.stats) files.user_file = canonical_path(*options_.stats);
    return files;
}

void Conversion::require_only_our_files() const {
    if (const auto foreign = first_foreign_path(output_files())) {
        throw UsageError(options_.output.string() + " holds files synshard did not write, e.g. " +
                         foreign->string() + "; choose an empty or new folder" +
                         (options_.restart ? " (--restart removed nothing)" : ""));
    }
}

void Conversion::inspect_output() {
    mpi::run_phase(comm_, "prepare", [&] {
        if (!comm_.is_root()) return;
        const auto& output = options_.output;
        std::error_code error;
        if (std::filesystem::exists(output, error) && !std::filesystem::is_directory(output)) {
            throw UsageError("--output " + output.string() + " exists and is not a folder");
        }
        require_only_our_files();
        if (options_.restart) return;
        journal_ = read_journal(output);
        if (!journal_ && std::filesystem::exists(output / manifest::kManifestFileName)) {
            throw Error(output.string() +
                        " holds a manifest.json but no journal of a synshard run; choose another "
                        "--output or use --restart to replace it");
        }
        if (journal_ && !journal_->finished && !options_.resume) {
            throw UsageError(
                output.string() +
                " holds an unfinished run; rerun with --resume (the default) or --restart");
        }
    });
}

void Conversion::check_plan() {
    mpi::run_phase(comm_, "shard counts", [&] {
        const std::array<std::uint32_t, kSplits> requested{options_.train_shards,
                                                           options_.val_shards};
        for (const Split split : {Split::train, Split::val}) {
            const auto index = split_index(split);
            try {
                plan::shard_count_for(plan_.plan.images[index], options_.shard_size,
                                      requested[index]);
            } catch (const Error& error) {
                const std::string name(corpus::to_string(split));
                const std::string option =
                    requested[index] != 0 ? "--" + name + "-shards" : "--shard-size";
                throw UsageError(option + ": " + error.what() + " (the plan has " +
                                 std::to_string(plan_.plan.images[index]) + " " + name +
                                 " images)");
            }
        }
    });
}

namespace {

std::string expectation_failure(const Journal::Expectation& expectation) {
    std::string text = std::to_string(expectation.differences.size()) + " shards differ from " +
                       expectation.reference + ":";
    for (const auto& difference : expectation.differences) text += "\n  " + difference;
    return text;
}

Journal::Expectation compare_with(const std::filesystem::path& reference,
                                  const manifest::Manifest& actual) {
    Journal::Expectation expectation{reference.string(), {}};
    for (const auto& difference :
         manifest::compare_shards(manifest::read_manifest(reference), actual)) {
        expectation.differences.push_back(manifest::describe(difference));
    }
    return expectation;
}

}  // namespace

std::optional<ExitCode> Conversion::finished_outcome() {
    const auto code = mpi::run_phase(comm_, "finished output", [&]() -> std::int64_t {
        const auto& output = options_.output;
        if (!comm_.is_root() || !journal_ || !journal_->finished ||
            !std::filesystem::exists(output / manifest::kManifestFileName)) {
            return -1;
        }
        const Journal now = new_journal(plan_.plan.input_fingerprint, options_.effective);
        std::string change = resume_conflict(*journal_, now);
        if (const auto written = write_option_changes(*journal_, now);
            change.empty() && !written.empty()) {
            change = "option " + written + " changed since the run that wrote this output";
        }
        if (!change.empty()) {
            throw Error(output.string() + " is complete, but " + change +
                        ". Rerun with --restart to convert it again.");
        }
        log::info(output.string() +
                  " is already complete (its manifest.json was written by an earlier run with "
                  "the same inputs and options); nothing to do. Use --restart to convert again.");
        auto expectation = journal_->expectation;
        if (options_.expect_manifest) {
            expectation =
                compare_with(*options_.expect_manifest,
                             manifest::read_manifest(output / manifest::kManifestFileName));
        }
        if (expectation && !expectation->differences.empty()) {
            throw Error(expectation_failure(*expectation));
        }
        return journal_->exit_code;
    });
    const auto agreed = comm_.max(code);
    if (agreed < 0) return std::nullopt;
    return static_cast<ExitCode>(agreed);
}

void Conversion::take_output() {
    mpi::run_phase(comm_, "prepare output", [&] {
        if (!comm_.is_root()) return;
        const auto& output = options_.output;
        std::filesystem::create_directories(output);
        if (options_.lock) lock_.emplace(output);
        // Checked before planning, and again now that no other conversion can write OUT.
        require_only_our_files();
        const Journal now = new_journal(plan_.plan.input_fingerprint, options_.effective);
        if (options_.restart) {
            remove_our_files(output_files());
            std::filesystem::remove_all(spool_root(options_));
            journal_.reset();
        } else {
            journal_ = read_journal(output);
        }
        if (journal_ && journal_->finished) {
            throw Error(output.string() +
                        " was completed by another conversion while this one was planning; "
                        "rerun to check it");
        }
        if (journal_) {
            const auto conflict = resume_conflict(*journal_, now);
            if (!conflict.empty()) {
                throw Error("cannot resume " + output.string() + ": " + conflict +
                            ". Rerun with --restart to convert from scratch.");
            }
            if (const auto changes = write_option_changes(*journal_, now); !changes.empty()) {
                log::info("the shard options changed (" + changes +
                          "): the processed images are "
                          "reused and the " +
                          std::to_string(journal_->shards.size()) +
                          " shards published so far are written again");
                journal_->shards.clear();
                journal_->write_options = now.write_options;
            }
            log::info("resuming the run recorded in " + journal_path(output).string() + " (" +
                      std::to_string(journal_->shards.size()) + " shards published)");
        } else {
            journal_ = now;
        }
        std::vector<std::string> published;
        for (const auto& [path, shard] : journal_->shards) published.push_back(path);
        remove_stale_files(output, published);
        write_journal(output, *journal_);
    });
}

std::uint32_t Conversion::open_spool(const std::filesystem::path& path, Spool::Mode mode) {
    const auto found = spool_index_.find(path);
    if (found != spool_index_.end()) {
        if (mode == Spool::Mode::create)
            throw Error("spool " + path.string() + " is already in use");
        return found->second;
    }
    const auto index = static_cast<std::uint32_t>(spools_.size());
    spools_.push_back(std::make_unique<Spool>(path, mode));
    spool_index_.emplace(path, index);
    return index;
}

bool Conversion::process_piece(std::size_t share_index, image::Pipeline& pipeline,
                               mpi::PhaseProgress& progress, mpi::CountLimit& rejects,
                               std::uint64_t& done) {
    const auto& plan = plan_.plan;
    const auto& piece = plan.pieces[plan_.share.pieces[share_index]];
    const auto items = plan_.share_items(share_index);
    const auto folder =
        spool_root(options_) / source_folder_name(plan.sources[piece.source].source.name);
    std::filesystem::create_directories(folder);
    const std::string stem = std::to_string(piece.begin) + "-" + std::to_string(piece.end);
    const auto done_path = folder / (stem + ".done");

    // Whatever earlier runs completed for this source (under any cut into pieces).
    std::map<std::string, PieceOutcome::Image> earlier_images;
    std::map<std::string, Rejection> earlier_rejections;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (entry.path().extension() != ".done") continue;
        auto outcome = read_outcome(entry.path());
        for (auto& image : outcome.images) earlier_images.emplace(image.key, std::move(image));
        for (auto& rejection : outcome.rejected)
            earlier_rejections.emplace(rejection.key, rejection);
    }

    PieceOutcome outcome;
    const auto reject = [&](Rejection rejection) {
        if (!is_chosen_cleanup(rejection.reason)) ++counted_rejects_;
        outcome.rejected.push_back(std::move(rejection));
    };
    // Stopped before the piece is complete: its rejects so far still count (and are
    // listed if the run fails), its .done file is not written.
    const auto stop = [&] {
        rejected_.insert(rejected_.end(), outcome.rejected.begin(), outcome.rejected.end());
        return false;
    };
    std::vector<corpus::Item> pending;
    for (const auto& item : items) {
        if (const auto found = earlier_images.find(item.key); found != earlier_images.end()) {
            outcome.images.push_back(found->second);
        } else if (const auto rejected = earlier_rejections.find(item.key);
                   rejected != earlier_rejections.end()) {
            reject(rejected->second);
        } else {
            pending.push_back(item);
        }
    }
    done += items.size() - pending.size();
    if (rejects.exceeded(counted_rejects_)) return stop();

    if (!pending.empty()) {
        const std::string spool_file = stem + ".spool";
        Spool& spool = *spools_[open_spool(folder / spool_file, Spool::Mode::create)];
        corpus::PieceReader reader(pending, options_.corpus.max_member_bytes);
        std::vector<image::Box> boxes;
        while (auto read = reader.next()) {
            if (interrupt_signal() != 0 || rejects.exceeded(counted_rejects_)) return stop();
            const auto& item = *read->item;
            progress.update(++done);
            if (read->rejection) {
                reject(*read->rejection);
                continue;
            }
            boxes.clear();
            for (const auto& labeled : item.boxes) boxes.push_back(labeled.box);
            auto result = pipeline.process(read->bytes, boxes);
            if (const auto* failure = std::get_if<image::ImageFailure>(&result)) {
                reject({item.key, failure->reason, failure->detail});
                continue;
            }
            auto& processed = std::get<image::ProcessedImage>(result);
            ImageRecord record;
            record.key = item.key;
            record.synset = item.wnid;
            record.label = item.label;
            record.val = item.split == Split::val;
            record.hash = item.hash;
            record.source_sha256 = sha256(read->bytes);
            record.source_height = processed.source_height;
            record.source_width = processed.source_width;
            record.height = processed.height;
            record.width = processed.width;
            record.boxes = processed.boxes;
            for (const auto source : processed.box_sources) {
                record.box_labels.push_back(item.boxes[source].label);
            }
            LocalImage local;
            local.label = item.label;
            local.split = item.split;
            local.hash = item.hash;
            local.source_sha256 = record.source_sha256;
            if (item.split == Split::train) {
                record.pixel_sums = image::pixel_stats(
                    pipeline.decode_stored(processed.data, options_.pipeline.encoding,
                                           processed.height, processed.width),
                    processed.content_rect);
            }
            record.data = std::move(processed.data);
            local.entry = spool.append(record);
            outcome.images.push_back({spool_file, item.key, local, record.pixel_sums});
        }
        spool.sync();
    }
    write_outcome(done_path, outcome);

    for (auto& [spool_file, key, image, sums] : outcome.images) {
        image.spool = open_spool(folder / spool_file, Spool::Mode::read);
        image.key_begin = keys_.size();
        image.key_size = static_cast<std::uint32_t>(key.size());
        keys_ += key;
        if (image.split == Split::train) train_sums_ += sums;
        images_.push_back(image);
    }
    rejected_.insert(rejected_.end(), outcome.rejected.begin(), outcome.rejected.end());
    // The piece's items are in images_ and rejected_ now; its plan bytes are not needed
    // again (a rerun plans anew).
    plan_.share.encoded[share_index] = {};
    return true;
}

namespace {

// The most rejects of `scanned` inputs that stay within max_fraction, judged exactly as
// the final check judges them (rejected / scanned > max_fraction fails).
std::uint64_t allowed_rejects(std::uint64_t scanned, double max_fraction) {
    const auto fails = [&](std::uint64_t rejected) {
        return scanned != 0 &&
               static_cast<double>(rejected) / static_cast<double>(scanned) > max_fraction;
    };
    auto allowed = static_cast<std::uint64_t>(max_fraction * static_cast<double>(scanned));
    while (allowed > 0 && fails(allowed)) --allowed;
    while (allowed < scanned && !fails(allowed + 1)) ++allowed;
    return allowed;
}

}  // namespace

bool Conversion::process() {
    const auto start = Clock::now();
    const auto& plan = plan_.plan;
    const std::uint64_t total_items = comm_.sum(plan_.share.item_count());
    std::uint64_t plan_rejects = 0;
    for (const auto& [reason, count] : plan.rejected_counts) {
        if (!is_chosen_cleanup(reason)) plan_rejects += count;
    }
    // A systemic problem (wrong input, broken disk) shows as many rejections: the run
    // stops as soon as the rejects so far make the final verdict certain.
    const std::uint64_t allowed = allowed_rejects(plan.scanned, options_.max_reject_fraction);
    std::uint64_t done = 0;
    mpi::run_phase(comm_, "process", [&] {
        image::Pipeline pipeline(options_.pipeline);
        mpi::PhaseProgress progress(comm_, "process", total_items, *display_);
        mpi::CountLimit rejects(comm_, allowed - std::min(allowed, plan_rejects));
        const bool over_already = plan_rejects > allowed;
        for (std::size_t i = 0; i < plan_.share.pieces.size() && !over_already; ++i) {
            if (!process_piece(i, pipeline, progress, rejects, done)) break;
        }
        rejects.finish(counted_rejects_);
        stage_times_ = pipeline.stage_times();
    });
    time_phase("process", start);
    if (interrupted_everywhere()) return false;

    const std::uint64_t rejected = comm_.sum(counted_rejects_) + plan_rejects;
    const std::uint64_t processed = comm_.sum(done);
    mpi::run_phase(comm_, "reject check", [&] {
        if (rejected <= allowed) return;
        std::ostringstream message;
        message << rejected << " of " << plan.scanned << " inputs (" << std::fixed
                << std::setprecision(1)
                << 100.0 * static_cast<double>(rejected) / static_cast<double>(plan.scanned)
                << std::defaultfloat << "%) were rejected, over --max-reject-fraction "
                << options_.max_reject_fraction;
        if (processed < total_items) {
            message << " (the run stopped after " << processed << " of " << total_items
                    << " images: no outcome of the rest could bring it under)";
        }
        message << ": the input or the options look wrong";
        throw Error(message.str());
    });
    return true;
}

void Conversion::find_duplicates() {
    const auto start = Clock::now();
    const auto ranks = static_cast<std::size_t>(comm_.size());
    std::vector<ByteWriter> outgoing(ranks);
    for (std::size_t i = 0; i < images_.size(); ++i) {
        const auto& image = images_[i];
        auto& writer = outgoing[leading_u64(image.source_sha256) % ranks];
        writer.put(image.source_sha256);
        writer.put<std::uint64_t>(i);
        writer.put(image.label);
        writer.put<std::uint8_t>(image.split == Split::val ? 1 : 0);
        writer.put_string(key_of(image));
    }
    const auto incoming = comm_.all_to_all(messages_of(outgoing));

    std::vector<ByteWriter> verdicts(ranks);
    mpi::run_phase(comm_, "dedup", [&] {
        struct Copy {
            plan::ContentCopy copy;
            std::size_t origin;
            std::uint64_t index;
        };
        // Copies of the same bytes are found by sorting the digests, not with a node per
        // image: an image's record is read whole only when its digest repeats.
        struct Arrival {
            Sha256Digest digest;
            std::size_t origin;
            std::size_t record;  // where the rest of its record starts in incoming[origin]
        };
        // The rest of a record after its digest, the key left in the message.
        struct Record {
            std::uint64_t index;
            std::int32_t label;
            bool in_val;
            std::span<const std::uint8_t> key;
        };
        const auto read_record = [](ByteReader& reader) {
            // A braced list is evaluated left to right: the fields in their order.
            return Record{reader.get<std::uint64_t>(), reader.get<std::int32_t>(),
                          reader.get<std::uint8_t>() != 0, reader.get_bytes()};
        };
        std::vector<Arrival> arrivals;
        for (std::size_t origin = 0; origin < ranks; ++origin) {
            ByteReader reader(incoming[origin]);
            while (!reader.at_end()) {
                const auto digest = reader.get<Sha256Digest>();
                arrivals.push_back({digest, origin, reader.offset()});
                read_record(reader);
            }
        }
        std::stable_sort(arrivals.begin(), arrivals.end(),
                         [](const Arrival& a, const Arrival& b) { return a.digest < b.digest; });
        const auto read_copy = [&](const Arrival& arrival) {
            ByteReader reader(std::span(incoming[arrival.origin]).subspan(arrival.record));
            const Record record = read_record(reader);
            return Copy{
                {std::string(record.key.begin(), record.key.end()), record.label, record.in_val},
                arrival.origin,
                record.index};
        };
        for (std::size_t first = 0, last = 0; first < arrivals.size(); first = last) {
            for (last = first + 1;
                 last < arrivals.size() && arrivals[last].digest == arrivals[first].digest;) {
                ++last;
            }
            if (last - first < 2) continue;
            const Sha256Digest& digest = arrivals[first].digest;
            std::vector<Copy> copies;
            for (std::size_t i = first; i < last; ++i) copies.push_back(read_copy(arrivals[i]));
            std::vector<plan::ContentCopy> contents;
            manifest::KeyGroup group{to_hex(digest), {}};
            for (const auto& copy : copies) {
                contents.push_back(copy.copy);
                group.keys.push_back(copy.copy.key);
            }
            std::sort(group.keys.begin(), group.keys.end());
            const auto verdict = plan::resolve_duplicates(contents, options_.drop_leaks);
            for (const auto& drop : verdict.dropped) {
                const auto found = std::find_if(copies.begin(), copies.end(), [&](const Copy& c) {
                    return c.copy.key == drop.key;
                });
                auto& writer = verdicts[found->origin];
                writer.put<std::uint64_t>(found->index);
                writer.put_string(drop.same_as);
            }
            if (verdict.leak) leaks_.push_back(group);
            duplicates_.push_back(std::move(group));
        }
    });
    const auto returned = comm_.all_to_all(messages_of(verdicts));
    mpi::run_phase(comm_, "dedup verdicts", [&] {
        for (const auto& bytes : returned) {
            ByteReader reader(bytes);
            while (!reader.at_end()) {
                auto& image = images_.at(reader.get<std::uint64_t>());
                image.dropped = true;
                if (image.split == Split::train) {
                    train_sums_ -= spools_[image.spool]->read(image.entry).pixel_sums;
                }
                rejected_.push_back({std::string(key_of(image)), Reason::duplicate,
                                     "same bytes as " + reader.get_string()});
            }
        }
    });
    time_phase("dedup", start);
}

void Conversion::assign_shards() {
    const auto start = Clock::now();
    const std::size_t classes = plan_.plan.classes.size();
    std::vector<std::uint64_t> counts(kSplits * classes, 0);
    for (const auto& image : images_) {
        if (!image.dropped)
            ++counts[split_index(image.split) * classes + static_cast<std::size_t>(image.label)];
    }
    const auto global = comm_.sum(std::span<const std::uint64_t>(counts));
    std::array<std::uint32_t, kSplits> requested{options_.train_shards, options_.val_shards};
    std::array<std::vector<std::uint64_t>, kSplits> class_offsets;
    mpi::run_phase(comm_, "shard counts", [&] {
        for (std::size_t split = 0; split < kSplits; ++split) {
            class_counts_[split].assign(
                global.begin() + static_cast<std::ptrdiff_t>(split * classes),
                global.begin() + static_cast<std::ptrdiff_t>((split + 1) * classes));
            const std::uint64_t total = std::accumulate(
                class_counts_[split].begin(), class_counts_[split].end(), std::uint64_t{0});
            shard_counts_[split] =
                plan::shard_count_for(total, options_.shard_size, requested[split]);
            class_offsets[split].resize(classes);
            std::exclusive_scan(class_counts_[split].begin(), class_counts_[split].end(),
                                class_offsets[split].begin(), std::uint64_t{0});
        }
    });

    // A class's images may sit on several ranks: its owner ranks them all by H.
    const auto ranks = static_cast<std::size_t>(comm_.size());
    std::vector<ByteWriter> outgoing(ranks);
    for (std::size_t i = 0; i < images_.size(); ++i) {
        const auto& image = images_[i];
        if (image.dropped) continue;
        auto& writer = outgoing[static_cast<std::size_t>(image.label) % ranks];
        writer.put(image.label);
        writer.put<std::uint8_t>(static_cast<std::uint8_t>(image.split));
        writer.put(image.hash);
        writer.put_string(key_of(image));
        writer.put<std::uint64_t>(i);
    }
    const auto incoming = comm_.all_to_all(messages_of(outgoing));

    std::vector<ByteWriter> replies(ranks);
    mpi::run_phase(comm_, "assign", [&] {
        struct Member {
            std::uint64_t hash;
            std::string key;
            std::size_t origin;
            std::uint64_t index;
        };
        std::map<std::pair<std::uint8_t, std::int32_t>, std::vector<Member>> classes_here;
        for (std::size_t origin = 0; origin < ranks; ++origin) {
            ByteReader reader(incoming[origin]);
            while (!reader.at_end()) {
                const auto label = reader.get<std::int32_t>();
                const auto split = reader.get<std::uint8_t>();
                Member member;
                member.hash = reader.get<std::uint64_t>();
                member.key = reader.get_string();
                member.origin = origin;
                member.index = reader.get<std::uint64_t>();
                classes_here[{split, label}].push_back(std::move(member));
            }
        }
        for (auto& [slot, members] : classes_here) {
            std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
                return plan::HashOrder{a.hash, a.key} < plan::HashOrder{b.hash, b.key};
            });
            const auto [split, label] = slot;
            const std::uint64_t offset = class_offsets[split][static_cast<std::size_t>(label)];
            for (std::size_t i = 0; i < members.size(); ++i) {
                auto& writer = replies[members[i].origin];
                writer.put<std::uint64_t>(members[i].index);
                writer.put<std::uint32_t>(
                    plan::shard_for_position(offset + i, shard_counts_[split]));
            }
        }
    });
    const auto assigned = comm_.all_to_all(messages_of(replies));
    mpi::run_phase(comm_, "assign replies", [&] {
        for (const auto& bytes : assigned) {
            ByteReader reader(bytes);
            while (!reader.at_end()) {
                auto& image = images_.at(reader.get<std::uint64_t>());
                image.shard = reader.get<std::uint32_t>();
            }
        }
    });
    time_phase("assign", start);
}

std::vector<ShardJob> Conversion::shard_jobs() const {
    std::vector<ShardJob> jobs;
    for (const Split split : {Split::train, Split::val}) {
        const auto count = shard_counts_[split_index(split)];
        for (std::uint32_t index = 0; index < count; ++index) jobs.push_back({split, index, count});
    }
    return jobs;
}

h5::ClassTable Conversion::class_table() const {
    h5::ClassTable table;
    for (const auto& entry : plan_.plan.classes) {
        table.classes.push_back({entry.wnid, entry.words, entry.gloss, entry.ancestors});
    }
    return table;
}

bool Conversion::write_shards() {
    const auto start = Clock::now();
    const auto jobs = shard_jobs();
    const auto ranks = static_cast<std::size_t>(comm_.size());

    // Shards an earlier run published and that are still intact are not written again;
    // only the row of each key is recomputed, from (H, key), for the index.
    std::vector<std::uint8_t> kept(jobs.size(), 0);
    mpi::run_phase(comm_, "check published shards", [&] {
        if (!comm_.is_root()) return;
        for (std::size_t job = 0; job < jobs.size(); ++job) {
            const auto path = h5::shard_relative_path(corpus::to_string(jobs[job].split),
                                                      jobs[job].index, jobs[job].count);
            const auto found = journal_->shards.find(path);
            if (found == journal_->shards.end()) continue;
            const auto file = options_.output / path;
            std::error_code error;
            const bool intact = std::filesystem::file_size(file, error) == found->second.bytes &&
                                !error && to_hex(h5::sha256_of_file(file)) == found->second.sha256;
            if (intact) {
                kept[job] = 1;
            } else {
                journal_->shards.erase(found);
            }
        }
    });
    mpi::check(MPI_Bcast(kept.data(), static_cast<int>(kept.size()), MPI_UINT8_T, 0, comm_.get()),
               "MPI_Bcast");

    // Job t is written by rank t mod P in round t / P.
    std::vector<std::vector<std::size_t>> images_of_job(jobs.size());
    const std::uint32_t train_shards = shard_counts_[split_index(Split::train)];
    for (std::size_t i = 0; i < images_.size(); ++i) {
        const auto& image = images_[i];
        if (image.dropped) continue;
        const std::size_t job =
            image.split == Split::train ? image.shard : train_shards + image.shard;
        images_of_job[job].push_back(i);
    }
    const h5::ClassTable classes = class_table();
    const std::string encoding(image::to_string(options_.pipeline.encoding));
    const bool raw = options_.pipeline.encoding == image::Encoding::raw;
    const std::size_t rounds = (jobs.size() + ranks - 1) / ranks;
    std::uint64_t written_images = 0;
    std::uint64_t total_images = 0;
    for (const auto& counts : class_counts_) {
        total_images += std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
    }
    mpi::PhaseProgress progress(comm_, "write", total_images, *display_);

    for (std::size_t round = 0; round < rounds; ++round) {
        if (interrupted_everywhere()) return false;
        const auto exchange_start = Clock::now();
        std::vector<std::vector<std::uint8_t>> outgoing(ranks);
        mpi::run_phase(comm_, "write: gather images", [&] {
            for (std::size_t dest = 0; dest < ranks; ++dest) {
                const std::size_t job = round * ranks + dest;
                if (job >= jobs.size()) break;
                ByteWriter writer;
                if (kept[job] == 0) {
                    std::uint64_t bytes = 0;
                    for (const auto index : images_of_job[job])
                        bytes += sizeof(std::uint64_t) + images_[index].entry.length;
                    writer.reserve(bytes);
                }
                for (const auto index : images_of_job[job]) {
                    const auto& image = images_[index];
                    if (kept[job] != 0) {
                        writer.put(image.hash);
                        writer.put_string(key_of(image));
                    } else {
                        spools_[image.spool]->append_bytes_to(image.entry, writer);
                    }
                }
                outgoing[dest] = std::move(writer.buffer());
            }
        });
        const auto incoming = comm_.all_to_all(std::move(outgoing));
        write_exchange_seconds_ += seconds_since(exchange_start);
        std::vector<manifest::ShardEntry> published;
        mpi::run_phase(comm_, "write", [&] {
            const std::size_t job_index = round * ranks + static_cast<std::size_t>(comm_.rank());
            if (job_index >= jobs.size()) return;
            const auto& job = jobs[job_index];
            if (kept[job_index] != 0) {
                std::vector<plan::HashOrder> order;
                std::vector<std::string> keys;
                for (const auto& bytes : incoming) {
                    ByteReader reader(bytes);
                    while (!reader.at_end()) {
                        const auto hash = reader.get<std::uint64_t>();
                        keys.push_back(reader.get_string());
                        order.push_back({hash, {}});
                    }
                }
                for (std::size_t i = 0; i < keys.size(); ++i) order[i].key = keys[i];
                std::sort(order.begin(), order.end());
                for (std::uint32_t row = 0; row < order.size(); ++row) {
                    locations_[split_index(job.split)].push_back(order[row].key, job.index, row);
                }
                written_images += order.size();
                return;
            }
            std::vector<ImageRecord> records;
            for (const auto& bytes : incoming) {
                ByteReader reader(bytes);
                while (!reader.at_end()) {
                    const auto record_bytes = reader.get_bytes();
                    ByteReader record_reader(record_bytes);
                    records.push_back(read_record(record_reader));
                }
            }
            std::sort(records.begin(), records.end(),
                      [](const ImageRecord& a, const ImageRecord& b) {
                          return plan::HashOrder{a.hash, a.key} < plan::HashOrder{b.hash, b.key};
                      });
            h5::ShardSpec spec;
            spec.output_dir = options_.output;
            spec.split = std::string(corpus::to_string(job.split));
            spec.shard_index = job.index;
            spec.shard_count = job.count;
            spec.encoding = encoding;
            if (raw) {
                spec.raw_height = options_.pipeline.resize.height;
                spec.raw_width = options_.pipeline.resize.width;
            } else {
                spec.image_bytes = 0;
                for (const auto& record : records) *spec.image_bytes += record.data.size();
            }
            spec.label_scheme = std::string(corpus::to_string(options_.corpus.label_scheme));
            h5::ShardWriter writer(spec, classes);
            for (std::uint32_t row = 0; row < records.size(); ++row) {
                const auto& record = records[row];
                h5::ShardSample sample;
                sample.key = record.key;
                sample.synset = record.synset;
                sample.label = record.label;
                sample.image = record.data;
                sample.orig_height = record.source_height;
                sample.orig_width = record.source_width;
                sample.height = record.height;
                sample.width = record.width;
                sample.source_sha256 = record.source_sha256;
                sample.boxes = record.boxes;
                sample.box_labels = record.box_labels;
                writer.add(sample);
                locations_[split_index(job.split)].push_back(record.key, job.index, row);
            }
            const auto shard = writer.finish();
            published.push_back(
                {shard.relative_path, shard.num_samples, shard.bytes, to_hex(shard.sha256)});
            written_images += records.size();
        });
        record_published(published);
        progress.update(written_images);
    }
    time_phase("write", start);
    return true;
}

void Conversion::record_published(const std::vector<manifest::ShardEntry>& published) {
    ByteWriter mine;
    for (const auto& shard : published) {
        mine.put_string(shard.path);
        mine.put(shard.num_samples);
        mine.put(shard.bytes);
        mine.put_string(shard.sha256);
    }
    const auto gathered = comm_.gather(mine.buffer());
    mpi::run_phase(comm_, "journal", [&] {
        if (!comm_.is_root()) return;
        bool changed = false;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            while (!reader.at_end()) {
                manifest::ShardEntry shard;
                shard.path = reader.get_string();
                shard.num_samples = reader.get<std::uint64_t>();
                shard.bytes = reader.get<std::uint64_t>();
                shard.sha256 = reader.get_string();
                journal_->shards[shard.path] = shard;
                changed = true;
            }
        }
        if (changed) write_journal(options_.output, *journal_);
    });
}

ExitCode Conversion::finish() {
    const auto start = Clock::now();
    // Everything the manifest and the index need goes to the root, in one message a rank.
    ByteWriter mine;
    write_rejections(mine, rejected_);
    write_groups(mine, duplicates_);
    write_groups(mine, leaks_);
    for (auto& locations : locations_) {
        mine.put<std::uint64_t>(locations.size());
        for (std::size_t i = 0; i < locations.size(); ++i) {
            mine.put_string(locations.key(i));
            mine.put(locations.shard(i));
            mine.put(locations.row(i));
        }
        locations = {};
    }
    std::vector<std::uint64_t> local_sums(train_sums_.sum.begin(), train_sums_.sum.end());
    local_sums.insert(local_sums.end(), train_sums_.sum_of_squares.begin(),
                      train_sums_.sum_of_squares.end());
    local_sums.push_back(train_sums_.pixels);
    const auto total_sums = comm_.sum(std::span<const std::uint64_t>(local_sums));
    images_ = {};
    keys_ = {};
    auto gathered = comm_.gather(mine.buffer());
    mine = {};

    std::uint8_t code = to_int(ExitCode::success);
    mpi::run_phase(comm_, "manifest", [&] {
        if (!comm_.is_root()) return;
        const auto& plan = plan_.plan;
        manifest::Manifest result = manifest::make_manifest();
        result.options = options_.effective;
        result.input_fingerprint = plan.input_fingerprint;
        result.seed = plan.seed;
        result.label_scheme = std::string(corpus::to_string(plan.label_scheme));
        result.rejected = plan_.rejected;
        std::array<h5::KeyLocations, kSplits> keys;
        for (auto& bytes : gathered) {
            ByteReader reader(bytes);
            auto rejections = read_rejections(reader);
            result.rejected.insert(result.rejected.end(), rejections.begin(), rejections.end());
            auto duplicates = read_groups(reader);
            result.duplicates.insert(result.duplicates.end(), duplicates.begin(), duplicates.end());
            auto leaks = read_groups(reader);
            result.leaks.insert(result.leaks.end(), leaks.begin(), leaks.end());
            for (auto& split_keys : keys) {
                for (auto count = reader.get<std::uint64_t>(); count > 0; --count) {
                    const auto key = reader.get_bytes();
                    const auto shard = reader.get<std::uint32_t>();
                    split_keys.push_back(
                        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
                        shard, reader.get<std::uint32_t>());
                }
            }
            bytes = {};  // each rank's message is released once read
        }
        for (const auto& [path, shard] : journal_->shards) {
            result.splits[path.substr(0, path.find('/'))].shards.push_back(shard);
        }
        const auto by_key = [](const Rejection& a, const Rejection& b) { return a.key < b.key; };
        std::sort(result.rejected.begin(), result.rejected.end(), by_key);
        const auto by_digest = [](const manifest::KeyGroup& a, const manifest::KeyGroup& b) {
            return a.source_sha256 < b.source_sha256;
        };
        std::sort(result.duplicates.begin(), result.duplicates.end(), by_digest);
        std::sort(result.leaks.begin(), result.leaks.end(), by_digest);

        h5::IndexContents index;
        index.encoding = std::string(image::to_string(options_.pipeline.encoding));
        if (options_.pipeline.encoding == image::Encoding::raw) {
            index.raw_height = options_.pipeline.resize.height;
            index.raw_width = options_.pipeline.resize.width;
        }
        index.label_scheme = result.label_scheme;
        index.classes = class_table();
        for (const auto& node : plan.hierarchy.nodes) {
            index.hierarchy.nodes.push_back({node.wnid, node.words, node.gloss, node.depth});
        }
        for (const auto& [parent, child] : plan.hierarchy.edges) {
            index.hierarchy.edges.emplace_back(static_cast<std::int32_t>(parent),
                                               static_cast<std::int32_t>(child));
        }
        for (const auto& entry : plan.classes) {
            index.hierarchy.class_nodes.push_back(
                static_cast<std::int32_t>(plan.hierarchy.index_of(entry.wnid)));
        }
        for (const Split split : {Split::train, Split::val}) {
            const std::string name(corpus::to_string(split));
            auto& entry = result.splits[name];
            std::sort(entry.shards.begin(), entry.shards.end(),
                      [](const auto& a, const auto& b) { return a.path < b.path; });
            h5::SplitIndex split_index_entry;
            split_index_entry.name = name;
            for (const auto& shard : entry.shards) {
                entry.num_samples += shard.num_samples;
                split_index_entry.shard_num_samples.push_back(shard.num_samples);
            }
            split_index_entry.keys = std::move(keys[split_index(split)]);
            index.splits.push_back(std::move(split_index_entry));
        }
        for (const auto& entry : plan.classes) {
            manifest::ClassSummary summary;
            summary.label = entry.label;
            summary.synset = entry.wnid;
            summary.words = entry.words;
            for (const Split split : {Split::train, Split::val}) {
                summary.counts[std::string(corpus::to_string(split))] =
                    class_counts_[split_index(split)][static_cast<std::size_t>(entry.label)];
            }
            result.classes.push_back(std::move(summary));
        }
        const auto pixels = static_cast<long double>(total_sums[6]);
        for (std::size_t c = 0; c < 3 && pixels > 0; ++c) {
            const long double mean = static_cast<long double>(total_sums[c]) / pixels;
            const long double square = static_cast<long double>(total_sums[3 + c]) / pixels;
            result.stats.mean[c] = static_cast<double>(mean);
            result.stats.std[c] =
                static_cast<double>(std::sqrt(std::max(0.0L, square - mean * mean)));
        }
        timings_["manifest"] = seconds_since(start);
        timings_["total"] = seconds_since(start_);
        for (const auto& [phase, seconds] : timings_) result.timings[phase] = seconds;

        h5::write_index(options_.output, index);
        manifest::write_manifest(options_.output / manifest::kManifestFileName, result);

        const bool some_rejected =
            std::any_of(result.rejected.begin(), result.rejected.end(),
                        [](const Rejection& r) { return !is_chosen_cleanup(r.reason); });
        code = to_int(some_rejected ? ExitCode::completed_with_rejections : ExitCode::success);
        // The comparison is part of finishing: its outcome is journaled with the rest, so
        // a rerun reports it again instead of "already complete".
        journal_->finished = true;
        journal_->exit_code = code;
        if (options_.expect_manifest) {
            journal_->expectation = compare_with(*options_.expect_manifest, result);
        }
        write_journal(options_.output, *journal_);

        std::ostringstream summary;
        summary << "converted " << result.splits["train"].num_samples << " train and "
                << result.splits["val"].num_samples << " val images into "
                << result.splits["train"].shards.size() + result.splits["val"].shards.size()
                << " shards in " << std::lround(timings_["total"]) << " s; "
                << result.rejected.size() << " inputs rejected, " << result.duplicates.size()
                << " duplicate groups, " << result.leaks.size() << " train/val leaks; output in "
                << options_.output.string();
        log::info(summary.str());

        if (const auto& expectation = journal_->expectation) {
            if (expectation->differences.empty()) {
                log::info("every shard matches " + expectation->reference);
            } else {
                code = to_int(ExitCode::failure);
            }
        }
    });
    mpi::check(MPI_Bcast(&code, 1, MPI_UINT8_T, 0, comm_.get()), "MPI_Bcast");
    return static_cast<ExitCode>(code);
}

void Conversion::write_stats(ExitCode code) {
    nlohmann::ordered_json mine;
    mine["rank"] = comm_.rank();
    mine["seconds"] = seconds_since(start_);
    mine["peak_rss_bytes"] = peak_rss_bytes();
    mine["phases"] = timings_;
    mine["write_exchange_seconds"] = write_exchange_seconds_;
    mine["stages"] = {{"decode", stage_times_.decode_seconds},
                      {"resize", stage_times_.resize_seconds},
                      {"encode", stage_times_.encode_seconds},
                      {"images", stage_times_.images},
                      {"source_pixels", stage_times_.source_pixels}};
    const std::string text = mine.dump();
    const auto gathered = comm_.gather(std::vector<std::uint8_t>(text.begin(), text.end()));
    mpi::run_phase(comm_, "stats", [&] {
        if (!comm_.is_root()) return;
        nlohmann::ordered_json stats;
        stats["ranks"] = comm_.size();
        stats["exit_code"] = to_int(code);
        stats["per_rank"] = nlohmann::ordered_json::array();
        for (const auto& bytes : gathered) {
            stats["per_rank"].push_back(nlohmann::ordered_json::parse(bytes.begin(), bytes.end()));
        }
        write_file_atomically(*options_.stats, stats.dump(2) + "\n");
    });
}

mpi::PhaseFailure Conversion::with_rejects_listed(const mpi::PhaseFailure& failure) {
    ByteWriter mine;
    write_rejections(mine, rejected_);
    const auto gathered = comm_.gather(mine.buffer());
    const auto path = options_.output / kRejectedFileName;
    std::uint64_t listed = 0;
    mpi::run_phase(comm_, "list rejects", [&] {
        if (!comm_.is_root()) return;
        std::vector<Rejection> rejected = plan_.rejected;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            auto more = read_rejections(reader);
            rejected.insert(rejected.end(), more.begin(), more.end());
        }
        std::sort(rejected.begin(), rejected.end(),
                  [](const Rejection& a, const Rejection& b) { return a.key < b.key; });
        listed = rejected.size();
        const nlohmann::ordered_json list{{"rejected", manifest::to_json(rejected)}};
        write_file_atomically(path, list.dump(2) + "\n");
    });
    return mpi::PhaseFailure(failure.phase(), failure.origin_rank(), failure.usage(),
                             std::string(failure.what()) + ". Every input rejected so far (" +
                                 std::to_string(listed) + ") is listed in " + path.string());
}

ExitCode Conversion::run() {
    inspect_output();
    const auto plan_start = Clock::now();
    plan_ = plan::make_plan(options_.corpus, comm_);
    time_phase("plan", plan_start);
    if (comm_.is_root()) {
        log::info("plan: " + std::to_string(plan_.plan.classes.size()) + " classes, " +
                  std::to_string(plan_.plan.images[0]) + " train and " +
                  std::to_string(plan_.plan.images[1]) + " val images on " +
                  std::to_string(comm_.size()) + (comm_.size() == 1 ? " rank" : " ranks"));
    }
    check_plan();
    if (const auto finished = finished_outcome()) return *finished;
    take_output();
    ExitCode code = ExitCode::interrupted;
    try {
        bool completed = process();
        if (completed) {
            find_duplicates();
            assign_shards();
            completed = write_shards();
        }
        if (!completed) {
            if (comm_.is_root()) {
                log::warn("interrupted by signal " + std::to_string(interrupt_signal()) +
                          ": the work done so far is kept; rerun the same command to resume");
            }
            return ExitCode::interrupted;
        }
        code = finish();
    } catch (const mpi::PhaseFailure& failure) {
        throw with_rejects_listed(failure);
    }
    if (options_.stats) write_stats(code);
    spools_.clear();
    comm_.barrier();
    if (comm_.is_root()) {
        std::error_code ignored;
        std::filesystem::remove_all(spool_root(options_), ignored);
        std::filesystem::remove(options_.scratch, ignored);  // only if now empty
    }
    mpi::run_phase(comm_, "expect manifest", [&] {
        if (comm_.is_root() && journal_->expectation && !journal_->expectation->differences.empty())
            throw Error(expectation_failure(*journal_->expectation));
    });
    return code;
}

}  // namespace

ExitCode convert(const ConvertOptions& options, const mpi::Comm& comm) {
    Conversion conversion(options, comm);
    return conversion.run();
}

}  // namespace synshard::convert
