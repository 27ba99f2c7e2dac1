#include "synshard/plan/selection.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "synshard/util/error.hpp"

namespace synshard::plan {

std::optional<std::int32_t> ClassSelection::label_of(const std::string& wnid) const {
    for (const auto& [class_wnid, label] : classes) {
        if (class_wnid == wnid) return label;
    }
    return std::nullopt;
}

bool ClassSelection::was_dropped(const std::string& wnid) const {
    return std::any_of(dropped.begin(), dropped.end(), [&](const DroppedClass& dropped_class) {
        return dropped_class.wnid == wnid;
    });
}

ClassSelection select_classes(const std::map<std::string, std::uint64_t>& train_counts,
                              const std::optional<std::vector<std::string>>& class_list,
                              std::uint64_t min_per_class, corpus::LabelScheme scheme,
                              const std::vector<std::string>* devkit_classes) {
    const std::vector<std::string> no_devkit;
    const auto& devkit_table = devkit_classes != nullptr ? *devkit_classes : no_devkit;
    std::vector<std::string> candidates;
    if (class_list) {
        candidates = *class_list;
    } else {
        for (const auto& [wnid, count] : train_counts) candidates.push_back(wnid);
    }
    ClassSelection selection;
    std::vector<std::string> kept;
    for (const auto& wnid : candidates) {
        const auto found = train_counts.find(wnid);
        const std::uint64_t count = found == train_counts.end() ? 0 : found->second;
        if (count < min_per_class)
            selection.dropped.push_back({wnid, count});
        else
            kept.push_back(wnid);
    }
    std::sort(selection.dropped.begin(), selection.dropped.end(),
              [](const DroppedClass& a, const DroppedClass& b) { return a.wnid < b.wnid; });
    if (scheme == corpus::LabelScheme::sorted) std::sort(kept.begin(), kept.end());
    for (std::size_t i = 0; i < kept.size(); ++i) {
        std::int32_t label = static_cast<std::int32_t>(i);
        if (scheme == corpus::LabelScheme::ilsvrc2012_id) {
            const auto found = std::find(devkit_table.begin(), devkit_table.end(), kept[i]);
            if (found == devkit_table.end()) {
                throw UsageError("--label-scheme ilsvrc2012-id: class " + kept[i] +
                                 " is not one of the devkit's " +
                                 std::to_string(devkit_table.size()) + " classes");
            }
            label = static_cast<std::int32_t>(found - devkit_table.begin());
        }
        selection.classes.emplace_back(kept[i], label);
    }
    std::sort(selection.classes.begin(), selection.classes.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    if (scheme == corpus::LabelScheme::ilsvrc2012_id) {
        selection.table = devkit_table;
    } else {
        for (const auto& [wnid, label] : selection.classes) selection.table.push_back(wnid);
    }
    return selection;
}

namespace {

std::string counted(std::uint64_t count, const std::string& one, const std::string& many) {
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

void require_train_images(const ClassSelection& selection,
                          const std::map<std::string, std::uint64_t>& train_counts,
                          const std::optional<std::vector<std::string>>& class_list,
                          std::uint64_t min_per_class, const std::string& input,
                          std::size_t sources_without_class) {
    const auto train_images = [&](const std::string& wnid) {
        const auto found = train_counts.find(wnid);
        return found == train_counts.end() ? std::uint64_t{0} : found->second;
    };
    for (const auto& [wnid, label] : selection.classes) {
        if (train_images(wnid) > 0) return;
    }
    std::string why = "no classes selected: ";
    if (train_counts.empty()) {
        why += "--input " + input +
               " holds no synset folder nXXXXXXXX/ or tar nXXXXXXXX.tar (0 classes found";
        if (sources_without_class > 0) {
            why += "; " + counted(sources_without_class, "folder or tar", "folders or tars") +
                   " named after no WordNet noun synset";
        }
        throw Error(why + ")");
    }
    why += counted(train_counts.size(), "class", "classes") + " found in --input " + input;
    std::uint64_t largest = 0;
    if (class_list) {
        for (const auto& wnid : *class_list) largest = std::max(largest, train_images(wnid));
    } else {
        for (const auto& [wnid, count] : train_counts) largest = std::max(largest, count);
    }
    const bool one_listed = class_list && class_list->size() == 1;
    const std::string listed =
        class_list
            ? "the " + counted(class_list->size(), "class", "classes") + " listed in --classes"
            : std::string();
    if (largest == 0 && class_list) {
        why += one_listed ? ", but " + listed + " has no train image there"
                          : ", but none of " + listed + " has a train image there";
    } else if (largest == 0) {
        why += ", none with a train image";
    } else {
        why += (class_list ? ", " + listed + (one_listed ? " is" : " are all") : ", all") +
               " under --min-per-class " + std::to_string(min_per_class) + " (the largest has " +
               counted(largest, "train image", "train images") + ")";
    }
    throw Error(why);
}

std::vector<Fate> split_class(std::span<const std::uint64_t> hashes,
                              std::span<const std::string> keys, const SplitRule& rule) {
    std::vector<std::size_t> order(hashes.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return hashes[a] != hashes[b] ? hashes[a] < hashes[b] : keys[a] < keys[b];
    });
    const std::uint64_t kept =
        std::min<std::uint64_t>(order.size(), rule.max_per_class.value_or(order.size()));
    std::uint64_t to_val = 0;
    if (rule.val_per_class) to_val = std::min(*rule.val_per_class, kept / 2);
    if (rule.val_fraction) {
        to_val = std::min<std::uint64_t>(
            kept, static_cast<std::uint64_t>(std::llround(*rule.val_fraction * double(kept))));
    }
    std::vector<Fate> fates(order.size(), Fate::over_cap);
    for (std::uint64_t rank = 0; rank < kept; ++rank) {
        fates[order[rank]] = rank < to_val ? Fate::val : Fate::train;
    }
    return fates;
}

}  // namespace synshard::plan
