#include "sources.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "synshard/corpus/archive_input.hpp"
#include "synshard/corpus/class_list.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::survey {
namespace {

namespace fs = std::filesystem;
using corpus::Item;
using corpus::Split;

std::string file_stem(std::string_view key) {
    const auto slash = key.rfind('/');
    std::string_view name = key.substr(slash + 1);
    const auto dot = name.rfind('.');
    return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// The items of one source whose class is selected, labelled; the others are rejected.
std::vector<Item> items_of_selected_classes(Scanned& scanned, const corpus::Source& source,
                                            const plan::ClassSelection& selection,
                                            const corpus::CorpusOptions& options) {
    std::vector<Item> kept;
    for (auto& item :
         decode_items(scanned.items.bytes, scanned.items.count, source, options.seed)) {
        const auto label = selection.label_of(item.wnid);
        if (!label) {
            if (selection.was_dropped(item.wnid)) {
                scanned.rejected.push_back({item.key, Reason::class_too_small,
                                            item.wnid + " has fewer than --min-per-class " +
                                                std::to_string(options.min_per_class) + " images"});
            } else {
                scanned.rejected.push_back(
                    {item.key, Reason::unknown_class, item.wnid + " is not a selected class"});
            }
            continue;
        }
        item.label = *label;
        kept.push_back(std::move(item));
    }
    return kept;
}

// Caps and splits one train source's items (a class's) by keyed hash; rejects those
// over the cap.
std::vector<Item> cap_and_split(std::vector<Item> kept, Scanned& scanned,
                                const corpus::CorpusOptions& options) {
    std::vector<std::uint64_t> hashes;
    std::vector<std::string> keys;
    for (const auto& item : kept) {
        hashes.push_back(item.hash);
        keys.push_back(item.key);
    }
    const auto fates = plan::split_class(
        hashes, keys, {options.max_per_class, options.val_per_class, options.val_fraction});
    std::vector<Item> stay;
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (fates[i] == plan::Fate::over_cap) {
            scanned.rejected.push_back(
                {kept[i].key, Reason::over_class_cap,
                 "beyond --max-per-class " + std::to_string(options.max_per_class.value_or(0))});
            continue;
        }
        kept[i].split = fates[i] == plan::Fate::val ? Split::val : Split::train;
        stay.push_back(std::move(kept[i]));
    }
    return stay;
}

// Gives each item the boxes annotated for it, with their classes resolved, counting them
// as given by their source.
void attach_boxes(std::vector<Item>& items, const corpus::Source& source,
                  const plan::ClassSelection& selection, const corpus::ImageBoxMap& boxes,
                  std::set<std::string>& used_box_keys, std::vector<corpus::BoxStats>& source_stats,
                  const std::map<std::string, std::string>& wnid_by_word) {
    for (auto& item : items) {
        const std::string box_key = corpus::box_key(item.key);
        const auto found = boxes.find(box_key);
        if (found == boxes.end()) continue;
        used_box_keys.insert(box_key);
        source_stats[found->second.source].given += found->second.boxes.size();
        for (const auto& annotated : found->second.boxes) {
            corpus::LabeledBox box{annotated.box, annotated.name, -1};
            if (!wordnet::is_wnid(box.wnid)) {
                // A class name where a wnid belongs: a train image's folder says which
                // class it is; for val, a unique synonym of a selected class does.
                const auto by_word = wnid_by_word.find(lower(annotated.name));
                box.wnid = !source.wnid.empty()
                               ? item.wnid
                               : (by_word != wnid_by_word.end() ? by_word->second : std::string());
            }
            box.label = selection.label_of(box.wnid).value_or(-1);
            item.boxes.push_back(std::move(box));
        }
    }
}

// Lines "<key>\t<size>\t<mtime ns>[\t<content>]\n" of the items in key order, after the
// tar's own line (for a tar in an archive: where it lies, and the archive's size and time), then
// "<key>\t<reason>\t<detail>\n" of the listing's rejections.
std::string resume_digest(const corpus::SourceListing& listing, const corpus::Source& source) {
    Sha256 hasher;
    if (source.kind == corpus::Source::Kind::tar) {
        hasher.update(source.path.filename().string() + "\t" +
                      std::to_string(listing.archive_size) + "\t" +
                      std::to_string(listing.archive_mtime_ns) + "\n");
    } else if (source.kind == corpus::Source::Kind::archive_member) {
        hasher.update(source.path.filename().string() + "\t" + source.member + "\t" +
                      std::to_string(source.offset) + "\t" + std::to_string(source.size) + "\t" +
                      std::to_string(listing.archive_size) + "\t" +
                      std::to_string(listing.archive_mtime_ns) + "\n");
    }
    for (const auto& item : listing.items) {
        hasher.update(item.key + "\t" + std::to_string(item.size) + "\t" +
                      std::to_string(item.mtime_ns) +
                      (item.content.empty() ? "" : "\t" + item.content) + "\n");
    }
    for (const auto& rejection : listing.rejected) {
        hasher.update(rejection.key + "\t" + std::string(to_string(rejection.reason)) + "\t" +
                      rejection.detail + "\n");
    }
    return to_hex(hasher.finish());
}

}  // namespace

std::string metadata_name(std::string_view option, const std::filesystem::path& path) {
    return std::string(option) + " " + canonical_path(path).string();
}

Inputs discover(const corpus::CorpusOptions& options) {
    Inputs inputs;
    inputs.hierarchy = wordnet::Hierarchy::open(
        options.wordnet.value_or(std::filesystem::path(wordnet::kDefaultWordnetDir)));
    auto train = corpus::discover_train(
        options.input, inputs.hierarchy,
        corpus::is_gzip_file(options.input) ? *options.archive_index : std::filesystem::path());
    inputs.sources = std::move(train.sources);
    inputs.discovery_rejected = std::move(train.rejected);
    for (const auto& file : inputs.hierarchy.files())
        inputs.metadata.emplace_back(metadata_name("--wordnet", file.path), file.content);
    if (options.classes) {
        std::string content;
        inputs.class_list = corpus::read_class_list(*options.classes, &content);
        inputs.metadata.emplace_back(metadata_name("--classes", *options.classes), content);
    }
    if (options.devkit) {
        inputs.devkit = corpus::read_devkit(*options.devkit);
        inputs.metadata.emplace_back(metadata_name("--devkit", inputs.devkit->file),
                                     inputs.devkit->content);
    }
    if (options.val_input) {
        auto val = corpus::discover_val(*options.val_input, inputs.hierarchy);
        const bool flat = val.sources.size() == 1 && val.sources.front().wnid.empty();
        inputs.val_labels_file = options.val_labels;
        // The devkit's ground truth lies beside its class file, or in its archive.
        if (flat && !inputs.val_labels_file && inputs.devkit && inputs.devkit->member.empty()) {
            const fs::path truth =
                inputs.devkit->file.parent_path() / "ILSVRC2012_validation_ground_truth.txt";
            if (fs::exists(truth)) inputs.val_labels_file = truth;
        }
        inputs.val_labels_in_devkit = flat && !inputs.val_labels_file && inputs.devkit &&
                                      !inputs.devkit->ground_truth_member.empty();
        if (flat && !inputs.val_labels_file && !inputs.val_labels_in_devkit) {
            throw UsageError("--val-input " + options.val_input->string() +
                             " is a flat folder: its labels need --val-labels FILE (or --devkit)");
        }
        inputs.sources.insert(inputs.sources.end(), val.sources.begin(), val.sources.end());
        inputs.discovery_rejected.insert(inputs.discovery_rejected.end(), val.rejected.begin(),
                                         val.rejected.end());
    }
    return inputs;
}

int scanner_of(const Inputs& inputs, std::size_t source, int ranks) {
    if (inputs.sources[source].split == Split::val) return ranks - 1;
    return static_cast<int>(source % static_cast<std::size_t>(ranks));
}

bool labeled_by_file(const corpus::Source& source) {
    return source.wnid.empty() && source.no_class_detail.empty();
}

Scanned scan_source(const Inputs& inputs, std::size_t index, const corpus::CorpusOptions& options,
                    const corpus::ValLabels* val_labels, std::vector<std::string>& notes,
                    std::optional<corpus::OuterListing>* walk) {
    const corpus::Source& source = inputs.sources[index];
    auto listing = corpus::list_source(source, options.max_member_bytes, options.fingerprint, walk);
    std::vector<manifest::InputEntry> entries;
    for (const auto& listed : listing.items) entries.push_back({listed.key, listed.size});
    for (const auto& rejection : listing.rejected) entries.push_back({rejection.key, 0});
    Scanned scanned{index,
                    manifest::group_digest(source.name, std::move(entries)),
                    resume_digest(listing, source),
                    {},
                    {},
                    {},
                    {}};
    scanned.rejected = std::move(listing.rejected);
    std::vector<std::string> stems;
    std::vector<Item> items;
    for (auto& listed : listing.items) {
        if (!source.no_class_detail.empty()) {
            scanned.rejected.push_back(
                {std::move(listed.key), Reason::unknown_class, source.no_class_detail});
            continue;
        }
        Item item;
        item.key = std::move(listed.key);
        item.size = listed.size;
        item.split = source.split;
        if (source.kind == corpus::Source::Kind::tar) {
            item.path = source.path.string();
            item.member = std::move(listed.name);
        } else if (source.kind == corpus::Source::Kind::archive_member) {
            item.path = source.path.string();
            item.member = std::move(listed.name);
            item.offset = listed.offset;
        } else {
            item.path = (source.path / listed.name).string();
        }
        item.wnid = source.wnid;
        if (item.wnid.empty()) {
            const std::string stem = file_stem(item.key);
            stems.push_back(stem);
            const auto label = val_labels->find(stem);
            if (!label) {
                scanned.rejected.push_back(
                    {item.key, Reason::unlabeled, "no label in --val-labels"});
                continue;
            }
            if (label->wnid.empty()) {
                scanned.rejected.push_back({item.key, Reason::unknown_class, label->problem});
                continue;
            }
            item.wnid = label->wnid;
        }
        items.push_back(std::move(item));
    }
    listing.items = {};
    scanned.items = encode_items(items, source);
    if (val_labels != nullptr && labeled_by_file(source)) {
        const auto missing = val_labels->labels_without_image(stems);
        if (!missing.empty()) {
            notes.push_back(count_of(missing.size(), "label") + " in --val-labels " +
                            (missing.size() == 1 ? "names" : "name") +
                            " no image in --val-input (first: " + missing.front() + ")");
        }
    }
    return scanned;
}

std::map<std::string, std::string> unique_class_words(const plan::ClassSelection& selection,
                                                      const wordnet::Hierarchy& hierarchy) {
    std::map<std::string, std::string> wnid_by_word;
    std::set<std::string> ambiguous;
    for (const auto& [wnid, label] : selection.classes) {
        std::istringstream words(hierarchy.synset(wnid).words);
        for (std::string word; std::getline(words, word, ',');) {
            word = lower(word.substr(word.find_first_not_of(' ')));
            if (!wnid_by_word.emplace(word, wnid).second) ambiguous.insert(word);
        }
    }
    for (const auto& word : ambiguous) wnid_by_word.erase(word);
    return wnid_by_word;
}

void select_source_images(Scanned& scanned, const Inputs& inputs,
                          const plan::ClassSelection& selection,
                          const corpus::CorpusOptions& options, const corpus::ImageBoxMap& boxes,
                          std::set<std::string>& used_box_keys,
                          std::vector<corpus::BoxStats>& source_stats,
                          const std::map<std::string, std::string>& wnid_by_word) {
    const corpus::Source& source = inputs.sources[scanned.source];
    std::vector<Item> kept = items_of_selected_classes(scanned, source, selection, options);
    if (source.split == Split::train) kept = cap_and_split(std::move(kept), scanned, options);
    attach_boxes(kept, source, selection, boxes, used_box_keys, source_stats, wnid_by_word);
    for (const auto& item : kept) {
        ++scanned.per_label[item.label][static_cast<std::size_t>(item.split)];
        scanned.split_bytes[static_cast<std::size_t>(item.split)] += item.size;
    }
    scanned.items = encode_items(kept, source);
}

}  // namespace synshard::survey
