#include <iostream>

#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/convert/converter.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/memory.hpp"
#include "synshard/util/option_values.hpp"

namespace synshard::cli {

Command convert_command() {
    return Command{
        "convert",
        "convert a corpus into balanced, deterministic HDF5 shards (run under mpirun)",
        "",
        [](po::options_description& options, po::positional_options_description&) {
            corpus::add_corpus_options(options);
            image::add_pipeline_options(options);
            convert::add_convert_options(options);
            options.add_options()  //
                ("dry-run", switch_value(),
                 "check the options and what OUT holds, print the plan and the shard "
                 "counts convert would use (or the usage error it would raise), write "
                 "nothing");
        },
        [](const po::variables_map& values, const mpi::Comm& comm) {
            auto options = convert::convert_options_from(values);
            if (values["dry-run"].as<bool>()) {
                std::optional<convert::Journal> journal;
                mpi::run_phase(comm, "prepare", [&] {
                    if (comm.is_root()) journal = convert::check_output(options);
                });
                const ExitCode code = print_plan(values, comm);
                if (comm.is_root()) {
                    std::cout << "dry run: nothing written; convert would write "
                              << options.output.string();
                    if (journal) {
                        std::cout << (journal->finished
                                          ? ", which holds a finished run: convert does nothing "
                                            "when the inputs and options are unchanged"
                                          : ", resuming the unfinished run it holds");
                    }
                    std::cout << "\n" << std::flush;
                }
                return code;
            }
            if (options.quiet && log::threshold() > log::Level::warn) {
                log::configure(comm.rank(), comm.size(), log::Level::warn, log::format());
            }
            options.effective = options_to_json(values, convert::recorded_option_names());
            convert::record_canonical_paths(options.effective);
            // Each write round allocates about a shard's bytes several times
            // over (images read back, exchanged, the HDF5 file in memory).
            if (!reuse_large_allocations(std::size_t{1} << 30)) {
                log::debug("the allocator keeps its own thresholds for large blocks");
            }
            return convert::convert(options, comm);
        },
        /*interruptible=*/true,
        /*shared_section=*/"",
        /*examples=*/{}};
}

}  // namespace synshard::cli
