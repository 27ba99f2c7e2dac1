// The converter end to end on the synth corpus with its traps, at the rank count this
// binary is started with; every run also converts the per-synset tars on rank 0 alone
// and requires byte-identical shards.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <pugixml.hpp>
#include <set>

#include "mpi/run_convert.hpp"
#include "support/test_support.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/reader/index_reader.hpp"
#include "synshard/reader/shard_reader.hpp"

namespace synshard::convert {
namespace {

namespace fs = std::filesystem;

using testing::run_convert;

std::vector<std::string> convert_args(const fs::path& corpus, const std::string& train,
                                      const fs::path& out) {
    return {"--input",      (corpus / train).string(),
            "--val-input",  (corpus / "val").string(),
            "--val-labels", (corpus / "LOC_val_solution.csv").string(),
            "--boxes",      (corpus / "Annotation").string(),
            "--output",     out.string(),
            "--seed",       "11",
            "--shard-size", "32",
            "--quiet",      "--max-reject-fraction",
            "0.5"};
}

class ConvertSynth : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir();
        comm_ = new mpi::Comm();
        if (comm_->is_root()) {
            const auto synth = testing::run_synshard(
                {"synth", "--output", (dir_->path() / "corpus").string(), "--num-classes", "10",
                 "--per-class", "8", "--val-per-class", "3", "--seed", "5", "--quirks"});
            ASSERT_EQ(synth.exit_code, 0) << synth.output;
        }
        comm_->barrier();
        dirs_code_ = run_convert(convert_args(corpus(), "train", dirs_out()), *comm_);
        // The reference: rank 0 alone, from the per-synset tars.
        MPI_Comm alone = MPI_COMM_NULL;
        MPI_Comm_split(comm_->get(), comm_->is_root() ? 0 : MPI_UNDEFINED, 0, &alone);
        if (alone != MPI_COMM_NULL) {
            mpi::Comm single(alone);
            tars_code_ = run_convert(convert_args(corpus(), "train_tars", tars_out()), single);
            MPI_Comm_free(&alone);
        }
        comm_->barrier();
    }
    static void TearDownTestSuite() {
        delete comm_;
        delete dir_;
    }

    static fs::path corpus() { return dir_->path() / "corpus"; }
    static fs::path dirs_out() { return dir_->path() / "out-dirs"; }
    static fs::path tars_out() { return dir_->path() / "out-tars"; }
    static manifest::Manifest dirs_manifest() {
        return manifest::read_manifest(dirs_out() / "manifest.json");
    }

    static inline testing::TempDir* dir_ = nullptr;
    static inline mpi::Comm* comm_ = nullptr;
    static inline ExitCode dirs_code_ = ExitCode::failure;
    static inline ExitCode tars_code_ = ExitCode::failure;
};

TEST_F(ConvertSynth, EveryRankReportsInputsRejected) {
    EXPECT_EQ(dirs_code_, ExitCode::completed_with_rejections);
}

TEST_F(ConvertSynth, ShardsAreByteIdenticalAtAnyRankCountAndForDirsAndTars) {
    if (!comm_->is_root()) return;
    EXPECT_EQ(tars_code_, ExitCode::completed_with_rejections);
    const auto dirs = dirs_manifest();
    const auto tars = manifest::read_manifest(tars_out() / "manifest.json");
    EXPECT_TRUE(manifest::compare_shards(dirs, tars).empty());
    ASSERT_GE(dirs.splits.at("train").shards.size(), 2U);
    for (const auto& [name, split] : dirs.splits) {
        for (const auto& shard : split.shards) {
            EXPECT_EQ(to_hex(h5::sha256_of_file(dirs_out() / shard.path)), shard.sha256)
                << shard.path;
        }
    }
    EXPECT_EQ(dirs.input_fingerprint, tars.input_fingerprint);
}

TEST_F(ConvertSynth, EveryInputIsInAShardOrRejectedWithTheRightReason) {
    if (!comm_->is_root()) return;
    const auto result = dirs_manifest();
    std::map<std::string, Rejection> rejected;
    for (const auto& rejection : result.rejected) rejected.emplace(rejection.key, rejection);
    const reader::IndexReader index(dirs_out() / "index.h5");

    std::size_t inputs = 0;
    for (const std::string split : {"train", "val"}) {
        for (const auto& entry : fs::recursive_directory_iterator(corpus() / split)) {
            if (entry.is_directory()) continue;
            ++inputs;
            const auto relative = fs::relative(entry.path(), corpus() / "train").string();
            const std::string key =
                split == "train" ? relative : "val/" + entry.path().filename().string();
            const bool in_shard = index.locate(key).has_value();
            EXPECT_NE(in_shard, rejected.count(key) == 1) << key << " must be in exactly one place";
        }
    }
    EXPECT_EQ(inputs,
              index.num_samples("train") + index.num_samples("val") + result.rejected.size());

    std::ifstream quirks_file(corpus() / "quirks.json");
    const auto quirks = nlohmann::json::parse(quirks_file);
    std::size_t checked = 0;
    for (const auto& [path, quirk] : quirks.items()) {
        if (path.starts_with("Annotation/")) continue;
        const std::string key = path.starts_with("train/") ? path.substr(6) : path;
        const std::string expected = quirk["expected_reason"];
        if (expected == "none") {
            EXPECT_TRUE(index.locate(key).has_value())
                << key << " (" << quirk["quirk"] << ") should convert";
        } else {
            ASSERT_EQ(rejected.count(key), 1U) << key;
            EXPECT_EQ(to_string(rejected.at(key).reason), expected) << key;
        }
        ++checked;
    }
    EXPECT_GE(checked, 13U);
}

TEST_F(ConvertSynth, ShardsAreBalancedByConstruction) {
    if (!comm_->is_root()) return;
    const auto result = dirs_manifest();
    for (const auto& [name, split] : result.splits) {
        std::vector<std::uint64_t> sizes;
        std::map<std::int32_t, std::vector<std::uint64_t>> per_class;
        const auto shards = split.shards.size();
        for (std::size_t s = 0; s < shards; ++s) {
            const reader::ShardReader shard(dirs_out() / split.shards[s].path);
            sizes.push_back(shard.num_samples());
            for (std::uint64_t row = 0; row < shard.num_samples(); ++row) {
                auto& counts = per_class[shard.read(row).label];
                counts.resize(shards);
                ++counts[s];
            }
        }
        const auto [low, high] = std::minmax_element(sizes.begin(), sizes.end());
        EXPECT_LE(*high - *low, 1U) << name;
        for (const auto& [label, counts] : per_class) {
            const std::uint64_t total =
                std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
            for (const auto count : counts) {
                EXPECT_TRUE(count == total / shards || count == total / shards + 1)
                    << name << " class " << label << ": " << count << " of " << total;
            }
        }
    }
}

// Boxes follow the resize: an ImageNet box (0-based pixel indices, maxima included) scaled
// by the stored/source size ratio, in continuous pixel coordinates.
TEST_F(ConvertSynth, BoxesLandOnTheScaledSourcePixels) {
    if (!comm_->is_root()) return;
    std::ifstream quirks_file(corpus() / "quirks.json");
    const auto quirks = nlohmann::json::parse(quirks_file);
    const auto result = dirs_manifest();
    std::size_t checked = 0;
    for (const auto& shard_entry : result.splits.at("train").shards) {
        const reader::ShardReader shard(dirs_out() / shard_entry.path);
        for (std::uint64_t row = 0; row < shard.num_samples(); ++row) {
            const auto sample = shard.read(row);
            const auto stem = fs::path(sample.key).stem().string();
            const auto xml = fs::path("Annotation") / sample.synset / (stem + ".xml");
            if (quirks.contains(xml.string()) || quirks.contains("train/" + sample.key)) continue;
            pugi::xml_document document;
            if (!document.load_file((corpus() / xml).c_str())) {
                EXPECT_TRUE(sample.boxes.empty()) << sample.key << " has no annotation";
                continue;
            }
            const auto objects = document.child("annotation").children("object");
            const auto count =
                static_cast<std::size_t>(std::distance(objects.begin(), objects.end()));
            ASSERT_EQ(sample.boxes.size(), count) << sample.key;
            const double sx = static_cast<double>(sample.width) / sample.source_width;
            const double sy = static_cast<double>(sample.height) / sample.source_height;
            std::size_t i = 0;
            for (const auto& object : objects) {
                const auto box = object.child("bndbox");
                const auto& stored = sample.boxes[i++];
                EXPECT_NEAR(stored.xmin, box.child("xmin").text().as_double() * sx, 0.01)
                    << sample.key;
                EXPECT_NEAR(stored.ymin, box.child("ymin").text().as_double() * sy, 0.01)
                    << sample.key;
                EXPECT_NEAR(stored.xmax, (box.child("xmax").text().as_double() + 1) * sx, 0.01)
                    << sample.key;
                EXPECT_NEAR(stored.ymax, (box.child("ymax").text().as_double() + 1) * sy, 0.01)
                    << sample.key;
                ++checked;
            }
        }
    }
    EXPECT_GT(checked, 20U);
}

TEST_F(ConvertSynth, DuplicatesAndTheLeakAreReported) {
    if (!comm_->is_root()) return;
    std::ifstream quirks_file(corpus() / "quirks.json");
    const auto quirks = nlohmann::json::parse(quirks_file);
    const auto result = dirs_manifest();
    const auto strip = [](std::string path) {
        return path.starts_with("train/") ? path.substr(6) : path;
    };
    const auto grouped = [](const std::vector<manifest::KeyGroup>& groups, const std::string& a,
                            const std::string& b) {
        return std::any_of(groups.begin(), groups.end(), [&](const manifest::KeyGroup& group) {
            return std::count(group.keys.begin(), group.keys.end(), a) == 1 &&
                   std::count(group.keys.begin(), group.keys.end(), b) == 1;
        });
    };
    std::size_t pairs = 0;
    for (const auto& [path, quirk] : quirks.items()) {
        if (!quirk.contains("same_as")) continue;
        const auto key = strip(path);
        const auto twin = strip(quirk["same_as"]);
        EXPECT_TRUE(grouped(result.duplicates, key, twin)) << key << " ~ " << twin;
        if (quirk["quirk"] == "val-train-leak") {
            EXPECT_TRUE(grouped(result.leaks, key, twin)) << key;
        }
        ++pairs;
    }
    EXPECT_EQ(pairs, 3U);
    EXPECT_EQ(result.leaks.size(), 1U);
}

TEST_F(ConvertSynth, MeanAndStdAreWithinTheToleranceOfADirectComputationOverStoredTrainPixels) {
    if (!comm_->is_root()) return;
    const auto result = dirs_manifest();
    std::array<std::uint64_t, 3> sum{};
    std::array<std::uint64_t, 3> squares{};
    std::uint64_t pixels = 0;
    for (const auto& shard_entry : result.splits.at("train").shards) {
        const reader::ShardReader shard(dirs_out() / shard_entry.path);
        for (std::uint64_t row = 0; row < shard.num_samples(); ++row) {
            const auto bytes = shard.read_image(row);
            const cv::Mat bgr = cv::imdecode(bytes, cv::IMREAD_COLOR);
            ASSERT_FALSE(bgr.empty());
            for (int y = 0; y < bgr.rows; ++y) {
                for (int x = 0; x < bgr.cols; ++x) {
                    const auto& pixel = bgr.at<cv::Vec3b>(y, x);
                    for (int c = 0; c < 3; ++c) {
                        const std::uint64_t value = pixel[2 - c];  // BGR -> RGB
                        sum[static_cast<std::size_t>(c)] += value;
                        squares[static_cast<std::size_t>(c)] += value * value;
                    }
                }
            }
            pixels += static_cast<std::uint64_t>(bgr.total());
        }
    }
    for (std::size_t c = 0; c < 3; ++c) {
        const double mean = static_cast<double>(sum[c]) / static_cast<double>(pixels);
        const double std =
            std::sqrt(static_cast<double>(squares[c]) / static_cast<double>(pixels) - mean * mean);
        // The converter sums the pixels before the lossy encoding (docs/FORMAT.md, "Stats").
        EXPECT_NEAR(result.stats.mean[c], mean, manifest::kStatsMeanTolerance);
        EXPECT_NEAR(result.stats.std[c], std, manifest::kStatsStdTolerance);
    }
}

}  // namespace
}  // namespace synshard::convert
