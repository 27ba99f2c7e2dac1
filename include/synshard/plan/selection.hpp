#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "synshard/corpus/options.hpp"

namespace synshard::plan {

struct DroppedClass {
    std::string wnid;
    std::uint64_t images = 0;  // train images found

    friend bool operator==(const DroppedClass&, const DroppedClass&) = default;
};

// The classes that stay, their labels, and the class table the labels index.
struct ClassSelection {
    // (wnid, label), in increasing label order.
    std::vector<std::pair<std::string, std::int32_t>> classes;
    // The class table, wnids by label: the classes that stay, or with ilsvrc2012-id the
    // devkit's whole table, rows without images included (a model with 1000 outputs
    // expects them all, and the labels, ID - 1, index it).
    std::vector<std::string> table;
    // Candidates with fewer than --min-per-class train images, sorted by wnid.
    std::vector<DroppedClass> dropped;

    // The label of wnid, or nullopt if it is not a selected class.
    std::optional<std::int32_t> label_of(const std::string& wnid) const;
    bool was_dropped(const std::string& wnid) const;
};

// Pure. Candidates are the class list's wnids (in file order) when given, else every wnid
// of train_counts; those with fewer than min_per_class train images are dropped (a listed
// class with no images counts 0). Labels follow the scheme (see corpus::LabelScheme):
// ilsvrc2012-id labels a class by its row in devkit_classes (corpus::Devkit::classes),
// which must hold every selected class, else UsageError naming the first it lacks.
ClassSelection select_classes(const std::map<std::string, std::uint64_t>& train_counts,
                              const std::optional<std::vector<std::string>>& class_list,
                              std::uint64_t min_per_class, corpus::LabelScheme scheme,
                              const std::vector<std::string>* devkit_classes);

// Pure. Throws Error("no classes selected: ...") unless a selected class has a train image,
// with the counts that led there: the classes found in `input` (and how many of its folders
// and tars name no synset), those --classes lists, the largest under --min-per-class.
void require_train_images(const ClassSelection& selection,
                          const std::map<std::string, std::uint64_t>& train_counts,
                          const std::optional<std::vector<std::string>>& class_list,
                          std::uint64_t min_per_class, const std::string& input,
                          std::size_t sources_without_class);

// What happens to one image of a class.
enum class Fate : std::uint8_t { train, val, over_cap };

// How a class's images are capped and split (without --val-input).
struct SplitRule {
    std::optional<std::uint64_t> max_per_class;
    std::optional<std::uint64_t> val_per_class;
    std::optional<double> val_fraction;
};

// Pure. The fate of each image of one class, given its keyed hashes and keys (parallel
// spans). Images are ordered by (hash, key): the first max_per_class stay, the rest are
// over_cap; of the n that stay, the first k go to val, k = min(K, floor(n/2)) for
// val_per_class K, round(F*n) for val_fraction F, else 0.
std::vector<Fate> split_class(std::span<const std::uint64_t> hashes,
                              std::span<const std::string> keys, const SplitRule& rule);

}  // namespace synshard::plan
