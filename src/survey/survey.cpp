#include "synshard/survey/survey.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "inner_walks.hpp"
#include "sources.hpp"
#include "synshard/corpus/archive_input.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/plan/partition.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/log.hpp"
#include "synshard/util/quantity.hpp"

namespace synshard::survey {
namespace {

using corpus::Split;

// What this rank scanned, and the notes its scan left.
struct RankScan {
    std::vector<Scanned> sources;
    std::vector<std::string> notes;
    // The metadata this rank read for its sources (--val-labels, --boxes), named and
    // digested for the resume fingerprint.
    std::vector<std::pair<std::string, std::string>> metadata;
    // The val labels this rank read are a LOC csv: they also give the val boxes.
    bool val_labels_give_boxes = false;
    // The walks of the --input archive's inner tars this rank scanned, encoded, and how
    // many of them were saved by an earlier run.
    std::map<corpus::InnerTar, std::string> inner_walks;
    std::uint64_t saved_walks = 0;
};

// A gzipped --input is read through its seek index: the root reuses the saved one or
// builds it in one pass while the others wait, then every rank loads it and checks that it
// is the root's (a rank on another file system would read another file).
void share_gzip_index(const corpus::CorpusOptions& options, const mpi::Comm& comm) {
    if (!corpus::is_gzip_file(options.input)) return;
    const auto& index_path = *options.archive_index;
    const std::string digest = mpi::run_phase(comm, "plan: gzip index", [&] {
        if (!comm.is_root()) return std::string();
        return corpus::load_or_build_gzip_index(options.input, index_path, "--input").digest;
    });
    const std::string roots = comm.broadcast(digest);
    mpi::run_phase(comm, "plan: load gzip index", [&] {
        const auto loaded = corpus::load_gzip_index(index_path, options.input);
        if (!loaded || loaded->digest != roots) {
            throw Error("--archive-index " + index_path.string() +
                        " is not the index the root rank built for " + options.input.string() +
                        " (every rank must see the same files)");
        }
    });
}

// The inputs, found and read by every rank alike.
Inputs discover_inputs(const corpus::CorpusOptions& options, const mpi::Comm& comm) {
    share_gzip_index(options, comm);
    return mpi::run_phase(comm, "plan: discover",
                          [&] { return std::make_optional(discover(options)); })
        .value();
}

// Lists this rank's sources (scanner_of) and classes their images.
RankScan scan_own_sources(const Inputs& inputs, const corpus::CorpusOptions& options,
                          const mpi::Comm& comm) {
    return mpi::run_phase(comm, "plan: scan", [&] {
        RankScan scan;
        std::optional<corpus::ValLabels> val_labels;
        std::map<corpus::InnerTar, corpus::OuterListing> saved;
        const auto listings = inner_listings_path(options);
        if (listings) {
            std::vector<corpus::InnerTar> mine;
            for (std::size_t i = 0; i < inputs.sources.size(); ++i) {
                if (scanner_of(inputs, i, comm.size()) == comm.rank() &&
                    is_inner_tar(inputs.sources[i])) {
                    mine.push_back(inner_tar_of(inputs.sources[i]));
                }
            }
            saved = corpus::load_inner_listings(*listings, options.input, inner_tars_digest(inputs),
                                                mine);
            scan.saved_walks = saved.size();
        }
        for (std::size_t i = 0; i < inputs.sources.size(); ++i) {
            if (scanner_of(inputs, i, comm.size()) != comm.rank()) continue;
            if (labeled_by_file(inputs.sources[i]) && !val_labels) {
                const corpus::Devkit* devkit = inputs.devkit ? &*inputs.devkit : nullptr;
                if (inputs.val_labels_in_devkit) {
                    val_labels = corpus::ValLabels::parse(
                        devkit->ground_truth,
                        "--devkit " + devkit->ground_truth_member + " in " + devkit->file.string(),
                        devkit);
                    scan.metadata.emplace_back(
                        metadata_name("--devkit", devkit->file) + " " + devkit->ground_truth_member,
                        val_labels->content());
                } else {
                    val_labels = corpus::ValLabels::read(*inputs.val_labels_file, devkit);
                    scan.metadata.emplace_back(
                        metadata_name("--val-labels", *inputs.val_labels_file),
                        val_labels->content());
                }
                scan.val_labels_give_boxes =
                    val_labels->format() == corpus::ValLabels::Format::loc_csv;
            }
            std::optional<corpus::OuterListing> walk;
            const bool inner = listings && is_inner_tar(inputs.sources[i]);
            if (inner) {
                const auto found = saved.find(inner_tar_of(inputs.sources[i]));
                if (found != saved.end()) walk = std::move(found->second);
            }
            scan.sources.push_back(scan_source(inputs, i, options,
                                               val_labels ? &*val_labels : nullptr, scan.notes,
                                               inner ? &walk : nullptr));
            if (walk) {
                scan.inner_walks.emplace(inner_tar_of(inputs.sources[i]),
                                         corpus::encode_outer_listing(*walk));
            }
        }
        return scan;
    });
}

// Every rank learns the train images per wnid and selects the same classes from them; a
// run that selects nothing stops here, before any image is decoded.
plan::ClassSelection agree_on_classes(const RankScan& scan, const Inputs& inputs,
                                      const corpus::CorpusOptions& options, const mpi::Comm& comm) {
    ByteWriter counts;
    for (const auto& source : scan.sources) {
        const corpus::Source& spec = inputs.sources[source.source];
        if (spec.split != Split::train || !spec.no_class_detail.empty()) continue;
        counts.put_string(spec.wnid);
        counts.put<std::uint64_t>(source.items.count);
    }
    const auto gathered = comm.all_gather(counts.buffer());
    return mpi::run_phase(comm, "plan: select classes", [&] {
        std::map<std::string, std::uint64_t> train_counts;
        for (const auto& bytes : gathered) {
            ByteReader in(bytes);
            while (!in.at_end()) {
                const std::string wnid = in.get_string();
                train_counts[wnid] += in.get<std::uint64_t>();
            }
        }
        const auto train_sources_without_class = static_cast<std::size_t>(std::count_if(
            inputs.sources.begin(), inputs.sources.end(), [](const corpus::Source& source) {
                return source.split == Split::train && !source.no_class_detail.empty();
            }));
        auto chosen = plan::select_classes(train_counts, inputs.class_list, options.min_per_class,
                                           options.label_scheme,
                                           inputs.devkit ? &inputs.devkit->classes : nullptr);
        plan::require_train_images(chosen, train_counts, inputs.class_list, options.min_per_class,
                                   options.input.string(), train_sources_without_class);
        // A class of the table WordNet does not know fails here, on every rank alike.
        for (const auto& wnid : chosen.table) inputs.hierarchy.synset(wnid);
        return chosen;
    });
}

// Every box source of the run, in the order they win an image (corpus::box_sources).
std::vector<corpus::BoxSource> all_box_sources(const Inputs& inputs,
                                               const corpus::CorpusOptions& options) {
    return corpus::box_sources(options.boxes, inputs.val_labels_file);
}

// Caps, splits and attaches boxes to this rank's sources. Returns the box statistics of
// each of all_box_sources.
std::vector<corpus::BoxStats> select_images(RankScan& scan, const Inputs& inputs,
                                            const plan::ClassSelection& selection,
                                            const corpus::CorpusOptions& options,
                                            const mpi::Comm& comm) {
    std::vector<corpus::BoxStats> box_stats(all_box_sources(inputs, options).size());
    mpi::run_phase(comm, "plan: select images", [&] {
        // Sources sharing a box prefix (a class's train sources; all val sources) are
        // selected together, with only that prefix's boxes loaded.
        std::map<std::string, std::vector<Scanned*>> by_prefix;
        for (auto& source : scan.sources) {
            const auto& spec = inputs.sources[source.source];
            if (!spec.no_class_detail.empty()) continue;  // the scan rejected all its images
            by_prefix[spec.split == Split::val ? std::string("val") : spec.wnid].push_back(&source);
        }
        std::set<std::string> prefixes;
        for (const auto& [prefix, sources] : by_prefix) prefixes.insert(prefix);
        // Only the rank that read the val labels knows whether they are a LOC csv; the
        // others hold no val image. Left out, they are the last of all_box_sources, so the
        // loader's source indexes are those of all_box_sources.
        const auto sources = corpus::box_sources(
            options.boxes, scan.val_labels_give_boxes ? inputs.val_labels_file : std::nullopt);
        corpus::BoxLoader box_loader(sources, prefixes, options.box_origin);
        const auto wnid_by_word = unique_class_words(selection, inputs.hierarchy);
        for (const auto& [prefix, scanned] : by_prefix) {
            const corpus::ImageBoxMap boxes = box_loader.take(prefix);
            std::set<std::string> used;
            for (Scanned* source : scanned)
                select_source_images(*source, inputs, selection, options, boxes, used, box_stats,
                                     wnid_by_word);
            for (const auto& [key, image] : boxes) {
                if (used.count(key) == 0) ++box_stats[image.source].unmatched;
            }
        }
        for (std::size_t i = 0; i < box_loader.stats().size(); ++i)
            box_stats[i] += box_loader.stats()[i];
        for (const auto& read : box_loader.read()) {
            const corpus::BoxSource& source = sources[read.source];
            std::string name = metadata_name(source.option, source.path);
            if (!read.prefix.empty()) name += " for " + read.prefix;
            scan.metadata.emplace_back(std::move(name), read.content);
        }
    });
    return box_stats;
}

void put_box_stats(ByteWriter& out, const corpus::BoxStats& s) {
    for (auto v : {s.files, s.unparseable, s.boxes, s.fixed, s.dropped, s.class_names,
                   s.placeholders, s.unmatched, s.given}) {
        out.put<std::uint64_t>(v);
    }
}

corpus::BoxStats get_box_stats(ByteReader& in) {
    corpus::BoxStats s;
    for (auto* v : {&s.files, &s.unparseable, &s.boxes, &s.fixed, &s.dropped, &s.class_names,
                    &s.placeholders, &s.unmatched, &s.given}) {
        *v = in.get<std::uint64_t>();
    }
    return s;
}

// What this rank tells every other about its sources: rejection counts, box statistics
// per box source, notes, and per source its planned images per label and split and its
// cut into pieces of at most `limit` bytes.
ByteWriter report_sources(const RankScan& scan, const std::vector<corpus::BoxStats>& box_stats,
                          const Inputs& inputs, std::uint64_t limit, std::uint64_t seed) {
    ByteWriter report;
    std::map<Reason, std::uint64_t> reasons;
    for (const auto& source : scan.sources) {
        for (const auto& rejection : source.rejected) ++reasons[rejection.reason];
    }
    report.put<std::uint64_t>(reasons.size());
    for (const auto& [reason, count] : reasons) {
        report.put(static_cast<std::uint8_t>(reason));
        report.put<std::uint64_t>(count);
    }
    for (const auto& stats : box_stats) put_box_stats(report, stats);
    report.put<std::uint64_t>(scan.notes.size());
    for (const auto& note : scan.notes) report.put_string(note);
    report.put<std::uint64_t>(scan.sources.size());
    for (const auto& source : scan.sources) {
        report.put<std::uint64_t>(source.source);
        report.put<std::uint64_t>(source.per_label.size());
        for (const auto& [label, images] : source.per_label) {
            report.put<std::int32_t>(label);
            report.put(images);
        }
        std::vector<std::uint64_t> sizes;
        for (const auto& item : decode_items(source.items.bytes, source.items.count,
                                             inputs.sources[source.source], seed))
            sizes.push_back(item.size);
        report.put_vector(plan::cut_source(sizes, limit));
    }
    return report;
}

std::string describe_val_rule(const corpus::CorpusOptions& options) {
    if (options.val_input) return "official";
    std::ostringstream text;
    if (options.val_per_class)
        text << "per-class " << *options.val_per_class;
    else if (options.val_fraction)
        text << "fraction " << *options.val_fraction;
    else
        text << "none";
    return text.str();
}

// What every rank knows of the plan before the reports: the classes, their hierarchy and
// the sources, with nothing counted yet but the rejections of discovery.
plan::Plan plan_of_selection(const Inputs& inputs, const plan::ClassSelection& selection,
                             const corpus::CorpusOptions& options, int ranks) {
    plan::Plan plan;
    plan.seed = options.seed;
    plan.label_scheme = options.label_scheme;
    plan.wordnet_origin = inputs.hierarchy.origin();
    plan.val_rule = describe_val_rule(options);
    plan.box_origin = options.box_origin;
    for (const auto& source : all_box_sources(inputs, options))
        plan.box_sources.push_back(
            {metadata_name(source.option, source.path), source.val_only, {}});
    plan.ranks = ranks;
    plan.dropped_classes = selection.dropped;
    if (inputs.devkit) plan.devkit = inputs.devkit->describe();
    for (std::size_t label = 0; label < selection.table.size(); ++label) {
        const std::string& wnid = selection.table[label];
        const auto& synset = inputs.hierarchy.synset(wnid);
        plan::ClassEntry entry{
            static_cast<std::int32_t>(label), wnid, synset.words, synset.gloss, 0,
            inputs.hierarchy.ancestors(wnid), {}};
        if (inputs.devkit && inputs.devkit->id_by_wnid.count(wnid) != 0) {
            entry.ilsvrc2012_id = inputs.devkit->id_by_wnid.at(wnid);
        }
        plan.classes.push_back(std::move(entry));
    }
    plan.hierarchy = inputs.hierarchy.sub_dag(selection.table);
    for (const auto& source : inputs.sources) plan.sources.push_back({source, 0, 0});
    for (const auto& rejection : inputs.discovery_rejected)
        ++plan.rejected_counts[rejection.reason];
    return plan;
}

plan::ClassEntry& class_with_label(plan::Plan& plan, std::int32_t label) {
    const auto found = std::lower_bound(
        plan.classes.begin(), plan.classes.end(), label,
        [](const plan::ClassEntry& entry, std::int32_t value) { return entry.label < value; });
    if (found == plan.classes.end() || found->label != label)
        throw Error("plan exchange: a report names label " + std::to_string(label));
    return *found;
}

// Adds one rank's report_sources to the plan.
void add_report(plan::Plan& plan, ByteReader& in) {
    for (auto reasons = in.get<std::uint64_t>(); reasons > 0; --reasons) {
        const auto reason = static_cast<Reason>(in.get<std::uint8_t>());
        plan.rejected_counts[reason] += in.get<std::uint64_t>();
    }
    for (auto& source : plan.box_sources) {
        const corpus::BoxStats stats = get_box_stats(in);
        source.stats += stats;
        plan.boxes += stats;
    }
    for (auto notes = in.get<std::uint64_t>(); notes > 0; --notes)
        plan.notes.push_back(in.get_string());
    for (auto sources = in.get<std::uint64_t>(); sources > 0; --sources) {
        const auto source = static_cast<std::uint32_t>(in.get<std::uint64_t>());
        if (source >= plan.sources.size()) throw Error("plan exchange: a report names no source");
        auto& summary = plan.sources[source];
        for (auto labels = in.get<std::uint64_t>(); labels > 0; --labels) {
            auto& entry = class_with_label(plan, in.get<std::int32_t>());
            const auto images = in.get<std::array<std::uint64_t, 2>>();
            for (std::size_t split = 0; split < 2; ++split) {
                entry.images[split] += images[split];
                plan.images[split] += images[split];
                summary.items += images[split];
            }
        }
        for (const auto& range : in.get_vector<plan::ItemRange>()) {
            summary.bytes += range.bytes;
            plan.pieces.push_back({source, range.begin, range.end, range.bytes, 0});
        }
    }
}

// Orders what the reports added and gives every piece its rank.
void partition(plan::Plan& plan) {
    std::sort(plan.notes.begin(), plan.notes.end());
    plan::assign_ranks(plan);
    plan.scanned = plan.images[0] + plan.images[1] + plan.rejected_total();
}

// Cuts this rank's sources into pieces and tells every rank what they hold; every rank
// then assembles the same plan (all but the input fingerprint) and partitions it.
plan::Plan assemble_plan(const RankScan& scan, const std::vector<corpus::BoxStats>& box_stats,
                         const Inputs& inputs, const plan::ClassSelection& selection,
                         const corpus::CorpusOptions& options, const mpi::Comm& comm) {
    // Train bytes, val bytes, images.
    std::array<std::uint64_t, 3> totals{};
    for (const auto& source : scan.sources) {
        for (std::size_t split = 0; split < 2; ++split) totals[split] += source.split_bytes[split];
        totals[2] += source.items.count;
    }
    const auto corpus_totals = comm.sum(std::span<const std::uint64_t>(totals));
    const std::uint64_t limit = plan::piece_load_limit(
        plan::load_of(corpus_totals[0] + corpus_totals[1], corpus_totals[2]), comm.size());
    ByteWriter report = mpi::run_phase(comm, "plan: cut pieces", [&] {
        return report_sources(scan, box_stats, inputs, limit, options.seed);
    });
    const auto reports = comm.all_gather(report.buffer());
    return mpi::run_phase(comm, "plan: partition", [&] {
        plan::Plan plan = plan_of_selection(inputs, selection, options, comm.size());
        for (const auto& bytes : reports) {
            ByteReader in(bytes);
            add_report(plan, in);
        }
        // Val labels that are not a LOC csv (a devkit ground truth, wnid lines) hold no box.
        std::erase_if(plan.box_sources, [](const plan::BoxSourceSummary& source) {
            return source.val_only && source.stats.files == 0;
        });
        partition(plan);
        plan.bytes = {corpus_totals[0], corpus_totals[1]};
        return plan;
    });
}

// This rank's scanned sources cut into the plan's pieces, by piece index; each source's
// encoding is released once it is cut.
std::map<std::size_t, EncodedItems> cut_into_pieces(std::vector<Scanned>& scanned,
                                                    const plan::Plan& plan, const Inputs& inputs) {
    std::map<std::size_t, Scanned*> scanned_by_source;
    for (auto& source : scanned) scanned_by_source[source.source] = &source;
    std::map<std::size_t, EncodedItems> cut;
    for (std::size_t first = 0; first < plan.pieces.size();) {
        const std::uint32_t source = plan.pieces[first].source;
        std::size_t last = first;
        while (last < plan.pieces.size() && plan.pieces[last].source == source) ++last;
        const auto found = scanned_by_source.find(source);
        if (found != scanned_by_source.end()) {
            EncodedItems& items = found->second->items;
            const auto offsets = item_offsets(items, inputs.sources[source]);
            for (std::size_t i = first; i < last; ++i) {
                const plan::Piece& piece = plan.pieces[i];
                const auto begin = items.bytes.begin();
                cut[i] = {std::vector<std::uint8_t>(
                              begin + static_cast<std::ptrdiff_t>(offsets[piece.begin]),
                              begin + static_cast<std::ptrdiff_t>(offsets[piece.end])),
                          piece.end - piece.begin};
            }
            items = {};
        }
        first = last;
    }
    return cut;
}

// Sends every piece's items to the rank that processes it (this rank's own pieces stay
// here, never passing through the exchange) and returns this rank's share.
RankShare exchange_items(std::map<std::size_t, EncodedItems> cut, const plan::Plan& plan,
                         const mpi::Comm& comm) {
    std::map<std::size_t, EncodedItems> held;
    std::vector<std::size_t> outgoing;
    for (auto& [piece, items] : cut) {
        if (plan.pieces[piece].rank == comm.rank())
            held[piece] = std::move(items);
        else
            outgoing.push_back(piece);
    }
    auto incoming = comm.route(
        outgoing.size(), [&](std::size_t i) { return plan.pieces[outgoing[i]].rank; },
        [&](ByteWriter& out, std::size_t i) {
            EncodedItems& items = cut.at(outgoing[i]);
            out.put<std::uint64_t>(outgoing[i]);
            out.put(items.count);
            out.put_bytes(items.bytes);
            items = {};  // its bytes are in the message now: hold them once
        });
    return mpi::run_phase(comm, "plan: exchange items", [&] {
        mpi::for_each_routed(incoming, [&](int, ByteReader& in) {
            EncodedItems& items = held[in.get<std::uint64_t>()];
            items.count = in.get<std::uint32_t>();
            const auto bytes = in.get_bytes();
            items.bytes.assign(bytes.begin(), bytes.end());
        });
        RankShare share;
        for (auto& [piece, items] : held) {
            share.pieces.push_back(piece);
            share.counts.push_back(items.count);
            share.encoded.push_back(std::move(items.bytes));
        }
        if (share.pieces != plan.pieces_of(comm.rank()))
            throw Error("plan exchange: the items of this rank's pieces did not all arrive");
        return share;
    });
}

std::string gather_fingerprint(const std::vector<Scanned>& scanned, const mpi::Comm& comm) {
    std::vector<manifest::GroupDigest> digests;
    digests.reserve(scanned.size());
    for (const auto& source : scanned) digests.push_back(source.digest);
    const auto gathered = comm.all_gather(manifest::encode_digests(digests));
    return mpi::run_phase(comm, "plan: fingerprint", [&] {
        std::vector<manifest::GroupDigest> all_digests;
        for (const auto& bytes : gathered) {
            auto part = manifest::decode_digests(bytes);
            all_digests.insert(all_digests.end(), part.begin(), part.end());
        }
        return manifest::input_fingerprint(std::move(all_digests));
    });
}

// Every input any rank read, in one fingerprint on every rank. What every rank reads
// (WordNet, a --boxes CSV, ...) arrives once from each: equal copies are one input.
manifest::ResumeFingerprint gather_resume_fingerprint(const RankScan& scan, const Inputs& inputs,
                                                      const corpus::CorpusOptions& options,
                                                      const mpi::Comm& comm) {
    ByteWriter mine;
    const auto put = [&](const std::string& name, const std::string& digest) {
        mine.put_string(name);
        mine.put_string(digest);
    };
    for (const auto& [name, digest] : inputs.metadata) put(name, digest);
    for (const auto& [name, digest] : scan.metadata) put(name, digest);
    for (const auto& source : scan.sources)
        put(inputs.sources[source.source].name, source.resume_digest);
    const auto gathered = comm.all_gather(mine.buffer());
    return mpi::run_phase(comm, "plan: resume fingerprint", [&] {
        std::vector<std::pair<std::string, std::string>> read;
        for (const auto& bytes : gathered) {
            ByteReader in(bytes);
            while (!in.at_end()) {
                std::string name = in.get_string();
                read.emplace_back(std::move(name), in.get_string());
            }
        }
        return manifest::resume_fingerprint(std::string(to_string(options.fingerprint)),
                                            std::move(read));
    });
}

// On the root, every rejection of the survey, sorted by key; empty on the other ranks.
std::vector<Rejection> gather_rejections(const std::vector<Scanned>& scanned, const Inputs& inputs,
                                         const mpi::Comm& comm) {
    ByteWriter mine;
    for (const auto& source : scanned) write_rejections(mine, source.rejected);
    auto gathered = comm.gather(mine.buffer());
    mine = {};
    return mpi::run_phase(comm, "plan: rejections", [&] {
        std::vector<Rejection> rejected;
        if (!comm.is_root()) return rejected;
        rejected = inputs.discovery_rejected;
        for (auto& bytes : gathered) {
            ByteReader in(bytes);
            while (!in.at_end()) {
                auto part = read_rejections(in);
                rejected.insert(rejected.end(), std::make_move_iterator(part.begin()),
                                std::make_move_iterator(part.end()));
            }
            bytes = {};  // read: the root holds every rejection once, decoded
        }
        std::sort(rejected.begin(), rejected.end(), [](const Rejection& a, const Rejection& b) {
            return std::tie(a.key, a.reason) < std::tie(b.key, b.reason);
        });
        return rejected;
    });
}

}  // namespace

std::uint64_t RankShare::item_count() const {
    return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

std::vector<corpus::Item> PlanResult::share_items(std::size_t i) const {
    const plan::Piece& piece = plan.pieces[share.pieces[i]];
    return decode_items(share.encoded[i], share.counts[i], plan.sources[piece.source].source,
                        plan.seed);
}

PlanResult make_plan(const corpus::CorpusOptions& options, const mpi::Comm& comm,
                     std::uint64_t save_round_bytes) {
    const Inputs inputs = discover_inputs(options, comm);
    RankScan scan = scan_own_sources(inputs, options, comm);
    save_inner_walks(scan.inner_walks, scan.saved_walks, inputs, options, save_round_bytes, comm);
    const plan::ClassSelection selection = agree_on_classes(scan, inputs, options, comm);
    const auto box_stats = select_images(scan, inputs, selection, options, comm);
    PlanResult result;
    result.plan = assemble_plan(scan, box_stats, inputs, selection, options, comm);
    result.share =
        exchange_items(cut_into_pieces(scan.sources, result.plan, inputs), result.plan, comm);
    result.plan.input_fingerprint = gather_fingerprint(scan.sources, comm);
    result.resume_fingerprint = gather_resume_fingerprint(scan, inputs, options, comm);
    result.rejected = gather_rejections(scan.sources, inputs, comm);
    return result;
}

}  // namespace synshard::survey
