#include <iostream>
#include <sstream>

#include "synshard/cli/command.hpp"
#include "synshard/cli/synset_text.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/quantity.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::cli {
namespace {

std::string describe(const wordnet::Hierarchy& hierarchy, const std::string& wnid) {
    const auto& synset = hierarchy.synset(wnid);
    std::ostringstream text;
    text << wnid << ": " << synset.words << "\n";
    text << "  gloss: " << synset.gloss << "\n";
    text << "  depth: " << hierarchy.depth(wnid) << "\n";
    const auto paths = hierarchy.paths_to_root(wnid);
    text << "  " << count_of(paths.size(), "hypernym path") << " from the root:\n";
    for (const auto& path : paths) {
        std::vector<std::string> words;
        for (auto step = path.rbegin(); step != path.rend(); ++step)
            words.push_back(hierarchy.synset(*step).words);
        text << "    " << path_text(words) << "\n";
    }
    text << "  " << count_of(synset.children.size(), "child", "children")
         << (synset.children.empty() ? "\n" : ":\n");
    for (const auto& child : synset.children) {
        text << "    " << child << " " << hierarchy.synset(child).words << "\n";
    }
    return text.str();
}

}  // namespace

Command hierarchy_command() {
    Command command;
    command.name = "hierarchy";
    command.summary =
        "Print WordNet synsets: words, gloss, every hypernym path to the root, children.";
    command.operands = "nXXXXXXXX...";
    command.describe = [](po::options_description& options,
                          po::positional_options_description& positional) {
        options.add_options()  //
            ("synset", po::value<std::vector<std::string>>()->required()->value_name("WNID"),
             "synset ids to describe (also given as operands)")  //
            ("wordnet", po::value<std::string>()->value_name("DIR"),
             "WordNet data.noun folder, or words.txt + wordnet.is_a.txt (default "
             "/usr/share/wordnet)");
        positional.add("synset", -1);
    };
    command.execute = [](const po::variables_map& values, const mpi::Comm& comm) {
        const auto hierarchy = values.count("wordnet") != 0
                                   ? wordnet::Hierarchy::load(values["wordnet"].as<std::string>())
                                   : wordnet::Hierarchy::load_default();
        const auto wnids = values["synset"].as<std::vector<std::string>>();
        for (const auto& wnid : wnids) {
            if (!hierarchy.contains(wnid)) {
                throw UsageError(wnid + " is not a WordNet noun synset (" + hierarchy.origin() +
                                 ")");
            }
        }
        if (comm.is_root()) {
            for (const auto& wnid : wnids) std::cout << describe(hierarchy, wnid);
            std::cout << std::flush;
        }
        return ExitCode::success;
    };
    return command;
}

}  // namespace synshard::cli
