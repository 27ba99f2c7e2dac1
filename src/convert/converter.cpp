#include "synshard/convert/converter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "synshard/convert/record.hpp"
#include "synshard/corpus/reader.hpp"
#include "synshard/h5/index_writer.hpp"
#include "synshard/h5/shard_writer.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/mpi/progress.hpp"
#include "synshard/plan/plan.hpp"
#include "synshard/plan/shards.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/interrupt.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/output_lock.hpp"

namespace synshard::convert {
namespace {

using Clock = std::chrono::steady_clock;
using corpus::Split;

constexpr std::size_t kSplits = 2;

std::size_t split_index(Split split) {
    return static_cast<std::size_t>(split);
}

// What a rank keeps in memory about each image it processed (the pixels are spooled).
struct LocalImage {
    SpoolEntry entry;
    std::string key;
    std::int32_t label = 0;
    Split split = Split::train;
    std::uint64_t hash = 0;
    Sha256Digest source_sha256{};
    // Exact sums over the stored pixels (train only): mean and std need no rounding
    // until the end, so they do not depend on how images are spread over ranks.
    image::PixelStats sums;
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

// The state of one conversion on one rank.
class Conversion {
  public:
    Conversion(const ConvertOptions& options, const mpi::Comm& comm)
        : options_(options),
          comm_(comm),
          display_(make_progress_display(stdout, options.quiet || !comm.is_root())) {}

    ExitCode run();

  private:
    void prepare_output();
    bool process();
    void find_duplicates();
    void assign_shards();
    bool write_shards();
    ExitCode finish();

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
    std::optional<Spool> spool_;
    plan::PlanResult plan_;
    std::vector<LocalImage> images_;
    std::vector<Rejection> rejected_;             // this rank's pipeline and duplicate rejections
    std::vector<manifest::KeyGroup> duplicates_;  // groups this rank owns
    std::vector<manifest::KeyGroup> leaks_;
    std::array<std::vector<std::uint64_t>, kSplits> class_counts_;  // global survivors
    std::array<std::uint32_t, kSplits> shard_counts_{};
    std::vector<manifest::ShardEntry> written_;  // by this rank, with split in the path
    std::vector<std::pair<Split, h5::KeyLocation>> locations_;
    std::map<std::string, double> timings_;
    Clock::time_point start_ = Clock::now();
};

void Conversion::prepare_output() {
    mpi::run_phase(comm_, "prepare", [&] {
        if (comm_.is_root()) {
            std::filesystem::create_directories(options_.output);
            lock_.emplace(options_.output);
            if (std::filesystem::exists(options_.output / manifest::kManifestFileName)) {
                throw Error(options_.output.string() +
                            " already holds a finished conversion (manifest.json); choose another "
                            "--output");
            }
            std::filesystem::create_directories(options_.scratch);
        }
    });
    mpi::run_phase(comm_, "scratch", [&] {
        spool_.emplace(options_.scratch / ("rank-" + std::to_string(comm_.rank()) + ".spool"));
    });
}

bool Conversion::process() {
    const auto start = Clock::now();
    const auto& plan = plan_.plan;
    std::uint64_t local_items = 0;
    for (const auto& items : plan_.share.items) local_items += items.size();
    const std::uint64_t total_items = comm_.sum(local_items);

    mpi::run_phase(comm_, "process", [&] {
        image::Pipeline pipeline(options_.pipeline);
        mpi::PhaseProgress progress(comm_, "process", total_items, *display_);
        std::uint64_t done = 0;
        std::vector<image::Box> boxes;
        for (const auto& items : plan_.share.items) {
            corpus::PieceReader reader(items, options_.corpus.max_member_bytes);
            while (auto read = reader.next()) {
                if (interrupt_signal() != 0) return;
                const auto& item = *read->item;
                progress.update(++done);
                if (read->rejection) {
                    rejected_.push_back(*read->rejection);
                    continue;
                }
                boxes.clear();
                for (const auto& labeled : item.boxes) boxes.push_back(labeled.box);
                auto outcome = pipeline.process(read->bytes, boxes);
                if (const auto* failure = std::get_if<image::ImageFailure>(&outcome)) {
                    rejected_.push_back({item.key, failure->reason, failure->detail});
                    continue;
                }
                auto& processed = std::get<image::ProcessedImage>(outcome);
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
                local.key = item.key;
                local.label = item.label;
                local.split = item.split;
                local.hash = item.hash;
                local.source_sha256 = record.source_sha256;
                if (item.split == Split::train) {
                    local.sums = image::pixel_stats(
                        pipeline.decode_stored(processed.data, options_.pipeline.encoding,
                                               processed.height, processed.width),
                        processed.content_rect);
                }
                record.data = std::move(processed.data);
                local.entry = spool_->append(record);
                images_.push_back(std::move(local));
            }
        }
    });
    time_phase("process", start);
    if (interrupted_everywhere()) return false;

    // A systemic problem (wrong input, broken disk) shows as many rejections: fail early.
    std::uint64_t local_bad = 0;
    for (const auto& rejection : rejected_)
        local_bad += is_chosen_cleanup(rejection.reason) ? 0 : 1;
    std::uint64_t plan_bad = 0;
    for (const auto& [reason, count] : plan.rejected_counts) {
        if (!is_chosen_cleanup(reason)) plan_bad += count;
    }
    const std::uint64_t bad = comm_.sum(local_bad) + plan_bad;
    const double fraction =
        plan.scanned == 0 ? 0.0 : static_cast<double>(bad) / static_cast<double>(plan.scanned);
    mpi::run_phase(comm_, "reject check", [&] {
        if (fraction > options_.max_reject_fraction) {
            std::ostringstream message;
            message << bad << " of " << plan.scanned << " inputs (" << fraction * 100
                    << "%) were rejected, over --max-reject-fraction "
                    << options_.max_reject_fraction
                    << ": the input or the options look wrong (see the rejected inputs with "
                       "'synshard plan' and --log-level debug)";
            throw Error(message.str());
        }
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
        writer.put_string(image.key);
        writer.put(image.label);
        writer.put<std::uint8_t>(image.split == Split::val ? 1 : 0);
        writer.put<std::uint64_t>(i);
    }
    std::vector<std::vector<std::uint8_t>> messages(ranks);
    for (std::size_t r = 0; r < ranks; ++r) messages[r] = std::move(outgoing[r].buffer());
    const auto incoming = comm_.all_to_all(messages);

    std::vector<ByteWriter> verdicts(ranks);
    mpi::run_phase(comm_, "dedup", [&] {
        struct Copy {
            plan::ContentCopy copy;
            std::size_t origin;
            std::uint64_t index;
        };
        std::map<Sha256Digest, std::vector<Copy>> by_content;
        for (std::size_t origin = 0; origin < ranks; ++origin) {
            ByteReader reader(incoming[origin]);
            while (!reader.at_end()) {
                const auto digest = reader.get<Sha256Digest>();
                Copy copy;
                copy.copy.key = reader.get_string();
                copy.copy.label = reader.get<std::int32_t>();
                copy.copy.in_val = reader.get<std::uint8_t>() != 0;
                copy.origin = origin;
                copy.index = reader.get<std::uint64_t>();
                by_content[digest].push_back(std::move(copy));
            }
        }
        for (auto& [digest, copies] : by_content) {
            if (copies.size() < 2) continue;
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
    for (std::size_t r = 0; r < ranks; ++r) messages[r] = std::move(verdicts[r].buffer());
    const auto returned = comm_.all_to_all(messages);
    mpi::run_phase(comm_, "dedup verdicts", [&] {
        for (const auto& bytes : returned) {
            ByteReader reader(bytes);
            while (!reader.at_end()) {
                auto& image = images_.at(reader.get<std::uint64_t>());
                image.dropped = true;
                rejected_.push_back(
                    {image.key, Reason::duplicate, "same bytes as " + reader.get_string()});
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
        writer.put_string(image.key);
        writer.put<std::uint64_t>(i);
    }
    std::vector<std::vector<std::uint8_t>> messages(ranks);
    for (std::size_t r = 0; r < ranks; ++r) messages[r] = std::move(outgoing[r].buffer());
    const auto incoming = comm_.all_to_all(messages);

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
    for (std::size_t r = 0; r < ranks; ++r) messages[r] = std::move(replies[r].buffer());
    const auto assigned = comm_.all_to_all(messages);
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
    const std::uint64_t total_images = [&] {
        std::uint64_t total = 0;
        for (const auto& counts : class_counts_)
            total += std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
        return total;
    }();
    mpi::PhaseProgress progress(comm_, "write", total_images, *display_);

    for (std::size_t round = 0; round < rounds; ++round) {
        if (interrupted_everywhere()) return false;
        std::vector<std::vector<std::uint8_t>> outgoing(ranks);
        mpi::run_phase(comm_, "write: gather images", [&] {
            for (std::size_t dest = 0; dest < ranks; ++dest) {
                const std::size_t job = round * ranks + dest;
                if (job >= jobs.size()) break;
                auto& bytes = outgoing[dest];
                for (const auto index : images_of_job[job]) {
                    const auto record = spool_->read_bytes(images_[index].entry);
                    const std::uint64_t length = record.size();
                    const auto* length_bytes = reinterpret_cast<const std::uint8_t*>(&length);
                    bytes.insert(bytes.end(), length_bytes, length_bytes + sizeof length);
                    bytes.insert(bytes.end(), record.begin(), record.end());
                }
            }
        });
        const auto incoming = comm_.all_to_all(outgoing);
        outgoing.clear();
        mpi::run_phase(comm_, "write", [&] {
            const std::size_t job_index = round * ranks + static_cast<std::size_t>(comm_.rank());
            if (job_index >= jobs.size()) return;
            const auto& job = jobs[job_index];
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
                locations_.push_back({job.split, {record.key, job.index, row}});
            }
            const auto published = writer.finish();
            written_.push_back({published.relative_path, published.num_samples, published.bytes,
                                to_hex(published.sha256)});
            written_images += records.size();
        });
        progress.update(written_images);
    }
    time_phase("write", start);
    return true;
}

ExitCode Conversion::finish() {
    const auto start = Clock::now();
    // Everything the manifest and the index need goes to the root, in one message a rank.
    ByteWriter mine;
    write_rejections(mine, rejected_);
    write_groups(mine, duplicates_);
    write_groups(mine, leaks_);
    mine.put<std::uint64_t>(written_.size());
    for (const auto& shard : written_) {
        mine.put_string(shard.path);
        mine.put(shard.num_samples);
        mine.put(shard.bytes);
        mine.put_string(shard.sha256);
    }
    mine.put<std::uint64_t>(locations_.size());
    for (const auto& [split, location] : locations_) {
        mine.put<std::uint8_t>(static_cast<std::uint8_t>(split));
        mine.put_string(location.key);
        mine.put(location.shard);
        mine.put(location.row);
    }
    image::PixelStats sums;
    for (const auto& image : images_) {
        if (!image.dropped && image.split == Split::train) sums += image.sums;
    }
    std::vector<std::uint64_t> local_sums(sums.sum.begin(), sums.sum.end());
    local_sums.insert(local_sums.end(), sums.sum_of_squares.begin(), sums.sum_of_squares.end());
    local_sums.push_back(sums.pixels);
    const auto total_sums = comm_.sum(std::span<const std::uint64_t>(local_sums));
    const auto gathered = comm_.gather(mine.buffer());
    images_.clear();

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
        std::array<std::vector<h5::KeyLocation>, kSplits> keys;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            auto rejections = read_rejections(reader);
            result.rejected.insert(result.rejected.end(), rejections.begin(), rejections.end());
            auto duplicates = read_groups(reader);
            result.duplicates.insert(result.duplicates.end(), duplicates.begin(), duplicates.end());
            auto leaks = read_groups(reader);
            result.leaks.insert(result.leaks.end(), leaks.begin(), leaks.end());
            const auto shard_count = reader.get<std::uint64_t>();
            for (std::uint64_t i = 0; i < shard_count; ++i) {
                manifest::ShardEntry shard;
                shard.path = reader.get_string();
                shard.num_samples = reader.get<std::uint64_t>();
                shard.bytes = reader.get<std::uint64_t>();
                shard.sha256 = reader.get_string();
                const std::string split = shard.path.substr(0, shard.path.find('/'));
                result.splits[split].shards.push_back(std::move(shard));
            }
            const auto location_count = reader.get<std::uint64_t>();
            for (std::uint64_t i = 0; i < location_count; ++i) {
                const auto split = reader.get<std::uint8_t>();
                h5::KeyLocation location;
                location.key = reader.get_string();
                location.shard = reader.get<std::uint32_t>();
                location.row = reader.get<std::uint32_t>();
                keys[split].push_back(std::move(location));
            }
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

        std::ostringstream summary;
        summary << "converted " << result.splits["train"].num_samples << " train and "
                << result.splits["val"].num_samples << " val images into "
                << result.splits["train"].shards.size() + result.splits["val"].shards.size()
                << " shards in " << std::lround(timings_["total"]) << " s; "
                << result.rejected.size() << " inputs rejected, " << result.duplicates.size()
                << " duplicate groups, " << result.leaks.size() << " train/val leaks; output in "
                << options_.output.string();
        log::info(summary.str());

        if (options_.expect_manifest) {
            const auto expected = manifest::read_manifest(*options_.expect_manifest);
            const auto differences = manifest::compare_shards(expected, result);
            if (!differences.empty()) {
                std::string text = std::to_string(differences.size()) + " shards differ from " +
                                   options_.expect_manifest->string() + ":";
                for (const auto& difference : differences)
                    text += "\n  " + manifest::describe(difference);
                throw Error(text);
            }
            log::info("every shard matches " + options_.expect_manifest->string());
        }
    });
    mpi::check(MPI_Bcast(&code, 1, MPI_UINT8_T, 0, comm_.get()), "MPI_Bcast");
    return static_cast<ExitCode>(code);
}

ExitCode Conversion::run() {
    InterruptGuard interrupts;
    prepare_output();
    const auto plan_start = Clock::now();
    plan_ = plan::make_plan(options_.corpus, comm_);
    time_phase("plan", plan_start);
    if (comm_.is_root()) {
        log::info("plan: " + std::to_string(plan_.plan.classes.size()) + " classes, " +
                  std::to_string(plan_.plan.images[0]) + " train and " +
                  std::to_string(plan_.plan.images[1]) + " val images on " +
                  std::to_string(comm_.size()) + " ranks");
    }
    if (!process()) return ExitCode::interrupted;
    find_duplicates();
    assign_shards();
    if (!write_shards()) return ExitCode::interrupted;
    const ExitCode code = finish();
    mpi::run_phase(comm_, "cleanup", [&] {
        const auto path = spool_->path();
        spool_.reset();
        std::filesystem::remove(path);
    });
    if (comm_.is_root()) {
        std::error_code ignored;
        std::filesystem::remove(options_.scratch, ignored);
    }
    return code;
}

}  // namespace

ExitCode convert(const ConvertOptions& options, const mpi::Comm& comm) {
    Conversion conversion(options, comm);
    return conversion.run();
}

}  // namespace synshard::convert
