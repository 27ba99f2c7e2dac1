#include "synshard/convert/converter.hpp"

#include "conversion.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/memory.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::convert {

void Conversion::write_stats(ExitCode code) {
    nlohmann::ordered_json mine;
    mine["rank"] = comm_.rank();
    mine["seconds"] = seconds_since(start_);
    mine["peak_rss_bytes"] = peak_rss_bytes();
    mine["phases"] = timings_;
    mine["write_exchange_seconds"] = write_exchange_seconds_;
    mine["stages"] = {
        {"decode", stage_times_.decode_seconds}, {"resize", stage_times_.resize_seconds},
        {"stats", stage_times_.stats_seconds},   {"encode", stage_times_.encode_seconds},
        {"images", stage_times_.images},         {"source_pixels", stage_times_.source_pixels}};
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

ExitCode Conversion::run() {
    inspect_output();
    const auto plan_start = Clock::now();
    plan_ = survey::make_plan(options_.corpus, comm_);
    time_phase("plan", plan_start);
    if (comm_.is_root()) {
        log::info("plan: " + count_of(plan_.plan.classes.size(), "class") + ", " +
                  std::to_string(plan_.plan.images[0]) + " train and " +
                  count_of(plan_.plan.images[1], "val image") + " on " +
                  count_of(static_cast<std::uint64_t>(comm_.size()), "rank"));
    }
    check_plan();
    if (const auto finished = finished_outcome()) return *finished;
    take_output();
    open_spool_folder();
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
    remove_spool_folders(comm_.is_root() ? journal_->run_id : std::string());
    mpi::run_phase(comm_, "expect manifest", [&] {
        if (comm_.is_root() && journal_->expectation && !journal_->expectation->differences.empty())
            throw Error(expectation_failure(*journal_->expectation));
    });
    return code;
}

ExitCode convert(const ConvertOptions& options, const mpi::Comm& comm) {
    Conversion conversion(options, comm);
    return conversion.run();
}

}  // namespace synshard::convert
