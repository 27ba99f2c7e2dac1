#include <algorithm>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "conversion.hpp"
#include "synshard/corpus/reader.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/log.hpp"

namespace synshard::convert {

namespace {

// An outcome list found in a source's folder, as it was read.
struct EarlierList {
    std::filesystem::path path;
    PieceOutcome outcome;
};

// Where an input's outcome is in the earlier lists.
struct Place {
    std::size_t list;
    std::size_t index;  // into the list's images or rejections
};

// Whatever earlier runs completed for one source (under any cut into pieces), by key.
// An input may be in several lists (a piece of a later run lists what it took from an
// earlier one).
struct EarlierOutcomes {
    std::vector<EarlierList> lists;
    std::multimap<std::string, Place> images;
    std::multimap<std::string, Place> rejections;
};

// A damaged list is removed (the folder is ours): its inputs are processed again.
// `problem` names the list.
void discard(const std::filesystem::path& list, const std::string& problem) {
    log::warn(problem + "; the list is removed and its inputs are processed again");
    std::error_code ignored;  // another rank may have removed it already
    std::filesystem::remove(list, ignored);
}

EarlierOutcomes read_earlier_outcomes(const std::filesystem::path& folder) {
    EarlierOutcomes earlier;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (entry.path().extension() != ".done") continue;
        try {
            earlier.lists.push_back({entry.path(), read_outcome(entry.path())});
        } catch (const Error& error) {
            // Gone since the folder was listed: another rank discarded it.
            if (std::filesystem::exists(entry.path())) discard(entry.path(), error.what());
            continue;
        }
        const std::size_t list = earlier.lists.size() - 1;
        const auto& outcome = earlier.lists.back().outcome;
        for (std::size_t i = 0; i < outcome.images.size(); ++i)
            earlier.images.emplace(outcome.images[i].key, Place{list, i});
        for (std::size_t i = 0; i < outcome.rejected.size(); ++i)
            earlier.rejections.emplace(outcome.rejected[i].key, Place{list, i});
    }
    return earlier;
}

// What is wrong with the records a list refers to, each read back (its checksum checked)
// and compared with what the list says of it; empty when they are all intact.
std::string damage_of(const std::filesystem::path& folder, const PieceOutcome& outcome) {
    std::map<std::string, std::unique_ptr<Spool>> spools;
    try {
        for (const auto& [spool_file, key, image, sums] : outcome.images) {
            auto& spool = spools[spool_file];
            if (!spool) spool = std::make_unique<Spool>(folder / spool_file, Spool::Mode::read);
            const ImageRecord record = spool->read(image.entry);
            const bool listed = record.sample.key == key && record.sample.label == image.label &&
                                record.split == image.split && record.hash == image.hash &&
                                record.sample.source_sha256 == image.source_sha256 &&
                                record.pixel_sums == sums;
            if (!listed) {
                return "spool " + spool->path().string() + ": the record at offset " +
                       std::to_string(image.entry.offset) + " is not the one listed for " + key;
            }
        }
    } catch (const Error& error) {
        return error.what();
    }
    return {};
}

// The spool of a piece's new records: "<stem>.spool", or "<stem>.<n>.spool" when a kept
// list (or this rank) uses that name, so that processing inputs again never truncates
// records still in use.
std::string new_spool_file(const std::string& stem, const std::set<std::string>& taken) {
    std::string name = stem + ".spool";
    for (int n = 1; taken.contains(name); ++n) name = stem + "." + std::to_string(n) + ".spool";
    return name;
}

}  // namespace

ImageRecord Conversion::record_of(const corpus::Item& item, std::span<const std::uint8_t> source,
                                  image::ProcessedImage& processed) const {
    ImageRecord record;
    h5::SampleRow& sample = record.sample;
    sample.key = item.key;
    sample.synset = item.wnid;
    sample.label = item.label;
    record.split = item.split;
    record.hash = item.hash;
    sample.source_sha256 = sha256(source);
    sample.source_height = processed.source_height;
    sample.source_width = processed.source_width;
    sample.height = processed.height;
    sample.width = processed.width;
    sample.boxes = processed.boxes;
    for (const auto box_source : processed.box_sources) {
        sample.box_labels.push_back(item.boxes[box_source].label);
    }
    if (item.split == Split::train) record.pixel_sums = processed.pixel_sums;
    sample.image = std::move(processed.data);
    return record;
}

void Conversion::adopt(const std::filesystem::path& folder, PieceOutcome& outcome) {
    for (auto& [spool_file, key, image, sums] : outcome.images) {
        image.spool = open_spool(folder / spool_file, Spool::Mode::read);
        image.key_begin = keys_.size();
        image.key_size = static_cast<std::uint32_t>(key.size());
        keys_ += key;
        if (image.split == Split::train) train_sums_ += sums;
        images_.push_back(image);
    }
    rejected_.insert(rejected_.end(), outcome.rejected.begin(), outcome.rejected.end());
}

bool Conversion::process_piece(std::size_t share_index, image::Pipeline& pipeline,
                               mpi::PhaseProgress& progress, mpi::CountLimit& rejects,
                               std::uint64_t& done) {
    const auto& plan = plan_.plan;
    const auto& piece = plan.pieces[plan_.share.pieces[share_index]];
    const auto items = plan_.share_items(share_index);
    const auto folder = spool_folder_ / source_folder_name(plan.sources[piece.source].source.name);
    std::filesystem::create_directories(folder);
    const std::string stem = std::to_string(piece.begin) + "-" + std::to_string(piece.end);
    const auto done_path = folder / (stem + ".done");

    const EarlierOutcomes earlier = read_earlier_outcomes(folder);
    // A list is checked whole when an input is first taken from it, before the process
    // phase ends; a damaged one gives nothing.
    std::vector<std::optional<bool>> intact(earlier.lists.size());
    const auto reusable = [&](const std::multimap<std::string, Place>& places,
                              const std::string& key) -> const Place* {
        for (auto [at, end] = places.equal_range(key); at != end; ++at) {
            auto& verdict = intact[at->second.list];
            if (!verdict) {
                const auto& list = earlier.lists[at->second.list];
                const std::string damage = damage_of(folder, list.outcome);
                if (!damage.empty())
                    discard(list.path, "outcome list " + list.path.string() + ": " + damage);
                verdict = damage.empty();
            }
            if (*verdict) return &at->second;
        }
        return nullptr;
    };
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
        if (const Place* image = reusable(earlier.images, item.key)) {
            outcome.images.push_back(earlier.lists[image->list].outcome.images[image->index]);
        } else if (const Place* rejection = reusable(earlier.rejections, item.key)) {
            reject(earlier.lists[rejection->list].outcome.rejected[rejection->index]);
        } else {
            pending.push_back(item);
        }
    }
    done += items.size() - pending.size();
    progress.add_reused(items.size() - pending.size());
    if (rejects.exceeded(counted_rejects_)) return stop();

    if (!pending.empty()) {
        std::set<std::string> taken;
        for (std::size_t list = 0; list < earlier.lists.size(); ++list) {
            if (intact[list] == false) continue;
            for (const auto& image : earlier.lists[list].outcome.images)
                taken.insert(image.spool_file);
        }
        for (const auto& [path, index] : spool_index_)
            if (path.parent_path() == folder) taken.insert(path.filename().string());
        const std::string spool_file = new_spool_file(stem, taken);
        Spool& spool = *spools_[open_spool(folder / spool_file, Spool::Mode::create)];
        corpus::PieceReader reader(pending, options_.corpus.max_member_bytes,
                                   plan.sources[piece.source].source.gzip_index, &gzip_archives_);
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
            ImageRecord record = record_of(item, read->bytes, processed);
            LocalImage local;
            local.label = item.label;
            local.split = item.split;
            local.hash = item.hash;
            local.source_sha256 = record.sample.source_sha256;
            local.entry = spool.append(record);
            outcome.images.push_back({spool_file, item.key, local, record.pixel_sums});
        }
        spool.flush();
    }
    write_outcome(done_path, outcome);

    adopt(folder, outcome);
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
        rejects.finish(counted_rejects_, &progress);
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

}  // namespace synshard::convert
