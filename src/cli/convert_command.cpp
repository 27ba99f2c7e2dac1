#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/convert/converter.hpp"
#include "synshard/corpus/options.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/memory.hpp"

namespace synshard::cli {

Command convert_command() {
    return Command{"convert",
                   "convert a corpus into balanced, deterministic HDF5 shards (run under mpirun)",
                   "",
                   [](po::options_description& options, po::positional_options_description&) {
                       corpus::add_corpus_options(options);
                       image::add_pipeline_options(options);
                       convert::add_convert_options(options);
                   },
                   [](const po::variables_map& values, const mpi::Comm& comm) {
                       auto options = convert::convert_options_from(values);
                       if (options.quiet && log::threshold() > log::Level::warn) {
                           log::configure(comm.rank(), comm.size(), log::Level::warn);
                       }
                       options.effective =
                           options_to_json(values, convert::recorded_option_names());
                       convert::record_canonical_paths(options.effective);
                       // Each write round allocates about a shard's bytes several times
                       // over (images read back, exchanged, the HDF5 file in memory).
                       if (!reuse_large_allocations(std::size_t{1} << 30)) {
                           log::debug("the allocator keeps its own thresholds for large blocks");
                       }
                       return convert::convert(options, comm);
                   },
                   /*interruptible=*/true};
}

}  // namespace synshard::cli
