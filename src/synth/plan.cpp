#include "synshard/synth/plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>

#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::synth {
namespace {

constexpr int kMaxSide = 20000;
constexpr std::int64_t kMaxPixels = 12'000'000;

Rng rng_for(std::uint64_t seed, std::string_view purpose, std::string_view key) {
    std::string text(purpose);
    text += '/';
    text += key;
    return Rng(keyed_hash(seed, text));
}

int rounded(double value) {
    return static_cast<int>(std::lround(value));
}

// ImageNet-like: most images have a long side of 500 and a 4:3 or 3:2 shape, a quarter
// are portrait, and a small share comes from a tail of large photos.
ImageSize draw_photo_size(Rng& rng, const SynthOptions& options) {
    if (options.image_size) return *options.image_size;
    const bool large = rng.unit() < options.large_fraction;
    int long_side = 500;
    if (large) {
        long_side = static_cast<int>(rng.between(800, 2000));
    } else if (rng.unit() >= 0.8) {
        long_side = static_cast<int>(rng.between(300, 500));
    }
    const double shape = rng.unit();
    const double ratio = shape < 0.5 ? 0.75 : shape < 0.7 ? 2.0 / 3.0 : 0.6 + 0.4 * rng.unit();
    const int short_side = std::max(1, rounded(long_side * ratio));
    if (rng.unit() < 0.25) return {short_side, long_side};
    return {long_side, short_side};
}

int draw_side(Rng& rng, int image_side) {
    const int low = std::max(1, rounded(image_side * 0.2));
    const int high = std::max(low, rounded(image_side * 0.9));
    return static_cast<int>(rng.between(low, high));
}

// One to three objects, each covering 20%..90% of each side, always inside the image.
std::vector<VocBox> draw_boxes(Rng& rng, ImageSize size) {
    const double count_draw = rng.unit();
    const int count = count_draw < 0.7 ? 1 : count_draw < 0.9 ? 2 : 3;
    std::vector<VocBox> boxes;
    for (int i = 0; i < count; ++i) {
        const int box_width = draw_side(rng, size.width);
        const int box_height = draw_side(rng, size.height);
        VocBox box;
        box.xmin = static_cast<int>(rng.between(0, size.width - box_width));
        box.ymin = static_cast<int>(rng.between(0, size.height - box_height));
        box.xmax = box.xmin + box_width - 1;
        box.ymax = box.ymin + box_height - 1;
        boxes.push_back(box);
    }
    return boxes;
}

PhotoSpec draw_photo(std::uint64_t seed, const SynthOptions& options, const std::string& key,
                     std::string_view wnid) {
    Rng rng = rng_for(seed, "photo", key);
    PhotoSpec photo;
    photo.key = key;
    photo.wnid = wnid;
    photo.size = draw_photo_size(rng, options);
    photo.boxes = draw_boxes(rng, photo.size);
    return photo;
}

std::string image_name(std::string_view wnid, std::int64_t number) {
    return std::string(wnid) + "_" + std::to_string(number) + ".JPEG";
}

bool by_name(const TrainFile& a, const TrainFile& b) {
    return a.name < b.name;
}

// Real ImageNet numbers are sparse (n01440764_10026.JPEG), so byte order and numeric
// order of the names differ; the plan keeps that trap.
ClassPlan plan_class(const Synset& synset, const SynthOptions& options) {
    Rng rng = rng_for(options.seed, "class", synset.wnid);
    const int low = std::max(1, (options.per_class + 1) / 2);
    const int high = std::max(low, options.per_class * 3 / 2);
    const auto count = rng.between(low, high);
    ClassPlan plan{synset, {}};
    std::int64_t number = rng.between(1, 2000);
    for (std::int64_t i = 0; i < count; ++i) {
        TrainFile file;
        file.name = image_name(synset.wnid, number);
        file.photo = draw_photo(options.seed, options, "train/" + file.name, synset.wnid);
        Rng annotation = rng_for(options.seed, "annotation", file.name);
        // About three in four train images have boxes, as in ILSVRC's localisation set.
        file.annotated = annotation.unit() < 0.75;
        file.xml_style = annotation.unit() < 0.7 ? XmlStyle::pretty : XmlStyle::one_line;
        plan.files.push_back(std::move(file));
        number += rng.between(1, 400);
    }
    std::sort(plan.files.begin(), plan.files.end(), by_name);
    return plan;
}

std::int64_t number_of(std::string_view name) {
    const auto underscore = name.rfind('_');
    const auto dot = name.rfind('.');
    std::int64_t number = 0;
    if (underscore == std::string_view::npos || dot == std::string_view::npos) return 0;
    std::from_chars(name.data() + underscore + 1, name.data() + dot, number);
    return number;
}

// Adds the known traps to a planned corpus. Quirk i lives in class i mod N, so they
// spread over the classes; each new file takes a number above the class's last one.
class QuirkPlanner {
  public:
    QuirkPlanner(CorpusPlan& plan, const SynthOptions& options) : plan_(plan), options_(options) {
        for (const auto& class_plan : plan.classes)
            regular_counts_.push_back(class_plan.files.size());
    }

    void add_all() {
        add_photo("grayscale", FileKind::grayscale_jpeg, std::nullopt);
        add_photo("cmyk", FileKind::cmyk_jpeg, std::nullopt);
        add_photo("png-named-jpeg", FileKind::png, std::nullopt);
        add_photo("exif-orientation-6", FileKind::exif_rotated, std::nullopt);
        add_photo("progressive", FileKind::progressive_jpeg, std::nullopt);
        add_photo("truncated", FileKind::truncated_jpeg, Reason::truncated);
        add_photo("corrupt", FileKind::corrupt_jpeg, Reason::corrupt);
        add_photo("empty", FileKind::empty, Reason::empty);
        add_photo("not-an-image", FileKind::text, Reason::unsupported_format);
        add_photo("header-40000x40000", FileKind::huge_header_jpeg, Reason::too_large,
                  ImageSize{64, 48});
        add_photo("too-small", FileKind::jpeg, Reason::too_small, ImageSize{20, 24});
        add_duplicate_across_classes();
        add_duplicate_within_class();
        add_hidden_file();
        add_val_leak();
        for (const auto noise :
             {AnnotationNoise::box_outside_image, AnnotationNoise::min_greater_than_max,
              AnnotationNoise::float_coordinates, AnnotationNoise::class_name_instead_of_wnid,
              AnnotationNoise::filename_placeholder}) {
            add_annotation_noise(noise);
        }
        for (auto& class_plan : plan_.classes) {
            std::sort(class_plan.files.begin(), class_plan.files.end(), by_name);
        }
        std::sort(plan_.quirks.begin(), plan_.quirks.end(),
                  [](const QuirkRecord& a, const QuirkRecord& b) { return a.path < b.path; });
    }

  private:
    ClassPlan& next_class() {
        return plan_.classes[static_cast<std::size_t>(next_++) % plan_.classes.size()];
    }

    // A fresh name above every name already in the class, in byte order as well as
    // numerically, so that a copy sorts after its original however one sorts.
    std::string fresh_name(const ClassPlan& class_plan) {
        std::int64_t number = 0;
        std::string last;
        for (const auto& file : class_plan.files) {
            number = std::max(number, number_of(file.name));
            last = std::max(last, file.name);
        }
        Rng rng =
            rng_for(options_.seed, "quirk-number", std::string(class_plan.synset.wnid) + last);
        std::string name;
        do {
            number += rng.between(1, 50);
            name = image_name(class_plan.synset.wnid, number);
        } while (name <= last);
        return name;
    }

    TrainFile& add_file(ClassPlan& class_plan, FileKind kind, std::optional<ImageSize> size) {
        TrainFile file;
        file.name = fresh_name(class_plan);
        file.kind = kind;
        SynthOptions sized = options_;
        if (size) sized.image_size = size;
        file.photo = draw_photo(options_.seed, sized, "train/" + file.name, class_plan.synset.wnid);
        class_plan.files.push_back(std::move(file));
        return class_plan.files.back();
    }

    void record(const ClassPlan& class_plan, const TrainFile& file, std::string quirk,
                std::optional<Reason> reason, std::string same_as = {}) {
        plan_.quirks.push_back(
            {train_path(class_plan, file), std::move(quirk), reason, std::move(same_as)});
    }

    void add_photo(std::string quirk, FileKind kind, std::optional<Reason> reason,
                   std::optional<ImageSize> size = std::nullopt) {
        ClassPlan& class_plan = next_class();
        const TrainFile& file = add_file(class_plan, kind, size);
        record(class_plan, file, std::move(quirk), reason);
    }

    // The class's own images, before any quirk file was added (they come first, sorted).
    std::span<TrainFile> regular_files(ClassPlan& class_plan) {
        const auto index = static_cast<std::size_t>(&class_plan - plan_.classes.data());
        return std::span(class_plan.files).first(regular_counts_[index]);
    }

    // The original of a copy: the class's first regular image in byte order.
    TrainFile original_in(ClassPlan& class_plan) { return regular_files(class_plan).front(); }

    void add_duplicate_across_classes() {
        if (plan_.classes.size() < 2) return;  // needs two classes
        ClassPlan& source = next_class();
        ClassPlan& target = plan_.classes[static_cast<std::size_t>(next_) % plan_.classes.size()];
        const TrainFile original = original_in(source);
        TrainFile& copy = add_file(target, FileKind::jpeg, std::nullopt);
        copy.photo = original.photo;
        record(target, copy, "duplicate-across-classes", std::nullopt,
               train_path(source, original));
    }

    void add_duplicate_within_class() {
        ClassPlan& class_plan = next_class();
        const TrainFile original = original_in(class_plan);
        TrainFile& copy = add_file(class_plan, FileKind::jpeg, std::nullopt);
        copy.photo = original.photo;
        record(class_plan, copy, "duplicate-within-class", Reason::duplicate,
               train_path(class_plan, original));
    }

    void add_hidden_file() {
        ClassPlan& class_plan = next_class();
        TrainFile file;
        file.name = ".DS_Store";
        file.kind = FileKind::ds_store;
        class_plan.files.push_back(file);
        record(class_plan, file, "hidden-file", Reason::hidden);
    }

    // The first val image of a class becomes a byte copy of that class's first train
    // image (its csv boxes follow), as ImageNet's val set overlaps its train set.
    void add_val_leak() {
        ClassPlan& class_plan = next_class();
        const auto val = std::find_if(plan_.val.begin(), plan_.val.end(), [&](const ValImage& v) {
            return v.wnid == class_plan.synset.wnid;
        });
        if (val == plan_.val.end()) return;  // no val images asked for
        const TrainFile original = original_in(class_plan);
        val->photo = original.photo;
        plan_.quirks.push_back(
            {"val/" + val->name, "val-train-leak", std::nullopt, train_path(class_plan, original)});
    }

    void add_annotation_noise(AnnotationNoise noise) {
        ClassPlan& class_plan = next_class();
        const auto regular = regular_files(class_plan);
        const auto candidate =
            std::find_if(regular.begin(), regular.end(),
                         [](const TrainFile& file) { return file.noise == AnnotationNoise::none; });
        if (candidate == regular.end()) return;  // every image already has its noise
        candidate->annotated = true;
        candidate->noise = noise;
        static constexpr std::string_view kNames[] = {"",
                                                      "box-outside-image",
                                                      "min-greater-than-max",
                                                      "float-coordinates",
                                                      "class-name-instead-of-wnid",
                                                      "filename-placeholder"};
        plan_.quirks.push_back({"Annotation/" + std::string(class_plan.synset.wnid) + "/" +
                                    file_stem(candidate->name) + ".xml",
                                std::string(kNames[static_cast<int>(noise)]),
                                std::nullopt,
                                {}});
    }

    CorpusPlan& plan_;
    const SynthOptions& options_;
    std::vector<std::size_t> regular_counts_;  // per class
    int next_ = 0;
};

std::string val_name(std::size_t index) {
    std::string digits = std::to_string(index + 1);
    return "ILSVRC2012_val_" + std::string(8 - std::min<std::size_t>(8, digits.size()), '0') +
           digits + ".JPEG";
}

}  // namespace

void validate_options(const SynthOptions& options) {
    if (options.output.empty()) throw UsageError("--output must name a directory");
    const auto table = static_cast<int>(embedded_synsets().size());
    if (options.num_classes < 1 || options.num_classes > table) {
        throw UsageError("--num-classes must be between 1 and " + std::to_string(table) +
                         " (the embedded WordNet table), not " +
                         std::to_string(options.num_classes));
    }
    if (options.per_class < 1 || options.per_class > kMaxPerClass) {
        throw UsageError("--per-class must be between 1 and " + std::to_string(kMaxPerClass));
    }
    if (options.val_per_class < 0 || options.val_per_class > kMaxPerClass) {
        throw UsageError("--val-per-class must be between 0 and " + std::to_string(kMaxPerClass));
    }
    if (static_cast<std::int64_t>(options.num_classes) * options.val_per_class > 99'999'999) {
        throw UsageError("too many val images for 8-digit ILSVRC2012_val names");
    }
    if (options.quality < 1 || options.quality > 100) {
        throw UsageError("--quality must be between 1 and 100");
    }
    if (!(options.large_fraction >= 0.0 && options.large_fraction <= 1.0)) {
        throw UsageError("--large-fraction must be between 0 and 1");
    }
}

ImageSize parse_image_size(std::string_view text) {
    const auto bad = [&] {
        return UsageError("--image-size must be WxH with sides 1.." + std::to_string(kMaxSide) +
                          " and at most 12 Mpixels, not '" + std::string(text) + "'");
    };
    const auto x = text.find('x');
    if (x == std::string_view::npos) throw bad();
    ImageSize size;
    const auto parse = [&](std::string_view part, int& value) {
        const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (error != std::errc() || end != part.data() + part.size()) throw bad();
    };
    parse(text.substr(0, x), size.width);
    parse(text.substr(x + 1), size.height);
    if (size.width < 1 || size.height < 1 || size.width > kMaxSide || size.height > kMaxSide ||
        static_cast<std::int64_t>(size.width) * size.height > kMaxPixels) {
        throw bad();
    }
    return size;
}

CorpusPlan plan_corpus(const SynthOptions& options) {
    CorpusPlan plan;
    const auto synsets = embedded_synsets().first(static_cast<std::size_t>(options.num_classes));
    for (const Synset& synset : synsets) plan.classes.push_back(plan_class(synset, options));
    std::sort(plan.classes.begin(), plan.classes.end(),
              [](const ClassPlan& a, const ClassPlan& b) { return a.synset.wnid < b.synset.wnid; });

    // Val labels are interleaved by a keyed hash, as ILSVRC's val numbering is.
    std::vector<std::pair<std::uint64_t, std::string>> val_labels;
    for (const auto& class_plan : plan.classes) {
        for (int i = 0; i < options.val_per_class; ++i) {
            const std::string wnid(class_plan.synset.wnid);
            val_labels.emplace_back(
                keyed_hash(options.seed, "val-order/" + wnid + "/" + std::to_string(i)), wnid);
        }
    }
    std::sort(val_labels.begin(), val_labels.end());
    for (std::size_t i = 0; i < val_labels.size(); ++i) {
        ValImage image;
        image.name = val_name(i);
        image.wnid = val_labels[i].second;
        image.photo = draw_photo(options.seed, options, "val/" + image.name, image.wnid);
        plan.val.push_back(std::move(image));
    }

    if (options.quirks) QuirkPlanner(plan, options).add_all();
    return plan;
}

std::string train_path(const ClassPlan& plan, const TrainFile& file) {
    return "train/" + std::string(plan.synset.wnid) + "/" + file.name;
}

std::string file_stem(std::string_view name) {
    const auto dot = name.rfind('.');
    return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

}  // namespace synshard::synth
