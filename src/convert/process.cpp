#include <algorithm>
#include <iomanip>
#include <sstream>

#include "conversion.hpp"
#include "synshard/corpus/reader.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

namespace {

// Whatever earlier runs completed for one source (under any cut into pieces), by key.
struct EarlierOutcomes {
    std::map<std::string, PieceOutcome::Image> images;
    std::map<std::string, Rejection> rejections;
};

EarlierOutcomes read_earlier_outcomes(const std::filesystem::path& folder) {
    EarlierOutcomes earlier;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (entry.path().extension() != ".done") continue;
        auto outcome = read_outcome(entry.path());
        for (auto& image : outcome.images) earlier.images.emplace(image.key, std::move(image));
        for (auto& rejection : outcome.rejected)
            earlier.rejections.emplace(rejection.key, rejection);
    }
    return earlier;
}

}  // namespace

ImageRecord Conversion::record_of(const corpus::Item& item, std::span<const std::uint8_t> source,
                                  image::ProcessedImage& processed,
                                  image::Pipeline& pipeline) const {
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
    if (item.split == Split::train) {
        record.pixel_sums =
            image::pixel_stats(pipeline.decode_stored(processed.data, options_.pipeline.encoding,
                                                      processed.height, processed.width),
                               processed.content_rect);
    }
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
    const auto folder =
        spool_root(options_) / source_folder_name(plan.sources[piece.source].source.name);
    std::filesystem::create_directories(folder);
    const std::string stem = std::to_string(piece.begin) + "-" + std::to_string(piece.end);
    const auto done_path = folder / (stem + ".done");

    const EarlierOutcomes earlier = read_earlier_outcomes(folder);
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
        if (const auto found = earlier.images.find(item.key); found != earlier.images.end()) {
            outcome.images.push_back(found->second);
        } else if (const auto rejected = earlier.rejections.find(item.key);
                   rejected != earlier.rejections.end()) {
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
            ImageRecord record = record_of(item, read->bytes, processed, pipeline);
            LocalImage local;
            local.label = item.label;
            local.split = item.split;
            local.hash = item.hash;
            local.source_sha256 = record.sample.source_sha256;
            local.entry = spool.append(record);
            outcome.images.push_back({spool_file, item.key, local, record.pixel_sums});
        }
        spool.sync();
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

}  // namespace synshard::convert
