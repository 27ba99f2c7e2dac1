#include "synshard/plan/plan.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <numeric>
#include <set>
#include <span>
#include <sstream>

#include "synshard/corpus/devkit.hpp"
#include "synshard/corpus/val_labels.hpp"
#include "synshard/manifest/fingerprint.hpp"
#include "synshard/mpi/phase.hpp"
#include "synshard/plan/partition.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::plan {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// A compact little-endian encoding for what ranks exchange (millions of items at scale).
class Writer {
  public:
    void u8(std::uint8_t v) { bytes_.push_back(v); }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    // LEB128: small numbers (lengths, sizes, labels) take one to three bytes.
    void varint(std::uint64_t v) {
        for (; v >= 0x80; v >>= 7) bytes_.push_back(static_cast<std::uint8_t>(v | 0x80));
        bytes_.push_back(static_cast<std::uint8_t>(v));
    }
    void f32(float v) {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &v, sizeof bits);
        for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
    }
    void str(std::string_view s) {
        varint(s.size());
        bytes_.insert(bytes_.end(), s.begin(), s.end());
    }
    void raw(std::span<const std::uint8_t> bytes) {
        bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    }
    Bytes& bytes() { return bytes_; }

  private:
    Bytes bytes_;
};

class Reader {
  public:
    explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    bool done() const { return at_ == bytes_.size(); }
    std::size_t offset() const { return at_; }
    std::uint8_t u8() { return take(1)[0]; }
    std::uint64_t u64() {
        const std::uint8_t* p = take(8);
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t(p[i]) << (8 * i);
        return v;
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const std::uint8_t byte = u8();
            v |= std::uint64_t(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return v;
        }
        throw Error("plan exchange: malformed number");
    }
    float f32() {
        const std::uint8_t* p = take(4);
        std::uint32_t bits = 0;
        for (int i = 0; i < 4; ++i) bits |= std::uint32_t(p[i]) << (8 * i);
        float v = 0;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    std::string_view view() {
        const std::size_t size = varint();
        return {reinterpret_cast<const char*>(take(size)), size};
    }
    std::string str() { return std::string(view()); }
    std::span<const std::uint8_t> raw(std::size_t n) { return {take(n), n}; }

  private:
    const std::uint8_t* take(std::size_t n) {
        if (bytes_.size() - at_ < n) throw Error("plan exchange: message truncated");
        const std::uint8_t* p = bytes_.data() + at_;
        at_ += n;
        return p;
    }
    std::span<const std::uint8_t> bytes_;
    std::size_t at_ = 0;
};

// Items are held encoded while a rank keeps them (its scanned sources, its share), a few
// dozen bytes each: what follows from the item's source (the key's prefix, the path, the
// member name, the folder's wnid) or from the seed (the hash) is not stored, nor is a
// box's wnid when it is the item's.
enum ItemFlags : std::uint8_t { kVal = 1, kOwnLocation = 2, kOwnWnid = 4, kOwnKeyPrefix = 8 };
enum BoxFlags : std::uint8_t { kBoxOwnWnid = 1 };

// The file name (folders) or member path (tars) a key implies in its source.
std::string_view implied_name(std::string_view key, const corpus::Source& source) {
    return key.substr(source.key_prefix.size());
}

bool location_implied(const Item& item, const corpus::Source& source) {
    if (!item.key.starts_with(source.key_prefix)) return false;
    const std::string_view name = implied_name(item.key, source);
    if (source.kind == corpus::Source::Kind::tar)
        return item.path == source.path.string() && item.member == name;
    return item.member.empty() && item.path == (source.path / name).string();
}

void encode_item(Writer& out, const Item& item, const corpus::Source& source) {
    const bool own_key_prefix = !item.key.starts_with(source.key_prefix);
    const bool own_location = !location_implied(item, source);
    const bool own_wnid = item.wnid != source.wnid;
    out.u8(static_cast<std::uint8_t>((item.split == Split::val ? kVal : 0) |
                                     (own_location ? kOwnLocation : 0) | (own_wnid ? kOwnWnid : 0) |
                                     (own_key_prefix ? kOwnKeyPrefix : 0)));
    out.str(own_key_prefix ? std::string_view(item.key) : implied_name(item.key, source));
    if (own_location) {
        out.str(item.path);
        out.str(item.member);
    }
    if (own_wnid) out.str(item.wnid);
    out.varint(static_cast<std::uint64_t>(static_cast<std::int64_t>(item.label) + 1));
    out.varint(item.size);
    out.varint(item.boxes.size());
    for (const auto& box : item.boxes) {
        const bool box_own_wnid = box.wnid != item.wnid;
        out.u8(box_own_wnid ? kBoxOwnWnid : 0);
        out.f32(box.box.xmin);
        out.f32(box.box.ymin);
        out.f32(box.box.xmax);
        out.f32(box.box.ymax);
        if (box_own_wnid) out.str(box.wnid);
        out.varint(static_cast<std::uint64_t>(static_cast<std::int64_t>(box.label) + 1));
    }
}

std::int32_t decode_label(Reader& in) {
    return static_cast<std::int32_t>(static_cast<std::int64_t>(in.varint()) - 1);
}

Item decode_item(Reader& in, const corpus::Source& source, std::uint64_t seed) {
    Item item;
    const std::uint8_t flags = in.u8();
    item.key = (flags & kOwnKeyPrefix) != 0 ? in.str() : source.key_prefix + in.str();
    item.split = (flags & kVal) != 0 ? Split::val : Split::train;
    if ((flags & kOwnLocation) != 0) {
        item.path = in.str();
        item.member = in.str();
    } else if (source.kind == corpus::Source::Kind::tar) {
        item.path = source.path.string();
        item.member = implied_name(item.key, source);
    } else {
        item.path = (source.path / implied_name(item.key, source)).string();
    }
    item.wnid = (flags & kOwnWnid) != 0 ? in.str() : source.wnid;
    item.label = decode_label(in);
    item.size = in.varint();
    item.hash = keyed_hash(seed, item.key);
    item.boxes.resize(in.varint());
    for (auto& box : item.boxes) {
        const std::uint8_t box_flags = in.u8();
        box.box.xmin = in.f32();
        box.box.ymin = in.f32();
        box.box.xmax = in.f32();
        box.box.ymax = in.f32();
        box.wnid = (box_flags & kBoxOwnWnid) != 0 ? in.str() : item.wnid;
        box.label = decode_label(in);
    }
    return item;
}

// A source's items, encoded back to back in key order.
struct EncodedItems {
    Bytes bytes;
    std::uint32_t count = 0;
};

EncodedItems encode_items(const std::vector<Item>& items, const corpus::Source& source) {
    Writer out;
    for (const auto& item : items) encode_item(out, item, source);
    EncodedItems encoded{std::move(out.bytes()), static_cast<std::uint32_t>(items.size())};
    encoded.bytes.shrink_to_fit();
    return encoded;
}

std::vector<Item> decode_items(std::span<const std::uint8_t> bytes, std::size_t count,
                               const corpus::Source& source, std::uint64_t seed) {
    std::vector<Item> items;
    items.reserve(count);
    Reader in(bytes);
    while (!in.done()) items.push_back(decode_item(in, source, seed));
    if (items.size() != count) throw Error("plan exchange: item count mismatch");
    return items;
}

void write_stats(Writer& out, const corpus::BoxStats& s) {
    for (auto v : {s.files, s.unparseable, s.boxes, s.fixed, s.dropped, s.class_names,
                   s.placeholders, s.unmatched}) {
        out.u64(v);
    }
}

corpus::BoxStats read_stats(Reader& in) {
    corpus::BoxStats s;
    for (auto* v : {&s.files, &s.unparseable, &s.boxes, &s.fixed, &s.dropped, &s.class_names,
                    &s.placeholders, &s.unmatched}) {
        *v = in.u64();
    }
    return s;
}

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

// Everything every rank knows before scanning: identical on all ranks.
struct Setup {
    std::vector<corpus::Source> sources;  // train (by name), then val (by name)
    std::vector<Rejection> discovery_rejected;
    std::optional<std::vector<std::string>> class_list;
    std::optional<corpus::Devkit> devkit;
    std::optional<fs::path> val_labels_file;
    wordnet::Hierarchy hierarchy;
    int val_owner = 0;

    int owner_of(std::size_t source) const {
        return sources[source].split == Split::val ? val_owner : -1;
    }
};

Setup prepare(const corpus::CorpusOptions& options, const mpi::Comm& comm) {
    Setup setup;
    setup.hierarchy = options.wordnet ? wordnet::Hierarchy::load(*options.wordnet)
                                      : wordnet::Hierarchy::load_default();
    auto train = corpus::discover_train(options.input, setup.hierarchy);
    setup.sources = std::move(train.sources);
    setup.discovery_rejected = std::move(train.rejected);
    if (options.classes) setup.class_list = read_class_list(*options.classes);
    if (options.devkit) setup.devkit = corpus::read_devkit(*options.devkit);
    if (options.val_input) {
        auto val = corpus::discover_val(*options.val_input, setup.hierarchy);
        const bool flat = val.sources.size() == 1 && val.sources.front().wnid.empty();
        setup.val_labels_file = options.val_labels;
        if (flat && !setup.val_labels_file && options.devkit) {
            const fs::path truth =
                *options.devkit / "data" / "ILSVRC2012_validation_ground_truth.txt";
            if (fs::exists(truth)) setup.val_labels_file = truth;
        }
        if (flat && !setup.val_labels_file) {
            throw UsageError("--val-input " + options.val_input->string() +
                             " is a flat folder: its labels need --val-labels FILE (or --devkit)");
        }
        setup.sources.insert(setup.sources.end(), val.sources.begin(), val.sources.end());
        setup.discovery_rejected.insert(setup.discovery_rejected.end(), val.rejected.begin(),
                                        val.rejected.end());
    }
    setup.val_owner = comm.size() - 1;
    return setup;
}

// The flat val folder: its images' classes come from --val-labels.
bool labeled_by_file(const corpus::Source& source) {
    return source.wnid.empty() && source.no_class_detail.empty();
}

bool owns(const Setup& setup, std::size_t source, const mpi::Comm& comm) {
    const int val_owner = setup.owner_of(source);
    if (val_owner >= 0) return val_owner == comm.rank();
    return static_cast<int>(source % static_cast<std::size_t>(comm.size())) == comm.rank();
}

// A source this rank scanned.
struct Scanned {
    std::size_t source = 0;
    // Of everything listed, read or not: any change to the inputs changes it.
    manifest::GroupDigest digest;
    // Key order. After the scan: wnid set; after finalize: the planned items, complete.
    EncodedItems items;
    std::vector<Rejection> rejected;
    // Set by finalize: planned images per label and split, planned bytes per split.
    std::map<std::int32_t, std::array<std::uint64_t, 2>> per_label;
    std::array<std::uint64_t, 2> split_bytes{};
};

Scanned scan(const Setup& setup, std::size_t index, const corpus::CorpusOptions& options,
             const corpus::ValLabels* val_labels, std::vector<std::string>& notes) {
    const corpus::Source& source = setup.sources[index];
    auto listing = corpus::list_source(source, options.max_member_bytes);
    std::vector<manifest::InputEntry> entries;
    for (const auto& listed : listing.items) entries.push_back({listed.key, listed.size});
    for (const auto& rejection : listing.rejected) entries.push_back({rejection.key, 0});
    Scanned scanned{index, manifest::group_digest(source.name, std::move(entries)), {}, {}, {}, {}};
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
            notes.push_back(std::to_string(missing.size()) +
                            " label(s) in --val-labels name no image in --val-input (first: " +
                            missing.front() + ")");
        }
    }
    return scanned;
}

// Applies the class selection, cap and split to one scanned source and attaches boxes.
void finalize(Scanned& scanned, const Setup& setup, const ClassSelection& selection,
              const corpus::CorpusOptions& options, const corpus::BoxMap& boxes,
              std::set<std::string>& used_box_keys,
              const std::map<std::string, std::string>& wnid_by_word) {
    const corpus::Source& source = setup.sources[scanned.source];
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
    if (source.split == Split::train) {
        std::vector<std::uint64_t> hashes;
        std::vector<std::string> keys;
        for (const auto& item : kept) {
            hashes.push_back(item.hash);
            keys.push_back(item.key);
        }
        const auto fates = split_class(
            hashes, keys, {options.max_per_class, options.val_per_class, options.val_fraction});
        std::vector<Item> stay;
        for (std::size_t i = 0; i < kept.size(); ++i) {
            if (fates[i] == Fate::over_cap) {
                scanned.rejected.push_back({kept[i].key, Reason::over_class_cap,
                                            "beyond --max-per-class " +
                                                std::to_string(options.max_per_class.value_or(0))});
                continue;
            }
            kept[i].split = fates[i] == Fate::val ? Split::val : Split::train;
            stay.push_back(std::move(kept[i]));
        }
        kept = std::move(stay);
    }
    for (auto& item : kept) {
        const std::string box_key = corpus::box_key(item.key);
        const auto found = boxes.find(box_key);
        if (found == boxes.end()) continue;
        used_box_keys.insert(box_key);
        for (const auto& annotated : found->second) {
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
    for (const auto& item : kept) {
        ++scanned.per_label[item.label][static_cast<std::size_t>(item.split)];
        scanned.split_bytes[static_cast<std::size_t>(item.split)] += item.size;
    }
    scanned.items = encode_items(kept, source);
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

std::uint64_t planned_bytes(const std::vector<Scanned>& scanned) {
    std::uint64_t total = 0;
    for (const auto& source : scanned) total += source.split_bytes[0] + source.split_bytes[1];
    return total;
}

}  // namespace

std::vector<std::size_t> Plan::pieces_of(int rank) const {
    std::vector<std::size_t> mine;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (pieces[i].rank == rank) mine.push_back(i);
    }
    return mine;
}

std::uint64_t RankShare::item_count() const {
    return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

std::vector<Item> PlanResult::share_items(std::size_t i) const {
    const Piece& piece = plan.pieces[share.pieces[i]];
    return decode_items(share.encoded[i], share.counts[i], plan.sources[piece.source].source,
                        plan.seed);
}

std::uint64_t Plan::rejected_total() const {
    std::uint64_t total = 0;
    for (const auto& [reason, count] : rejected_counts) total += count;
    return total;
}

PlanResult make_plan(const corpus::CorpusOptions& options, const mpi::Comm& comm) {
    Setup setup = mpi::run_phase(comm, "plan: discover", [&] {
                      return std::make_optional(prepare(options, comm));
                  }).value();

    // Scan this rank's sources.
    std::vector<std::string> notes;
    std::vector<Scanned> mine = mpi::run_phase(comm, "plan: scan", [&] {
        std::optional<corpus::ValLabels> val_labels;
        std::vector<Scanned> scanned;
        for (std::size_t i = 0; i < setup.sources.size(); ++i) {
            if (!owns(setup, i, comm)) continue;
            if (labeled_by_file(setup.sources[i]) && !val_labels) {
                val_labels = corpus::ValLabels::read(*setup.val_labels_file,
                                                     setup.devkit ? &*setup.devkit : nullptr);
            }
            scanned.push_back(scan(setup, i, options, val_labels ? &*val_labels : nullptr, notes));
        }
        return scanned;
    });

    // Every rank learns the train images per wnid and selects the same classes.
    Writer counts;
    for (const auto& source : mine) {
        const corpus::Source& spec = setup.sources[source.source];
        if (spec.split != Split::train || !spec.no_class_detail.empty()) continue;
        counts.str(spec.wnid);
        counts.u64(source.items.count);
    }
    std::map<std::string, std::uint64_t> train_counts;
    for (const auto& bytes : comm.all_gather(counts.bytes())) {
        Reader in(bytes);
        while (!in.done()) {
            const std::string wnid = in.str();
            train_counts[wnid] += in.u64();
        }
    }
    std::map<std::string, int> ilsvrc_ids;
    if (setup.devkit) ilsvrc_ids = setup.devkit->id_by_wnid;
    const auto train_sources_without_class = static_cast<std::size_t>(
        std::count_if(setup.sources.begin(), setup.sources.end(), [](const corpus::Source& source) {
            return source.split == Split::train && !source.no_class_detail.empty();
        }));
    // Every rank holds the same counts, so all decide alike; a run that selects nothing
    // stops here, before any image is decoded.
    const ClassSelection selection = mpi::run_phase(comm, "plan: select classes", [&] {
        auto chosen = select_classes(train_counts, setup.class_list, options.min_per_class,
                                     options.label_scheme, &ilsvrc_ids);
        require_train_images(chosen, train_counts, setup.class_list, options.min_per_class,
                             options.input.string(), train_sources_without_class);
        for (const auto& [wnid, label] : chosen.classes) setup.hierarchy.synset(wnid);
        return chosen;
    });

    // Cap, split and attach boxes to this rank's sources.
    corpus::BoxStats box_stats;
    mpi::run_phase(comm, "plan: select images", [&] {
        // Sources sharing a box prefix (a class's train sources; all val sources) are
        // finalized together, with only that prefix's boxes loaded.
        std::map<std::string, std::vector<Scanned*>> by_prefix;
        for (auto& source : mine) {
            const auto& spec = setup.sources[source.source];
            if (!spec.no_class_detail.empty()) continue;  // the scan rejected all its images
            by_prefix[spec.split == Split::val ? std::string("val") : spec.wnid].push_back(&source);
        }
        std::set<std::string> prefixes;
        for (const auto& [prefix, sources] : by_prefix) prefixes.insert(prefix);
        corpus::BoxLoader box_loader(options.boxes, prefixes, box_stats);
        std::map<std::string, std::string> wnid_by_word;
        std::set<std::string> ambiguous;
        for (const auto& [wnid, label] : selection.classes) {
            std::istringstream words(setup.hierarchy.synset(wnid).words);
            for (std::string word; std::getline(words, word, ',');) {
                word = lower(word.substr(word.find_first_not_of(' ')));
                if (!wnid_by_word.emplace(word, wnid).second) ambiguous.insert(word);
            }
        }
        for (const auto& word : ambiguous) wnid_by_word.erase(word);
        for (const auto& [prefix, sources] : by_prefix) {
            const corpus::BoxMap boxes = box_loader.take(prefix);
            std::set<std::string> used;
            for (Scanned* source : sources)
                finalize(*source, setup, selection, options, boxes, used, wnid_by_word);
            for (const auto& [key, list] : boxes) {
                if (used.count(key) == 0) ++box_stats.unmatched;
            }
        }
    });

    // Cut this rank's sources into pieces and tell everyone what they hold.
    const std::uint64_t limit = piece_byte_limit(comm.sum(planned_bytes(mine)), comm.size());
    Writer report;
    std::map<Reason, std::uint64_t> my_reasons;
    for (const auto& source : mine) {
        for (const auto& rejection : source.rejected) ++my_reasons[rejection.reason];
    }
    report.u64(my_reasons.size());
    for (const auto& [reason, count] : my_reasons) {
        report.u8(static_cast<std::uint8_t>(reason));
        report.u64(count);
    }
    write_stats(report, box_stats);
    report.u64(notes.size());
    for (const auto& note : notes) report.str(note);
    report.u64(mine.size());
    for (const auto& source : mine) {
        report.u64(source.source);
        std::vector<std::uint64_t> sizes;
        for (const auto& item : decode_items(source.items.bytes, source.items.count,
                                             setup.sources[source.source], options.seed))
            sizes.push_back(item.size);
        report.u64(source.per_label.size());
        for (const auto& [label, images] : source.per_label) {
            report.u64(static_cast<std::uint32_t>(label));
            report.u64(images[0]);
            report.u64(images[1]);
        }
        const auto ranges = cut_source(sizes, limit);
        report.u64(ranges.size());
        for (const auto& range : ranges) {
            report.u64(range.begin);
            report.u64(range.end);
            report.u64(range.bytes);
        }
    }

    PlanResult result;
    Plan& plan = result.plan;
    plan.seed = options.seed;
    plan.label_scheme = options.label_scheme;
    plan.wordnet_origin = setup.hierarchy.origin();
    plan.val_rule = describe_val_rule(options);
    plan.ranks = comm.size();
    plan.dropped_classes = selection.dropped;
    std::map<std::int32_t, std::size_t> class_index;
    std::vector<std::string> class_wnids;
    for (const auto& [wnid, label] : selection.classes) {
        const auto& synset = setup.hierarchy.synset(wnid);
        ClassEntry entry{
            label, wnid, synset.words, synset.gloss, 0, setup.hierarchy.ancestors(wnid), {}};
        if (setup.devkit && setup.devkit->id_by_wnid.count(wnid) != 0) {
            entry.ilsvrc2012_id = setup.devkit->id_by_wnid.at(wnid);
        }
        class_index[label] = plan.classes.size();
        class_wnids.push_back(wnid);
        plan.classes.push_back(std::move(entry));
    }
    plan.hierarchy = setup.hierarchy.sub_dag(class_wnids);
    for (const auto& source : setup.sources) plan.sources.push_back({source, 0, 0});
    for (const auto& rejection : setup.discovery_rejected) ++plan.rejected_counts[rejection.reason];
    for (const auto& bytes : comm.all_gather(report.bytes())) {
        Reader in(bytes);
        for (std::uint64_t n = in.u64(); n > 0; --n) {
            const auto reason = static_cast<Reason>(in.u8());
            plan.rejected_counts[reason] += in.u64();
        }
        plan.boxes += read_stats(in);
        for (std::uint64_t n = in.u64(); n > 0; --n) plan.notes.push_back(in.str());
        for (std::uint64_t n = in.u64(); n > 0; --n) {
            const auto source = static_cast<std::uint32_t>(in.u64());
            auto& summary = plan.sources[source];
            for (std::uint64_t labels = in.u64(); labels > 0; --labels) {
                const auto label = static_cast<std::int32_t>(static_cast<std::uint32_t>(in.u64()));
                auto& entry = plan.classes[class_index.at(label)];
                for (std::size_t split = 0; split < 2; ++split) {
                    const std::uint64_t images = in.u64();
                    entry.images[split] += images;
                    plan.images[split] += images;
                    summary.items += images;
                }
            }
            for (std::uint64_t ranges = in.u64(); ranges > 0; --ranges) {
                Piece piece;
                piece.source = source;
                piece.begin = static_cast<std::uint32_t>(in.u64());
                piece.end = static_cast<std::uint32_t>(in.u64());
                piece.bytes = in.u64();
                summary.bytes += piece.bytes;
                plan.pieces.push_back(piece);
            }
        }
    }
    std::sort(plan.notes.begin(), plan.notes.end());
    std::sort(plan.pieces.begin(), plan.pieces.end(), [](const Piece& a, const Piece& b) {
        return std::tie(a.source, a.begin) < std::tie(b.source, b.begin);
    });
    std::vector<std::uint64_t> piece_bytes;
    for (const auto& piece : plan.pieces) piece_bytes.push_back(piece.bytes);
    const auto owners = assign_pieces(piece_bytes, comm.size());
    for (std::size_t i = 0; i < plan.pieces.size(); ++i) plan.pieces[i].rank = owners[i];
    plan.rank_bytes = rank_loads(piece_bytes, owners, comm.size());

    std::uint64_t rejected_items = 0;
    for (const auto& [reason, count] : plan.rejected_counts) rejected_items += count;
    plan.scanned = plan.images[0] + plan.images[1] + rejected_items;

    // Split bytes need the items: count them where they are.
    std::array<std::uint64_t, 2> my_split_bytes{};
    for (const auto& source : mine) {
        for (std::size_t split = 0; split < 2; ++split)
            my_split_bytes[split] += source.split_bytes[split];
    }
    plan.bytes = {comm.sum(my_split_bytes[0]), comm.sum(my_split_bytes[1])};

    // Send every piece's items, as encoded, to the rank that processes it (this rank's
    // own pieces are copied straight into its share); a source's encoding is released
    // once it is copied out.
    std::map<std::size_t, EncodedItems> received;
    std::vector<Writer> outgoing(static_cast<std::size_t>(comm.size()));
    std::map<std::size_t, Scanned*> scanned_by_source;
    for (auto& source : mine) scanned_by_source[source.source] = &source;
    for (std::size_t first = 0; first < plan.pieces.size();) {
        const std::uint32_t source = plan.pieces[first].source;
        std::size_t last = first;
        while (last < plan.pieces.size() && plan.pieces[last].source == source) ++last;
        const auto found = scanned_by_source.find(source);
        if (found != scanned_by_source.end()) {
            EncodedItems& items = found->second->items;
            // Byte offset of every item boundary.
            std::vector<std::size_t> offsets{0};
            Reader in(items.bytes);
            while (!in.done()) {
                decode_item(in, setup.sources[source], options.seed);
                offsets.push_back(in.offset());
            }
            for (std::size_t i = first; i < last; ++i) {
                const Piece& piece = plan.pieces[i];
                const auto encoded =
                    std::span(items.bytes)
                        .subspan(offsets[piece.begin], offsets[piece.end] - offsets[piece.begin]);
                if (piece.rank == comm.rank()) {
                    received[i] = {Bytes(encoded.begin(), encoded.end()), piece.end - piece.begin};
                    continue;
                }
                Writer& out = outgoing[static_cast<std::size_t>(piece.rank)];
                out.u64(i);
                out.u64(piece.end - piece.begin);
                out.u64(encoded.size());
                out.raw(encoded);
            }
            items = {};
        }
        first = last;
    }
    std::vector<Bytes> messages;
    messages.reserve(outgoing.size());
    for (auto& writer : outgoing) messages.push_back(std::move(writer.bytes()));
    outgoing.clear();
    auto incoming = comm.all_to_all(std::move(messages));
    for (auto& bytes : incoming) {
        Reader in(bytes);
        while (!in.done()) {
            const std::size_t piece = in.u64();
            EncodedItems& items = received[piece];
            items.count = static_cast<std::uint32_t>(in.u64());
            const auto encoded = in.raw(in.u64());
            items.bytes.assign(encoded.begin(), encoded.end());
        }
        bytes = {};
    }
    for (auto& [piece, items] : received) {
        result.share.pieces.push_back(piece);
        result.share.counts.push_back(items.count);
        result.share.encoded.push_back(std::move(items.bytes));
    }

    std::vector<manifest::GroupDigest> digests;
    digests.reserve(mine.size());
    for (const auto& source : mine) digests.push_back(source.digest);
    std::vector<manifest::GroupDigest> all_digests;
    for (const auto& bytes : comm.all_gather(manifest::encode_digests(digests))) {
        auto part = manifest::decode_digests(bytes);
        all_digests.insert(all_digests.end(), part.begin(), part.end());
    }
    result.plan.input_fingerprint = manifest::input_fingerprint(std::move(all_digests));

    // The root gets every rejection.
    Writer rejections;
    for (const auto& source : mine) {
        for (const auto& rejection : source.rejected) {
            rejections.str(rejection.key);
            rejections.u8(static_cast<std::uint8_t>(rejection.reason));
            rejections.str(rejection.detail);
        }
    }
    const auto gathered = comm.gather(rejections.bytes());
    if (comm.is_root()) {
        result.rejected = setup.discovery_rejected;
        for (const auto& bytes : gathered) {
            Reader in(bytes);
            while (!in.done()) {
                Rejection rejection;
                rejection.key = in.str();
                rejection.reason = static_cast<Reason>(in.u8());
                rejection.detail = in.str();
                result.rejected.push_back(std::move(rejection));
            }
        }
        std::sort(result.rejected.begin(), result.rejected.end(),
                  [](const Rejection& a, const Rejection& b) {
                      return std::tie(a.key, a.reason) < std::tie(b.key, b.reason);
                  });
    }
    return result;
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
    const auto& b = plan.boxes;
    out["boxes"] = {{"files", b.files},
                    {"unparseable", b.unparseable},
                    {"boxes", b.boxes},
                    {"fixed", b.fixed},
                    {"dropped", b.dropped},
                    {"class_names", b.class_names},
                    {"placeholders", b.placeholders},
                    {"unmatched", b.unmatched}};
    out["notes"] = plan.notes;
    json sources = json::array();
    for (const auto& summary : plan.sources) {
        sources.push_back(
            {{"name", summary.source.name},
             {"kind", summary.source.kind == corpus::Source::Kind::tar ? "tar" : "folder"},
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
                        {"max_over_mean", max_over_mean(plan.rank_bytes)},
                        {"pieces", std::move(pieces)}};
    return out;
}

}  // namespace synshard::plan
