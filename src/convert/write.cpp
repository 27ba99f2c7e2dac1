#include <algorithm>
#include <numeric>

#include "conversion.hpp"
#include "synshard/plan/shards.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

std::vector<ShardJob> Conversion::shard_jobs() const {
    std::vector<ShardJob> jobs;
    for (const Split split : {Split::train, Split::val}) {
        const auto count = shard_counts_[split_index(split)];
        for (std::uint32_t index = 0; index < count; ++index) jobs.push_back({split, index, count});
    }
    return jobs;
}

std::vector<std::uint8_t> Conversion::kept_shards(const std::vector<ShardJob>& jobs) {
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
    return comm_.broadcast(kept);
}

bool Conversion::write_shards() {
    const auto start = Clock::now();
    const auto jobs = shard_jobs();
    const auto ranks = static_cast<std::size_t>(comm_.size());
    // Shards an earlier run published and that are still intact are not written again;
    // only the row of each key is recomputed, from (H, key), for the index.
    const auto kept = kept_shards(jobs);

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
    const h5::ClassTable classes = class_table_of(plan_.plan);
    const std::size_t rounds = (jobs.size() + ranks - 1) / ranks;
    std::uint64_t written_images = 0;
    std::uint64_t total_images = 0;
    for (const auto& counts : class_counts_) {
        total_images += std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
    }
    mpi::PhaseProgress progress(comm_, "write", total_images, *display_);

    for (std::size_t round = 0; round < rounds; ++round) {
        if (interrupted_everywhere()) return false;
        // This round's images, each going to the rank that writes its shard.
        std::vector<std::pair<std::size_t, std::size_t>> sent;  // (destination, image)
        for (std::size_t dest = 0; dest < ranks && round * ranks + dest < jobs.size(); ++dest) {
            for (const auto index : images_of_job[round * ranks + dest])
                sent.emplace_back(dest, index);
        }
        const auto is_kept = [&](std::size_t i) {
            return kept[round * ranks + sent[i].first] != 0;
        };
        const auto exchange_start = Clock::now();
        auto incoming = comm_.route(
            sent.size(), [&](std::size_t i) { return sent[i].first; },
            [&](ByteWriter& writer, std::size_t i) {
                const auto& image = images_[sent[i].second];
                if (is_kept(i)) {
                    writer.put(image.hash);
                    writer.put_string(key_of(image));
                } else {
                    spools_[image.spool]->append_bytes_to(image.entry, writer);
                }
            },
            [&](std::size_t i) {
                return is_kept(i) ? 0
                                  : sizeof(std::uint64_t) + images_[sent[i].second].entry.length;
            });
        write_exchange_seconds_ += seconds_since(exchange_start);
        std::vector<manifest::ShardEntry> published;
        mpi::run_phase(comm_, "write", [&] {
            const std::size_t job_index = round * ranks + static_cast<std::size_t>(comm_.rank());
            if (job_index >= jobs.size()) return;
            const auto& job = jobs[job_index];
            if (kept[job_index] != 0) {
                written_images += locate_kept_shard(job, incoming);
                return;
            }
            std::vector<ImageRecord> records;
            mpi::for_each_routed(incoming, [&](int, ByteReader& reader) {
                ByteReader record_reader(reader.get_bytes());
                records.push_back(read_record(record_reader));
            });
            written_images += records.size();
            published.push_back(write_shard(job, std::move(records), classes));
        });
        record_published(published);
        progress.update(written_images);
    }
    time_phase("write", start);
    return true;
}

std::size_t Conversion::locate_kept_shard(const ShardJob& job,
                                          std::vector<std::vector<std::uint8_t>>& incoming) {
    std::vector<plan::HashOrder> order;
    std::vector<std::string> keys;
    mpi::for_each_routed(incoming, [&](int, ByteReader& reader) {
        const auto hash = reader.get<std::uint64_t>();
        keys.push_back(reader.get_string());
        order.push_back({hash, {}});
    });
    for (std::size_t i = 0; i < keys.size(); ++i) order[i].key = keys[i];
    std::sort(order.begin(), order.end());
    for (std::uint32_t row = 0; row < order.size(); ++row) {
        locations_[split_index(job.split)].push_back(order[row].key, job.index, row);
    }
    return order.size();
}

manifest::ShardEntry Conversion::write_shard(const ShardJob& job, std::vector<ImageRecord> records,
                                             const h5::ClassTable& classes) {
    std::sort(records.begin(), records.end(), [](const ImageRecord& a, const ImageRecord& b) {
        return plan::HashOrder{a.hash, a.sample.key} < plan::HashOrder{b.hash, b.sample.key};
    });
    h5::ShardSpec spec;
    spec.output_dir = options_.output;
    spec.split = std::string(corpus::to_string(job.split));
    spec.shard_index = job.index;
    spec.shard_count = job.count;
    spec.encoding = std::string(image::to_string(options_.pipeline.encoding));
    if (options_.pipeline.encoding == image::Encoding::raw) {
        spec.raw_height = options_.pipeline.resize.height;
        spec.raw_width = options_.pipeline.resize.width;
    } else {
        spec.image_bytes = 0;
        for (const auto& record : records) *spec.image_bytes += record.sample.image.size();
    }
    spec.label_scheme = std::string(corpus::to_string(options_.corpus.label_scheme));
    h5::ShardWriter writer(spec, classes);
    for (std::uint32_t row = 0; row < records.size(); ++row) {
        const h5::SampleRow& sample = records[row].sample;
        writer.add(sample.view());
        locations_[split_index(job.split)].push_back(sample.key, job.index, row);
    }
    const auto shard = writer.finish();
    return {shard.relative_path, shard.num_samples, shard.bytes, to_hex(shard.sha256)};
}

void Conversion::record_published(const std::vector<manifest::ShardEntry>& published) {
    ByteWriter mine;
    for (const auto& shard : published) manifest::write_shard_entry(mine, shard);
    const auto gathered = comm_.gather(mine.buffer());
    mpi::run_phase(comm_, "journal", [&] {
        if (!comm_.is_root()) return;
        bool changed = false;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            while (!reader.at_end()) {
                auto shard = manifest::read_shard_entry(reader);
                journal_->shards[shard.path] = std::move(shard);
                changed = true;
            }
        }
        if (changed) write_journal(options_.output, *journal_);
    });
}

}  // namespace synshard::convert
