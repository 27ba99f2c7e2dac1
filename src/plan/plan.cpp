#include "synshard/plan/plan.hpp"

#include <algorithm>
#include <tuple>

#include "synshard/plan/partition.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::plan {
namespace {

nlohmann::json box_stats_json(const corpus::BoxStats& b) {
    return {{"files", b.files},
            {"unparseable", b.unparseable},
            {"boxes", b.boxes},
            {"fixed", b.fixed},
            {"dropped", b.dropped},
            {"class_names", b.class_names},
            {"placeholders", b.placeholders},
            {"unmatched", b.unmatched},
            {"given", b.given}};
}

}  // namespace

std::vector<std::size_t> Plan::pieces_of(int rank) const {
    std::vector<std::size_t> mine;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (pieces[i].rank == rank) mine.push_back(i);
    }
    return mine;
}

std::uint64_t Plan::rejected_total() const {
    std::uint64_t total = 0;
    for (const auto& [reason, count] : rejected_counts) total += count;
    return total;
}

void assign_ranks(Plan& plan) {
    std::sort(plan.pieces.begin(), plan.pieces.end(), [](const Piece& a, const Piece& b) {
        return std::tie(a.source, a.begin) < std::tie(b.source, b.begin);
    });
    std::vector<std::uint64_t> piece_bytes;
    std::vector<std::uint64_t> piece_loads;
    for (const auto& piece : plan.pieces) {
        piece_bytes.push_back(piece.bytes);
        piece_loads.push_back(load_of(piece.bytes, piece.end - piece.begin));
    }
    const auto owners = assign_pieces(piece_loads, plan.ranks);
    for (std::size_t i = 0; i < plan.pieces.size(); ++i) plan.pieces[i].rank = owners[i];
    plan.rank_bytes = rank_loads(piece_bytes, owners, plan.ranks);
    plan.rank_loads = rank_loads(piece_loads, owners, plan.ranks);
}

void partition_for(Plan& plan, const std::vector<std::vector<std::uint64_t>>& item_bytes,
                   int ranks) {
    std::uint64_t items = 0;
    for (const auto& sizes : item_bytes) items += sizes.size();
    const std::uint64_t limit =
        piece_load_limit(load_of(plan.bytes[0] + plan.bytes[1], items), ranks);
    plan.pieces.clear();
    for (std::uint32_t source = 0; source < item_bytes.size(); ++source) {
        for (const auto& range : cut_source(item_bytes[source], limit))
            plan.pieces.push_back({source, range.begin, range.end, range.bytes, 0});
    }
    plan.ranks = ranks;
    assign_ranks(plan);
}

std::vector<std::string> box_source_warnings(const Plan& plan) {
    std::vector<std::string> warnings;
    for (const auto& source : plan.box_sources) {
        if (source.val_only || source.stats.given > 0) continue;
        warnings.push_back(source.name + " gave no box to any image of the corpus (" +
                           count_of(source.stats.boxes, "box") + " read from " +
                           count_of(source.stats.files, "annotation") +
                           ", for other images or images an earlier source annotates)");
    }
    return warnings;
}

nlohmann::json to_json(const Plan& plan, const std::vector<Rejection>& rejected) {
    using nlohmann::json;
    json out;
    out["input_fingerprint"] = plan.input_fingerprint;
    out["seed"] = plan.seed;
    out["hash"] = std::string(kKeyedHashName);
    out["label_scheme"] = std::string(corpus::to_string(plan.label_scheme));
    out["wordnet"] = plan.wordnet_origin;
    out["val_split"] = plan.val_rule;
    if (!plan.devkit.empty()) out["devkit"] = plan.devkit;
    json classes = json::array();
    for (const auto& entry : plan.classes) {
        json item{{"label", entry.label},
                  {"synset", entry.wnid},
                  {"words", entry.words},
                  {"gloss", entry.gloss},
                  {"ancestors", entry.ancestors},
                  {"counts", {{"train", entry.images[0]}, {"val", entry.images[1]}}}};
        if (entry.ilsvrc2012_id != 0) item["ilsvrc2012_id"] = entry.ilsvrc2012_id;
        classes.push_back(std::move(item));
    }
    out["classes"] = std::move(classes);
    json dropped = json::array();
    for (const auto& entry : plan.dropped_classes)
        dropped.push_back({{"synset", entry.wnid}, {"images", entry.images}});
    out["dropped_classes"] = std::move(dropped);
    json hierarchy{{"nodes", json::array()}, {"edges", json::array()}};
    for (const auto& node : plan.hierarchy.nodes) {
        hierarchy["nodes"].push_back(
            {{"synset", node.wnid}, {"words", node.words}, {"depth", node.depth}});
    }
    for (const auto& [parent, child] : plan.hierarchy.edges)
        hierarchy["edges"].push_back({parent, child});
    out["hierarchy"] = std::move(hierarchy);
    for (std::size_t split = 0; split < 2; ++split) {
        out["splits"][std::string(corpus::to_string(static_cast<Split>(split)))] = {
            {"images", plan.images[split]}, {"bytes", plan.bytes[split]}};
    }
    out["scanned"] = plan.scanned;
    json counts = json::object();
    for (const auto& [reason, count] : plan.rejected_counts)
        counts[std::string(to_string(reason))] = count;
    out["rejected_counts"] = std::move(counts);
    json list = json::array();
    for (const auto& rejection : rejected) {
        list.push_back({{"key", rejection.key},
                        {"reason", std::string(to_string(rejection.reason))},
                        {"detail", rejection.detail}});
    }
    out["rejected"] = std::move(list);
    out["box_origin"] = static_cast<int>(plan.box_origin);
    out["boxes"] = box_stats_json(plan.boxes);
    out["boxes"]["sources"] = json::array();
    for (const auto& source : plan.box_sources) {
        json entry = box_stats_json(source.stats);
        entry["source"] = source.name;
        out["boxes"]["sources"].push_back(std::move(entry));
    }
    out["notes"] = plan.notes;
    json sources = json::array();
    for (const auto& summary : plan.sources) {
        sources.push_back({{"name", summary.source.name},
                           {"kind", std::string(corpus::to_string(summary.source.kind))},
                           {"items", summary.items},
                           {"bytes", summary.bytes}});
    }
    out["sources"] = std::move(sources);
    json pieces = json::array();
    for (const auto& piece : plan.pieces) {
        pieces.push_back({{"source", plan.sources[piece.source].source.name},
                          {"begin", piece.begin},
                          {"end", piece.end},
                          {"bytes", piece.bytes},
                          {"rank", piece.rank}});
    }
    out["partition"] = {{"ranks", plan.ranks},
                        {"rank_bytes", plan.rank_bytes},
                        {"rank_loads", plan.rank_loads},
                        {"max_over_mean", max_over_mean(plan.rank_loads)},
                        {"pieces", std::move(pieces)}};
    return out;
}

}  // namespace synshard::plan
