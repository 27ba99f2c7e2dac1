#include <algorithm>
#include <exception>
#include <numeric>

#include "conversion.hpp"
#include "synshard/plan/shards.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::convert {

std::vector<ShardJob> Conversion::shard_jobs() const {
    std::vector<ShardJob> jobs;
    for (const Split split : {Split::train, Split::val}) {
        const auto count = shard_counts_[split_index(split)];
        for (std::uint32_t index = 0; index < count; ++index) jobs.push_back({split, index, count});
    }
    return jobs;
}

std::string shard_path(const ShardJob& job) {
    return h5::shard_relative_path(corpus::to_string(job.split), job.index, job.count);
}

std::vector<std::uint8_t> Conversion::kept_shards(
    const std::vector<ShardJob>& jobs, const std::vector<std::vector<std::size_t>>& images_of_job) {
    // Root: the published shards whose file is intact are candidates.
    std::vector<std::uint8_t> candidate(jobs.size(), 0);
    mpi::run_phase(comm_, "check published shards", [&] {
        if (!comm_.is_root()) return;
        for (std::size_t job = 0; job < jobs.size(); ++job) {
            const auto found = journal_->shards.find(shard_path(jobs[job]));
            if (found == journal_->shards.end()) continue;
            const auto file = options_.output / found->first;
            const auto& entry = found->second.entry;
            std::error_code error;
            const bool intact = std::filesystem::file_size(file, error) == entry.bytes && !error &&
                                to_hex(h5::sha256_of_file(file)) == entry.sha256;
            if (intact) candidate[job] = 1;
        }
    });
    candidate = comm_.broadcast(candidate);

    // Each candidate's writer gets the (H, key) of its images: the shard is kept only if
    // this run gives it the keys it holds, in the same order.
    const auto ranks = static_cast<std::size_t>(comm_.size());
    std::vector<std::pair<std::size_t, std::size_t>> sent;  // (job, image)
    for (std::size_t job = 0; job < jobs.size(); ++job) {
        if (candidate[job] == 0) continue;
        for (const auto index : images_of_job[job]) sent.emplace_back(job, index);
    }
    auto incoming = comm_.route(
        sent.size(), [&](std::size_t i) { return static_cast<int>(sent[i].first % ranks); },
        [&](ByteWriter& writer, std::size_t i) {
            const auto& image = images_[sent[i].second];
            writer.put<std::uint64_t>(sent[i].first);
            writer.put(image.hash);
            writer.put_string(key_of(image));
        });
    std::map<std::size_t, std::vector<std::string>> rows;  // candidate job -> its keys
    ByteWriter digests;
    mpi::run_phase(comm_, "check published shards", [&] {
        std::map<std::size_t, std::vector<std::pair<std::uint64_t, std::string>>> arrived;
        mpi::for_each_routed(incoming, [&](int, ByteReader& reader) {
            const auto job = reader.get<std::uint64_t>();
            const auto hash = reader.get<std::uint64_t>();
            arrived[job].emplace_back(hash, reader.get_string());
        });
        for (std::size_t job = static_cast<std::size_t>(comm_.rank()); job < jobs.size();
             job += ranks) {
            if (candidate[job] == 0) continue;
            auto& members = arrived[job];
            std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
                return plan::HashOrder{a.first, a.second} < plan::HashOrder{b.first, b.second};
            });
            auto& keys = rows[job];
            for (auto& member : members) keys.push_back(std::move(member.second));
            digests.put<std::uint64_t>(job);
            digests.put_string(key_list_digest(keys));
        }
    });
    const auto gathered = comm_.gather(digests.buffer());
    std::vector<std::uint8_t> kept(jobs.size(), 0);
    mpi::run_phase(comm_, "check published shards", [&] {
        if (!comm_.is_root()) return;
        std::size_t rewritten = 0;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            while (!reader.at_end()) {
                const auto job = reader.get<std::uint64_t>();
                const auto digest = reader.get_string();
                if (journal_->shards.at(shard_path(jobs.at(job))).keys_digest == digest) {
                    kept[job] = 1;
                } else {
                    ++rewritten;
                }
            }
        }
        for (std::size_t job = 0; job < jobs.size(); ++job) {
            if (kept[job] == 0) journal_->shards.erase(shard_path(jobs[job]));
        }
        if (rewritten > 0) {
            log::info(count_of(rewritten, "published shard") + " written again: this run assigns " +
                      (rewritten == 1 ? "it" : "them") + " other images");
        }
    });
    kept = comm_.broadcast(kept);
    // A kept shard's rows go into the index's key locations as they are.
    for (auto& [job, keys] : rows) {
        if (kept[job] == 0) continue;
        for (std::uint32_t row = 0; row < keys.size(); ++row) {
            locations_[split_index(jobs[job].split)].push_back(keys[row], jobs[job].index, row);
        }
    }
    return kept;
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
    // Shards an earlier run published that are intact and hold this run's keys for them
    // are not written again.
    const auto kept = kept_shards(jobs, images_of_job);
    std::uint64_t written_images = 0;
    for (std::size_t job = 0; job < jobs.size(); ++job) {
        if (kept[job] != 0) written_images += images_of_job[job].size();
    }
    const h5::ClassTable classes = class_table_of(plan_.plan);
    const std::size_t rounds = (jobs.size() + ranks - 1) / ranks;
    std::uint64_t total_images = 0;
    for (const auto& counts : class_counts_) {
        total_images += std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
    }
    mpi::PhaseProgress progress(comm_, "write", total_images, *display_);
    progress.add_reused(written_images);

    for (std::size_t round = 0; round < rounds; ++round) {
        if (interrupted_everywhere()) return false;
        // This round's images, each going to the rank that writes its shard.
        std::vector<std::pair<std::size_t, std::size_t>> sent;  // (destination, image)
        for (std::size_t dest = 0; dest < ranks && round * ranks + dest < jobs.size(); ++dest) {
            if (kept[round * ranks + dest] != 0) continue;
            for (const auto index : images_of_job[round * ranks + dest])
                sent.emplace_back(dest, index);
        }
        const auto exchange_start = Clock::now();
        // A record that cannot be read back stops this rank's sending, not the exchange:
        // the failure is agreed on right after it, so that no rank is left in a collective.
        std::exception_ptr unread;
        auto incoming = comm_.route(
            sent.size(), [&](std::size_t i) { return sent[i].first; },
            [&](ByteWriter& writer, std::size_t i) {
                if (unread) return;
                const auto& image = images_[sent[i].second];
                try {
                    spools_[image.spool]->append_bytes_to(image.entry, writer);
                } catch (const Error& error) {
                    // Damaged since the process phase checked or wrote it: the pieces using
                    // it are processed again by the rerun.
                    const auto& spool = spools_[image.spool]->path();
                    discard_outcome_lists_using(spool);
                    unread = std::make_exception_ptr(
                        Error(std::string(error.what()) + "; the outcome lists using " +
                              spool.filename().string() +
                              " are removed: rerun the same command, their images are "
                              "processed again"));
                } catch (...) {
                    unread = std::current_exception();
                }
            },
            [&](std::size_t i) {
                return Spool::bytes_appended_for(images_[sent[i].second].entry);
            });
        write_exchange_seconds_ += seconds_since(exchange_start);
        mpi::run_phase(comm_, "read spools", [&] {
            if (unread) std::rethrow_exception(unread);
        });
        std::vector<PublishedShard> published;
        mpi::run_phase(comm_, "write", &progress, [&] {
            const std::size_t job_index = round * ranks + static_cast<std::size_t>(comm_.rank());
            if (job_index >= jobs.size()) return;
            const auto& job = jobs[job_index];
            if (kept[job_index] != 0) return;
            // The images stay in the messages they arrived in until the shard is written.
            std::vector<RoutedRecord> records;
            mpi::for_each_routed(
                incoming,
                [&](int, ByteReader& reader) {
                    ByteReader record_reader(reader.get_bytes());
                    RoutedRecord& routed = records.emplace_back();
                    routed.record = read_record_leaving_image(record_reader, routed.image);
                },
                mpi::AfterReading::keep);
            written_images += records.size();
            published.push_back(write_shard(job, std::move(records), classes));
        });
        record_published(published);
        progress.update(written_images);
    }
    time_phase("write", start);
    return true;
}

PublishedShard Conversion::write_shard(const ShardJob& job, std::vector<RoutedRecord> records,
                                       const h5::ClassTable& classes) {
    std::sort(records.begin(), records.end(), [](const RoutedRecord& a, const RoutedRecord& b) {
        return plan::HashOrder{a.record.hash, a.record.sample.key} <
               plan::HashOrder{b.record.hash, b.record.sample.key};
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
        for (const auto& routed : records) *spec.image_bytes += routed.image.size();
    }
    spec.label_scheme = std::string(corpus::to_string(options_.corpus.label_scheme));
    h5::ShardWriter writer(spec, classes);
    for (std::uint32_t row = 0; row < records.size(); ++row) {
        const h5::SampleRow& sample = records[row].record.sample;
        h5::SampleView view = sample.view();
        view.image = records[row].image;
        writer.add(view);
        locations_[split_index(job.split)].push_back(sample.key, job.index, row);
    }
    const auto shard = writer.finish();
    std::vector<std::string_view> keys;
    for (const auto& routed : records) keys.push_back(routed.record.sample.key);
    return {{shard.relative_path, shard.num_samples, shard.bytes, to_hex(shard.sha256)},
            key_list_digest(keys)};
}

void Conversion::record_published(const std::vector<PublishedShard>& published) {
    ByteWriter mine;
    for (const auto& shard : published) {
        manifest::write_shard_entry(mine, shard.entry);
        mine.put_string(shard.keys_digest);
    }
    const auto gathered = comm_.gather(mine.buffer());
    mpi::run_phase(comm_, "journal", [&] {
        if (!comm_.is_root()) return;
        bool changed = false;
        for (const auto& bytes : gathered) {
            ByteReader reader(bytes);
            while (!reader.at_end()) {
                PublishedShard shard{manifest::read_shard_entry(reader), reader.get_string()};
                journal_->shards[shard.entry.path] = std::move(shard);
                changed = true;
            }
        }
        if (changed) write_journal(options_.output, *journal_);
    });
}

}  // namespace synshard::convert
