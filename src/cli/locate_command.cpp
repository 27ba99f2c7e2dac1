#include <algorithm>
#include <iostream>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/cli/options.hpp"
#include "synshard/cli/root_only.hpp"
#include "synshard/cli/tab_separated.hpp"
#include "synshard/reader/dataset.hpp"

namespace synshard::cli {
namespace {

// Why a key is in no shard, from the manifest's `rejected` list ("" when not listed).
std::string rejection_of(const reader::Dataset& dataset, const std::string& key) {
    const std::filesystem::path path = dataset.directory() / manifest::kManifestFileName;
    if (!std::filesystem::exists(path)) return "";
    const auto& rejected = dataset.manifest().rejected;
    const auto found = std::find_if(rejected.begin(), rejected.end(),
                                    [&](const Rejection& r) { return r.key == key; });
    if (found == rejected.end()) return "";
    return std::string(to_string(found->reason)) + ": " + found->detail;
}

}  // namespace

Command locate_command() {
    Command command;
    command.name = "locate";
    command.summary = "print the split, shard and row of image keys, from OUT/index.h5";
    command.operands = "OUT KEY...";
    command.describe = [](po::options_description& options,
                          po::positional_options_description& positional) {
        add_output_operand(options, positional);
        options.add_options()  //
            ("key", po::value<std::vector<std::string>>()->required()->value_name("KEY"),
             "image keys as stored, e.g. n01440764/n01440764_10026.JPEG or "
             "val/ILSVRC2012_val_00000001.JPEG");
        positional.add("key", -1);
    };
    command.execute = [](const po::variables_map& values, const mpi::Comm& comm) {
        return run_on_root(comm, "locate", [&] {
            const reader::Dataset dataset(values["output"].as<std::string>());
            bool all_found = true;
            std::ostringstream text;
            for (const std::string& key : values["key"].as<std::vector<std::string>>()) {
                if (const auto located = dataset.locate(key)) {
                    text << tab_field(key) << '\t' << located->split << '\t' << located->shard
                         << '\t' << located->row << '\t' << located->shard_path << '\n';
                    continue;
                }
                all_found = false;
                const std::string rejection = rejection_of(dataset, key);
                text << tab_field(key) << '\t' << (rejection.empty() ? "not found" : "rejected")
                     << '\t'
                     << (rejection.empty() ? "in no split of the output" : tab_field(rejection))
                     << '\n';
            }
            std::cout << text.str() << std::flush;
            return all_found ? ExitCode::success : ExitCode::failure;
        });
    };
    return command;
}

}  // namespace synshard::cli
