#include "sample_output.hpp"

#include "synshard/image/jpeg_encoder.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::testing {

h5::ClassTable sample_class_table() {
    return h5::ClassTable{{
        {"n01440764",
         "tench, Tinca tinca",
         "freshwater dace-like game fish",
         {"n00001740", "n01473806"}},
        {"n02123045",
         "tabby, tabby cat",
         "a cat with a grey or tawny coat",
         {"n00001740", "n02121808"}},
        {"n09999999",
         "caf\xc3\xa9 table",
         "a class with a UTF-8 name and two parents",
         {"n00001740", "n01473806", "n02121808"}},
    }};
}

h5::Hierarchy sample_hierarchy() {
    h5::Hierarchy hierarchy;
    hierarchy.nodes = {
        {"n00001740", "entity", "that which is perceived to exist", 0},
        {"n01473806", "aquatic vertebrate", "animal living wholly or chiefly in water", 1},
        {"n02121808", "domestic cat", "any domesticated member of the genus Felis", 1},
        {"n01440764", "tench, Tinca tinca", "freshwater dace-like game fish", 2},
        {"n02123045", "tabby, tabby cat", "a cat with a grey or tawny coat", 2},
        {"n09999999", "caf\xc3\xa9 table", "a class with a UTF-8 name and two parents", 2},
    };
    hierarchy.edges = {{0, 1}, {0, 2}, {1, 3}, {2, 4}, {1, 5}, {2, 5}};
    hierarchy.class_nodes = {3, 4, 5};
    return hierarchy;
}

std::vector<std::uint8_t> make_jpeg(int width, int height, std::uint64_t seed) {
    Rng rng(seed);
    const auto base = static_cast<int>(rng.below(200));
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const std::size_t at = (static_cast<std::size_t>(y) * width + x) * 3;
            pixels[at] = static_cast<std::uint8_t>(base + x % 50);
            pixels[at + 1] = static_cast<std::uint8_t>(y * 255 / height);
            pixels[at + 2] = static_cast<std::uint8_t>(rng.below(256));
        }
    }
    image::JpegEncoder encoder;
    return encoder.encode(pixels, width, height, image::PixelLayout::rgb, {});
}

std::vector<h5::SampleRow> make_samples(const std::string& split, int count, bool raw,
                                        int jpeg_side) {
    const h5::ClassTable classes = sample_class_table();
    std::vector<h5::SampleRow> samples;
    for (int j = 0; j < count; ++j) {
        h5::SampleRow sample;
        sample.label = j % static_cast<int>(classes.classes.size());
        sample.synset = classes.classes[static_cast<std::size_t>(sample.label)].synset;
        sample.key = sample.synset + "_" + split + std::to_string(j) + ".JPEG";
        if (j == 1) sample.key = sample.synset + "_\xc3\xbc" + split + ".JPEG";
        const int width = jpeg_side + 8 * (j % 4);
        const int height = jpeg_side + 4 * (j % 3);
        const std::vector<std::uint8_t> jpeg =
            make_jpeg(width, height, static_cast<std::uint64_t>(j) + (split == "val" ? 1000 : 0));
        sample.source_sha256 = sha256(jpeg);
        sample.source_height = height;
        sample.source_width = width;
        if (raw) {
            sample.height = kRawHeight;
            sample.width = kRawWidth - (j % 2);
            sample.image.assign(static_cast<std::size_t>(kRawHeight) * kRawWidth * 3, 0);
            for (std::size_t i = 0; i < sample.image.size(); ++i) {
                sample.image[i] =
                    static_cast<std::uint8_t>((i * 7 + static_cast<std::size_t>(j)) % 251);
            }
        } else {
            sample.height = height;
            sample.width = width;
            sample.image = jpeg;
        }
        for (int b = 0; b < j % 3; ++b) {
            const auto offset = static_cast<float>(b * 3);
            sample.boxes.push_back(image::Box{1.5f + offset, 2.0f + offset,
                                              static_cast<float>(sample.width) - 1.0f,
                                              static_cast<float>(sample.height) - 0.5f - offset});
            sample.box_labels.push_back(sample.label);
        }
        samples.push_back(std::move(sample));
    }
    return samples;
}

SampleOutput write_sample_output(const std::filesystem::path& out, bool raw) {
    SampleOutput result;
    const h5::ClassTable classes = sample_class_table();
    result.index.encoding = raw ? std::string(h5::kRawEncoding) : "source";
    result.index.raw_height = raw ? kRawHeight : 0;
    result.index.raw_width = raw ? kRawWidth : 0;
    result.index.label_scheme = "alphabetical";
    result.index.classes = classes;
    result.index.hierarchy = sample_hierarchy();
    result.manifest = manifest::make_manifest();
    result.manifest.label_scheme = "alphabetical";
    result.manifest.seed = 7;
    result.manifest.options = manifest::Json{{"encoding", result.index.encoding}};

    for (std::size_t label = 0; label < classes.classes.size(); ++label) {
        manifest::ClassSummary summary;
        summary.label = static_cast<std::int32_t>(label);
        summary.synset = classes.classes[label].synset;
        summary.words = classes.classes[label].words;
        summary.counts = {{"train", 0}, {"val", 0}};
        result.manifest.classes.push_back(std::move(summary));
    }
    // The stats over the train images' stored pixels, as the converter sums them.
    image::Pipeline pipeline{image::PipelineOptions{}};
    image::PixelStats train_pixels;
    const std::vector<std::pair<std::string, std::pair<int, int>>> splits = {
        {"train", {kTrainSamples, 2}}, {"val", {kValSamples, 1}}};
    for (const auto& [split, shape] : splits) {
        const auto [count, shard_count] = shape;
        const std::vector<h5::SampleRow> samples = make_samples(split, count, raw);
        h5::SplitIndex split_index{split, {}, {}};
        manifest::SplitEntry& entry = result.manifest.splits[split];
        for (int shard = 0; shard < shard_count; ++shard) {
            h5::ShardSpec spec{out,
                               split,
                               shard,
                               shard_count,
                               result.index.encoding,
                               result.index.raw_height,
                               result.index.raw_width,
                               "alphabetical",
                               std::nullopt};
            if (!raw) {  // as the converter does: the image chunks fit the payload
                spec.image_bytes = 0;
                for (int j = shard; j < count; j += shard_count) {
                    *spec.image_bytes += samples[static_cast<std::size_t>(j)].image.size();
                }
            }
            h5::ShardWriter writer(spec, classes);
            for (int j = shard; j < count; j += shard_count) {
                const h5::SampleRow& sample = samples[static_cast<std::size_t>(j)];
                split_index.keys.push_back(
                    h5::KeyLocation{sample.key, static_cast<std::uint32_t>(shard),
                                    static_cast<std::uint32_t>(writer.num_samples())});
                writer.add(sample.view());
                ++result.manifest.classes[static_cast<std::size_t>(sample.label)].counts[split];
                if (split == "train") {
                    // A raw image's content lies at the top left of its padding.
                    auto pixels = raw ? cv::Mat(kRawHeight, kRawWidth, CV_8UC3,
                                                const_cast<std::uint8_t*>(sample.image.data()))
                                      : pipeline.decode_stored(sample.image, image::Encoding::jpeg,
                                                               sample.height, sample.width);
                    train_pixels += image::pixel_stats(pixels, {0, 0, sample.width, sample.height});
                }
            }
            h5::PublishedShard published = writer.finish();
            split_index.shard_num_samples.push_back(published.num_samples);
            entry.num_samples += published.num_samples;
            entry.shards.push_back(manifest::ShardEntry{published.relative_path,
                                                        published.num_samples, published.bytes,
                                                        to_hex(published.sha256)});
            result.shards.push_back(std::move(published));
        }
        result.index.splits.push_back(std::move(split_index));
    }
    result.manifest.scanned = kTrainSamples + kValSamples;
    result.manifest.stats =
        manifest::stats_of(train_pixels.sum, train_pixels.sum_of_squares, train_pixels.pixels);
    h5::write_index(out, result.index);
    const auto index = out / h5::kIndexFileName;
    result.manifest.index =
        manifest::FileEntry{std::filesystem::file_size(index), to_hex(h5::sha256_of_file(index))};
    manifest::write_manifest(out / manifest::kManifestFileName, result.manifest);
    return result;
}

}  // namespace synshard::testing
