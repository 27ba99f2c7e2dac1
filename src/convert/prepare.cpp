#include <set>

#include "conversion.hpp"
#include "synshard/convert/options.hpp"
#include "synshard/convert/spool_folder.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::convert {

OutputFiles output_files(const ConvertOptions& options) {
    OutputFiles files{canonical_path(options.output), canonical_path(options.scratch), {}};
    if (options.stats) files.user_file = canonical_path(*options.stats);
    return files;
}

void require_only_our_files(const ConvertOptions& options) {
    if (const auto foreign = first_foreign_path(output_files(options))) {
        throw UsageError(options.output.string() + " holds files synshard did not write, e.g. " +
                         foreign->string() + "; choose an empty or new folder" +
                         (options.restart ? " (--restart removed nothing)" : ""));
    }
}

std::optional<Journal> check_output(const ConvertOptions& options) {
    const auto& output = options.output;
    std::error_code error;
    if (std::filesystem::exists(output, error) && !std::filesystem::is_directory(output)) {
        throw UsageError("--output " + output.string() + " exists and is not a folder");
    }
    require_only_our_files(options);
    if (options.restart) return std::nullopt;
    auto journal = read_journal(output);
    if (!journal && std::filesystem::exists(output / manifest::kManifestFileName)) {
        throw Error(output.string() +
                    " holds a manifest.json but no journal of a synshard run; choose another "
                    "--output or use --restart to replace it");
    }
    const bool finished = journal && journal->finished &&
                          std::filesystem::exists(output / manifest::kManifestFileName);
    if (journal && !finished && !options.resume) {
        throw UsageError(
            output.string() +
            " holds an unfinished run; rerun with --resume (the default) or --restart");
    }
    return journal;
}

void Conversion::inspect_output() {
    mpi::run_phase(comm_, "prepare", [&] {
        if (comm_.is_root()) journal_ = check_output(options_);
    });
}

void Conversion::check_plan() {
    mpi::run_phase(comm_, "shard counts",
                   [&] { shard_counts_for_plan(options_, plan_.plan.images); });
}

std::optional<ExitCode> Conversion::finished_outcome() {
    const auto code = mpi::run_phase(comm_, "finished output", [&]() -> std::int64_t {
        const auto& output = options_.output;
        if (!comm_.is_root() || !journal_ || !journal_->finished ||
            !std::filesystem::exists(output / manifest::kManifestFileName)) {
            return -1;
        }
        const Journal now =
            new_journal(plan_.plan.input_fingerprint, plan_.resume_fingerprint, options_.effective);
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
    // A run killed after its manifest, before its clean-up, left its spools.
    remove_spool_folders(comm_.is_root() ? journal_->run_id : std::string());
    return static_cast<ExitCode>(agreed);
}

void Conversion::take_output() {
    mpi::run_phase(comm_, "prepare output", [&] {
        if (!comm_.is_root()) return;
        const auto& output = options_.output;
        std::filesystem::create_directories(output);
        if (options_.lock) lock_.emplace(output);
        // Checked before planning, and again now that no other conversion can write OUT.
        require_only_our_files(options_);
        const Journal now =
            new_journal(plan_.plan.input_fingerprint, plan_.resume_fingerprint, options_.effective);
        if (options_.restart) {
            // The old run's spool folders go with the sweep of open_spool_folder().
            remove_our_files(output_files(options_));
            journal_.reset();
        } else {
            journal_ = read_journal(output);
        }
        const bool has_manifest = std::filesystem::exists(output / manifest::kManifestFileName);
        if (journal_ && journal_->finished && has_manifest) {
            throw Error(output.string() +
                        " was completed by another conversion while this one was planning; "
                        "rerun to check it");
        }
        if (journal_ && journal_->finished) {
            log::info("the run recorded in " + journal_path(output).string() +
                      " stopped while writing manifest.json: finishing it");
            journal_->finished = false;
            journal_->expectation.reset();
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
                          count_of(journal_->shards.size(), "shard") +
                          " published so far are written again");
                journal_->shards.clear();
                journal_->write_options = now.write_options;
            }
            log::info("resuming the run recorded in " + journal_path(output).string() + " (" +
                      count_of(journal_->shards.size(), "shard") + " published)");
        } else {
            journal_ = now;
        }
        std::vector<std::string> published;
        for (const auto& [path, shard] : journal_->shards) published.push_back(path);
        remove_stale_files(output, published);
        write_journal(output, *journal_);
    });
}

void Conversion::open_spool_folder() {
    ByteWriter shared;
    if (comm_.is_root()) {
        shared.put_string(journal_->run_id);
        shared.put_string(manifest::digest(journal_->resume_fingerprint));
    }
    const auto bytes = comm_.broadcast(shared.buffer());
    ByteReader reader(bytes);
    SpoolHeader own;
    own.run_id = reader.get_string();
    own.resume_fingerprint = reader.get_string();
    own.processing_options = options_of_role(options_.effective, OptionRole::processing);
    own.output = canonical_path(options_.output).string();
    spool_folder_ = spool_folder(options_.scratch, own.run_id);

    std::vector<std::string> notes;
    mpi::run_phase(comm_, "spool folder", [&] {
        for (const auto& other : other_spool_folders(options_.scratch, spool_folder_)) {
            const std::string size = log::format_bytes(other.bytes);
            if (other.header && other.header->output == own.output) {
                remove_spool_folder(other.path);
                notes.push_back("removed " + other.path.string() + " (" + size +
                                "), the spool folder of an earlier run on this output");
            } else {
                notes.push_back("left " + other.path.string() + " (" + size + ") alone: " +
                                (other.header
                                     ? "the spool folder of " + other.header->output
                                     : std::string("its header is missing or unreadable")));
            }
        }
        std::string problem;
        try {
            const auto header = read_spool_header(spool_folder_);
            std::error_code error;
            if (header && !header->same_run(own)) {
                problem = "its header was written with other options, inputs or layout";
            } else if (!header && std::filesystem::exists(spool_folder_, error) &&
                       !std::filesystem::is_empty(spool_folder_, error)) {
                problem = "it has no header";
            }
        } catch (const Error& error) {
            problem = error.what();
        }
        if (!problem.empty()) {
            remove_spool_folder(spool_folder_);
            notes.push_back("not reusing " + spool_folder_.string() + " (" + problem +
                            "): its images are processed again");
        }
    });
    ByteWriter mine;
    for (const auto& note : notes) mine.put_string(note);
    const auto gathered = comm_.gather(mine.buffer());
    mpi::run_phase(comm_, "spool header", [&] {
        if (comm_.is_root()) {
            // Ranks sharing a scratch folder see the same leftovers: each is said once.
            std::set<std::string> said;
            for (const auto& rank_notes : gathered) {
                ByteReader notes_reader(rank_notes);
                while (!notes_reader.at_end()) {
                    auto note = notes_reader.get_string();
                    if (!said.insert(note).second) continue;
                    if (note.starts_with("not reusing"))
                        log::warn(note);
                    else
                        log::info(note);
                }
            }
        }
        std::filesystem::create_directories(spool_folder_);
        create_spool_header(spool_folder_, own);
    });
}

void Conversion::remove_spool_folders(const std::string& root_run_id) {
    ByteWriter shared;
    shared.put_string(root_run_id);
    const auto bytes = comm_.broadcast(shared.buffer());
    ByteReader reader(bytes);
    const auto run_id = reader.get_string();
    mpi::run_phase(comm_, "clean up", [&] {
        if (comm_.is_root()) remove_archive_index(options_.output);
        remove_spool_folder(spool_folder(options_.scratch, run_id));
        std::error_code ignored;
        std::filesystem::remove(options_.scratch, ignored);  // only if now empty
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
        write_file_atomically(path, list.dump(2) + "\n", {.leftover = LeftoverTemporary::replace});
    });
    return mpi::PhaseFailure(failure.phase(), failure.origin_rank(), failure.usage(),
                             std::string(failure.what()) + ". Every input rejected so far (" +
                                 std::to_string(listed) + ") is listed in " + path.string());
}

}  // namespace synshard::convert
