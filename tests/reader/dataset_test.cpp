#include "synshard/reader/dataset.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <set>

#include "reader/converted_output.hpp"
#include "sample_output/sample_output.hpp"
#include "support/test_support.hpp"
#include "synshard/util/error.hpp"

namespace synshard::reader {
namespace {

constexpr const char* kEntity = "n00001740";

TEST(Dataset, RandomAccessByIndexAndKeyMatchesEveryShardInOrder) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const manifest::Manifest& manifest = dataset.manifest();
    EXPECT_EQ(dataset.encoding(), "jpeg");
    ASSERT_EQ(dataset.splits(), (std::vector<std::string>{"train", "val"}));
    for (const std::string& split : dataset.splits()) {
        const manifest::SplitEntry& entry = manifest.splits.at(split);
        ASSERT_EQ(dataset.num_samples(split), entry.num_samples);
        ASSERT_EQ(dataset.shard_count(split), entry.shards.size());
        EXPECT_GT(entry.shards.size(), 1U) << split << " should span several shards";
        std::uint64_t index = 0;
        for (std::uint32_t s = 0; s < dataset.shard_count(split); ++s) {
            // An independent reader of the shard file named by the manifest.
            const ShardReader shard(out / entry.shards[s].path);
            std::uint64_t row = 0;
            for (const h5::SampleRow& sample : ShardSamples(dataset.shard(split, s))) {
                const h5::SampleRow direct = shard.read(row);
                EXPECT_EQ(sample.key, direct.key);
                EXPECT_EQ(sample.image, direct.image);
                EXPECT_EQ(sample.boxes, direct.boxes);
                EXPECT_EQ(dataset.position(split, index), (SamplePosition{s, row}));
                EXPECT_EQ(dataset.global_index(split, SamplePosition{s, row}), index);
                const h5::SampleRow by_index = dataset.sample(split, index);
                EXPECT_EQ(by_index.key, direct.key);
                EXPECT_EQ(by_index.image, direct.image);
                const std::optional<h5::SampleRow> by_key = dataset.sample_by_key(direct.key);
                ASSERT_TRUE(by_key.has_value()) << direct.key;
                EXPECT_EQ(by_key->image, direct.image);
                EXPECT_EQ(by_key->label, direct.label);
                ++row;
                ++index;
            }
            EXPECT_EQ(row, shard.num_samples());
        }
        EXPECT_EQ(index, entry.num_samples);
        EXPECT_THROW(dataset.sample(split, index), Error);
        EXPECT_THROW(dataset.global_index(split, SamplePosition{dataset.shard_count(split), 0}),
                     Error);
    }
    EXPECT_THROW(dataset.num_samples("test"), Error);
    EXPECT_FALSE(dataset.sample_by_key("n99999999/none.JPEG").has_value());
    // The same output opened through its manifest or its index.
    EXPECT_EQ(Dataset(out / "manifest.json").num_samples("train"), dataset.num_samples("train"));
    EXPECT_EQ(Dataset(out / "index.h5").sample("val", 1).key, dataset.sample("val", 1).key);
    EXPECT_THROW(Dataset(out / "train"), Error);  // no index.h5 there
    EXPECT_THROW(Dataset(out / "notes.txt"), Error);
}

TEST(Dataset, DecodedTrainPixelsGiveTheManifestsMeanAndStdWithinItsTolerance) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    std::array<double, 3> sum{}, sum_of_squares{};
    double pixels = 0;
    for (std::uint64_t i = 0; i < dataset.num_samples("train"); ++i) {
        const h5::SampleRow sample = dataset.sample("train", i);
        const cv::Mat rgb = dataset.rgb(sample);
        ASSERT_EQ(rgb.type(), CV_8UC3);
        ASSERT_EQ(rgb.rows, sample.height);
        ASSERT_EQ(rgb.cols, sample.width);
        EXPECT_EQ(std::min(rgb.rows, rgb.cols), 64) << sample.key;  // --resize shorter:64
        // OpenCV's own decoder agrees up to upsampling differences (RGB vs BGR order).
        const cv::Mat bgr = cv::imdecode(sample.image, cv::IMREAD_COLOR);
        ASSERT_EQ(bgr.size(), rgb.size());
        for (int y = 0; y < rgb.rows; ++y) {
            for (int x = 0; x < rgb.cols; ++x) {
                const auto& p = rgb.at<cv::Vec3b>(y, x);
                const auto& q = bgr.at<cv::Vec3b>(y, x);
                for (int c = 0; c < 3; ++c) {
                    sum[c] += p[c];
                    sum_of_squares[c] += static_cast<double>(p[c]) * p[c];
                    EXPECT_LE(std::abs(p[c] - q[2 - c]), 24) << sample.key;
                }
            }
        }
        pixels += rgb.rows * rgb.cols;
    }
    // The manifest's are summed before the lossy encoding (docs/FORMAT.md, "Stats").
    const manifest::PixelStats& stats = dataset.manifest().stats;
    for (int c = 0; c < 3; ++c) {
        const double mean = sum[c] / pixels;
        EXPECT_NEAR(stats.mean[c], mean, manifest::kStatsMeanTolerance);
        EXPECT_NEAR(stats.std[c], std::sqrt(sum_of_squares[c] / pixels - mean * mean),
                    manifest::kStatsStdTolerance);
    }
}

TEST(Dataset, ClassWordsAndHierarchyQueries) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path());
    const Dataset dataset(out);
    const manifest::Manifest& manifest = dataset.manifest();
    ASSERT_EQ(dataset.classes().classes.size(), manifest.classes.size());
    const wordnet::Hierarchy& hierarchy = dataset.hierarchy();
    for (const manifest::ClassSummary& summary : manifest.classes) {
        const h5::ClassEntry& entry = dataset.class_entry(summary.label);
        EXPECT_EQ(entry.synset, summary.synset);
        EXPECT_EQ(entry.words, summary.words);
        EXPECT_FALSE(entry.gloss.empty());
        EXPECT_EQ(dataset.label_of(summary.synset), summary.label);
        // The index's hierarchy gives each class the ancestors its table row lists.
        std::vector<std::string> listed = entry.ancestors;
        std::sort(listed.begin(), listed.end());
        EXPECT_EQ(hierarchy.ancestors(entry.synset), listed);
        EXPECT_TRUE(dataset.is_a(summary.label, summary.synset));
        EXPECT_TRUE(dataset.is_a(summary.label, kEntity));
        for (const auto& path : hierarchy.paths_to_root(entry.synset)) {
            EXPECT_EQ(path.front(), entry.synset);
            EXPECT_EQ(path.back(), kEntity);
        }
        for (const manifest::ClassSummary& other : manifest.classes) {
            if (other.label != summary.label) {
                EXPECT_FALSE(dataset.is_a(summary.label, other.synset));
            }
        }
    }
    // Tench and goldfish are fish, a tabby is not.
    const auto tench = dataset.label_of("n01440764");
    const auto goldfish = dataset.label_of("n01443537");
    const auto tabby = dataset.label_of("n02123045");
    ASSERT_TRUE(tench && goldfish && tabby);
    const std::string fish = "n02512053";
    EXPECT_TRUE(dataset.is_a(*tench, fish));
    EXPECT_TRUE(dataset.is_a(*goldfish, fish));
    EXPECT_FALSE(dataset.is_a(*tabby, fish));
    EXPECT_FALSE(dataset.is_a(*tench, "n99999999"));
    EXPECT_FALSE(dataset.label_of(fish).has_value());
    EXPECT_THROW(dataset.class_entry(static_cast<std::int32_t>(manifest.classes.size())), Error);
    EXPECT_THROW(dataset.class_entry(-1), Error);
    // Every sample's label, wnid and boxes are consistent with the class table.
    for (const std::string& split : dataset.splits()) {
        for (std::uint64_t i = 0; i < dataset.num_samples(split); ++i) {
            const h5::SampleRow sample = dataset.sample(split, i);
            EXPECT_EQ(dataset.class_entry(sample.label).synset, sample.synset);
            for (const image::Box& box : sample.boxes) {
                EXPECT_LE(0, box.xmin);
                EXPECT_LT(box.xmin, box.xmax);
                EXPECT_LE(box.xmax, sample.width);
                EXPECT_LE(0, box.ymin);
                EXPECT_LT(box.ymin, box.ymax);
                EXPECT_LE(box.ymax, sample.height);
            }
        }
    }
}

TEST(Dataset, RawOutputsDecodeToTheStoredArray) {
    testing::TempDir dir;
    const auto out = testing::write_converted_output(dir.path(), "raw");
    const Dataset dataset(out);
    EXPECT_EQ(dataset.encoding(), "raw");
    const auto geometry = dataset.shard("train", 0).raw_geometry();
    EXPECT_EQ(geometry, (std::pair<std::int32_t, std::int32_t>{64, 80}));
    for (std::uint64_t i = 0; i < dataset.num_samples("val"); ++i) {
        const h5::SampleRow sample = dataset.sample("val", i);
        const cv::Mat rgb = dataset.rgb(sample);
        ASSERT_EQ(rgb.rows, 64);
        ASSERT_EQ(rgb.cols, 80);
        EXPECT_TRUE(std::equal(sample.image.begin(), sample.image.end(), rgb.data));
    }
}

TEST(Dataset, DecodeRejectsBytesThatAreNotTheSample) {
    h5::SampleRow sample;
    sample.key = "n01440764/broken.JPEG";
    sample.image = {0xff, 0xd8, 0xff, 0x00, 0x01};
    sample.height = 8;
    sample.width = 8;
    try {
        decode_rgb(sample, "jpeg", {0, 0});
        ADD_FAILURE() << "decoded garbage";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find(sample.key), std::string::npos) << error.what();
    }
    sample.image.assign(8 * 8 * 3 - 1, 0);
    EXPECT_THROW(decode_rgb(sample, "raw", {8, 8}), Error);
    // The test-writer's output has a class table and hierarchy but no real conversion.
    testing::TempDir sample_dir;
    testing::write_sample_output(sample_dir.path(), false);
    const Dataset written(sample_dir.path());
    const h5::SampleRow first = written.sample("train", 0);
    const cv::Mat rgb = written.rgb(first);
    EXPECT_EQ(rgb.rows, first.height);
    EXPECT_EQ(rgb.cols, first.width);
}

}  // namespace
}  // namespace synshard::reader
