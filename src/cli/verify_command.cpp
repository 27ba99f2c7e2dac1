#include <iostream>

#include "synshard/cli/command.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/option_values.hpp"
#include "synshard/verify/verify.hpp"

namespace synshard::cli {

Command verify_command() {
    Command command;
    command.name = "verify";
    command.summary =
        "Check a finished output against everything its manifest claims: every shard's and "
        "index.h5's sha256, every section's digest, the counts per split and class, the "
        "accounting of rejects, duplicates and leaks, every dataset's consistency, images "
        "decode, the index matches, no file synshard did not write. Exit 0 only when all "
        "holds.";
    command.operands = "OUT";
    command.describe = [](po::options_description& options,
                          po::positional_options_description& positional) {
        options.add_options()  //
            ("output", po::value<std::string>()->required()->value_name("OUT"),
             "the output directory to check (also the first operand)")  //
            ("full", switch_value(),
             "decode every encoded image and recompute the train mean and std (default: "
             "--sample images per shard)")  //
            ("sample", bounded_value<std::uint64_t>(0)->default_value(16)->value_name("N"),
             "images decoded per shard, evenly spaced over its rows, without --full (0 or "
             "more)")  //
            ("expect-manifest", po::value<std::string>()->value_name("FILE"),
             "also fail unless every shard's sha256 matches this reference manifest's")  //
            ("json", po::value<std::string>()->value_name("FILE"),
             "also write the report as JSON ('-' for standard output)");
        positional.add("output", 1);
    };
    command.execute = [](const po::variables_map& values, const mpi::Comm& comm) {
        verify::VerifyOptions options;
        options.output = values["output"].as<std::string>();
        options.full = values["full"].as<bool>();
        options.sample = values["sample"].as<std::uint64_t>();
        if (!std::filesystem::is_directory(options.output)) {
            throw UsageError(options.output.string() + " is not a directory");
        }
        if (values.count("expect-manifest") != 0) {
            options.expect_manifest = values["expect-manifest"].as<std::string>();
            manifest::read_expected_manifest(*options.expect_manifest);
        }
        const verify::Report report = verify::verify(options, comm);
        if (comm.is_root()) {
            const bool json_to_stdout =
                values.count("json") != 0 && values["json"].as<std::string>() == "-";
            (json_to_stdout ? std::cerr : std::cout) << verify::describe(report) << std::flush;
            if (values.count("json") != 0) {
                const std::string text = verify::to_json(report).dump(2) + "\n";
                if (json_to_stdout)
                    std::cout << text << std::flush;
                else
                    write_file_atomically(values["json"].as<std::string>(), text);
            }
        }
        return report.ok() ? ExitCode::success : ExitCode::failure;
    };
    return command;
}

}  // namespace synshard::cli
