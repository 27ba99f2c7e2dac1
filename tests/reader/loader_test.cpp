#include "synshard/reader/loader.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "reader/converted_output.hpp"
#include "support/test_support.hpp"
#include "synshard/image/crop_transform.hpp"
#include "synshard/reader/dataset.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::reader {
namespace {

std::vector<Batch> epoch_of(Loader& loader) {
    std::vector<Batch> batches;
    while (std::optional<Batch> batch = loader.next()) batches.push_back(std::move(*batch));
    return batches;
}

std::vector<std::uint64_t> indices_of(const std::vector<Batch>& batches) {
    std::vector<std::uint64_t> indices;
    for (const Batch& batch : batches) {
        indices.insert(indices.end(), batch.indices.begin(), batch.indices.end());
    }
    return indices;
}

void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b,
                         const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].number, b[i].number) << what;
        EXPECT_EQ(a[i].indices, b[i].indices) << what << ", batch " << i;
        EXPECT_EQ(a[i].labels, b[i].labels) << what << ", batch " << i;
        EXPECT_TRUE(a[i].images == b[i].images) << what << ", batch " << i;
    }
}

// A sample's boxes (stored pixels) through its crop box, the resize to side x side and the
// flip: clipped to the output, the empty ones dropped.
std::vector<image::Box> expected_boxes(const std::vector<image::Box>& stored,
                                       const image::CropBox& box, int side, bool flip) {
    const auto out = static_cast<float>(side);
    const float sx = out / static_cast<float>(box.width);
    const float sy = out / static_cast<float>(box.height);
    std::vector<image::Box> boxes;
    for (const image::Box& b : stored) {
        image::Box mapped{std::clamp((b.xmin - static_cast<float>(box.x)) * sx, 0.0F, out),
                          std::clamp((b.ymin - static_cast<float>(box.y)) * sy, 0.0F, out),
                          std::clamp((b.xmax - static_cast<float>(box.x)) * sx, 0.0F, out),
                          std::clamp((b.ymax - static_cast<float>(box.y)) * sy, 0.0F, out)};
        if (flip) mapped = {out - mapped.xmax, mapped.ymin, out - mapped.xmin, mapped.ymax};
        if (mapped.xmin < mapped.xmax && mapped.ymin < mapped.ymax) boxes.push_back(mapped);
    }
    return boxes;
}

class LoaderTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir();
        out_ = new std::filesystem::path(testing::write_converted_output(dir_->path()));
    }
    static void TearDownTestSuite() {
        delete out_;
        delete dir_;
    }
    static const std::filesystem::path& out() { return *out_; }

  private:
    static testing::TempDir* dir_;
    static std::filesystem::path* out_;
};

testing::TempDir* LoaderTest::dir_ = nullptr;
std::filesystem::path* LoaderTest::out_ = nullptr;

TEST_F(LoaderTest, WithoutTransformYieldsTheStoredSamplesInTheEpochOrder) {
    const Dataset dataset(out());
    const std::uint64_t n = dataset.num_samples("train");
    LoaderOptions options;
    options.order.seed = 5;
    options.order.shuffle_buffer = 4;
    options.with_boxes = true;
    Loader loader(out(), "train", options);
    EXPECT_EQ(loader.rank_samples(), n);
    EXPECT_EQ(loader.size(), n);
    std::vector<std::uint64_t> shard_sizes;
    for (std::uint32_t s = 0; s < dataset.shard_count("train"); ++s) {
        shard_sizes.push_back(dataset.shard("train", s).num_samples());
    }
    const std::vector<std::uint64_t> expected =
        EpochOrder(shard_sizes, options.order).samples(0, n);
    const std::vector<Batch> batches = epoch_of(loader);
    ASSERT_EQ(indices_of(batches), expected);
    bool any_box = false;
    for (const Batch& batch : batches) {
        ASSERT_EQ(batch.size, 1U);
        const h5::SampleRow row = dataset.sample("train", batch.indices[0]);
        const cv::Mat rgb = dataset.rgb(row);
        EXPECT_EQ(batch.keys[0], row.key);
        EXPECT_EQ(batch.labels[0], row.label);
        ASSERT_EQ(batch.height, rgb.rows);
        ASSERT_EQ(batch.width, rgb.cols);
        EXPECT_TRUE(std::equal(batch.images.begin(), batch.images.end(), rgb.data)) << row.key;
        ASSERT_EQ(batch.boxes.size(), 1U);
        EXPECT_EQ(batch.boxes[0], row.boxes) << "untransformed boxes are the stored ones";
        any_box = any_box || !row.boxes.empty();
    }
    EXPECT_TRUE(any_box);
    // After the end, the epoch again.
    EXPECT_EQ(indices_of(epoch_of(loader)), expected);
}

TEST_F(LoaderTest, BatchesOfImagesOfDifferentSizesWithoutTransformAreAnErrorNamingThem) {
    LoaderOptions options;
    options.batch_size = 64;
    Loader loader(out(), "train", options);
    try {
        loader.next();
        FAIL() << "images of different sizes made one batch";
    } catch (const Error& error) {
        const std::string message = error.what();
        const std::size_t first = message.find(".JPEG");
        ASSERT_NE(first, std::string::npos) << message;
        EXPECT_NE(message.find(".JPEG", first + 1), std::string::npos) << "two keys: " << message;
    }
}

TEST_F(LoaderTest, EvalTransformIsTheReferenceCentreCropOfEverySample) {
    const Dataset dataset(out());
    LoaderOptions options;
    options.batch_size = 4;
    options.transform = Transform::eval_crop(40, 32);
    options.order.shuffle = false;
    options.with_boxes = true;
    Loader loader(out(), "val", options);
    const std::vector<Batch> batches = epoch_of(loader);
    const std::uint64_t n = dataset.num_samples("val");
    ASSERT_EQ(batches.size(), (n + 3) / 4);
    EXPECT_EQ(batches.back().size, n % 4 == 0 ? 4 : n % 4) << "the last batch holds the rest";
    // The loader's transform is CropTransformer's (whose own tests hold it to the
    // full-decode reference), on the sample's centre box.
    image::CropTransformer transformer;
    std::vector<std::uint8_t> expected(32 * 32 * 3);
    bool any_box = false;
    for (const Batch& batch : batches) {
        ASSERT_EQ(batch.height, 32);
        ASSERT_EQ(batch.width, 32);
        ASSERT_EQ(batch.images.size(), batch.size * expected.size());
        for (std::size_t i = 0; i < batch.size; ++i) {
            const h5::SampleRow row = dataset.sample("val", batch.indices[i]);
            EXPECT_EQ(batch.keys[i], row.key);
            EXPECT_EQ(batch.labels[i], row.label);
            const image::CropBox box = image::center_crop_box(row.width, row.height, 40, 32);
            ASSERT_FALSE(
                transformer.decode_crop_resize(row.image, box, 32, 32, false, expected.data()));
            EXPECT_TRUE(
                std::equal(expected.begin(), expected.end(),
                           batch.images.begin() + static_cast<std::ptrdiff_t>(i * expected.size())))
                << row.key;
            // Boxes follow the crop and the scale, clipped to the output.
            const std::vector<image::Box> boxes = expected_boxes(row.boxes, box, 32, false);
            EXPECT_EQ(batch.boxes.at(i), boxes) << row.key;
            any_box = any_box || !boxes.empty();
        }
    }
    EXPECT_TRUE(any_box);
}

TEST_F(LoaderTest, TrainCropsAndOrderDependOnSeedAndEpochNotOnThreadsOrWorkers) {
    LoaderOptions options;
    options.batch_size = 3;
    options.transform = Transform::train_crop(24);
    options.order.seed = 9;
    options.order.shuffle_buffer = 6;
    options.threads = 1;
    Loader one_thread(out(), "train", options);
    const std::vector<Batch> reference = epoch_of(one_thread);
    options.threads = 3;
    Loader three_threads(out(), "train", options);
    expect_same_batches(epoch_of(three_threads), reference, "3 threads");
    // Three workers' batches taken round-robin, as DataLoader takes them.
    std::vector<std::vector<Batch>> workers;
    options.worker_count = 3;
    for (options.worker_index = 0; options.worker_index < 3; ++options.worker_index) {
        Loader worker(out(), "train", options);
        EXPECT_EQ(worker.size(), (reference.size() + 2 - options.worker_index) / 3);
        workers.push_back(epoch_of(worker));
    }
    std::vector<Batch> round_robin;
    for (std::size_t b = 0; b < reference.size(); ++b) {
        round_robin.push_back(workers[b % 3].at(b / 3));
    }
    expect_same_batches(round_robin, reference, "3 workers");
    // Another epoch: another order and other crops of the same samples.
    options.worker_index = 0;
    options.worker_count = 1;
    Loader later(out(), "train", options);
    later.set_epoch(1);
    const std::vector<Batch> next_epoch = epoch_of(later);
    std::vector<std::uint64_t> a = indices_of(reference);
    std::vector<std::uint64_t> b = indices_of(next_epoch);
    EXPECT_NE(a, b);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b);
}

TEST_F(LoaderTest, TrainCropOfASampleIsTheReferenceCropFromItsSeed) {
    const Dataset dataset(out());
    LoaderOptions options;
    options.batch_size = 5;
    options.transform = Transform::train_crop(24);
    options.order.seed = 3;
    options.order.epoch = 2;
    Loader loader(out(), "train", options);
    image::CropTransformer transformer;
    std::set<bool> flips;
    std::size_t checked = 0;
    for (const Batch& batch : epoch_of(loader)) {
        ASSERT_EQ(batch.boxes.size(), 0U) << "no boxes unless asked";
        for (std::size_t i = 0; i < batch.size; ++i) {
            const h5::SampleRow row = dataset.sample("train", batch.indices[i]);
            Rng rng(sample_seed(3, 2, batch.indices[i]));
            const image::CropBox box = image::random_resized_crop_box(row.width, row.height, rng);
            const bool flip = rng.unit() < 0.5;
            flips.insert(flip);
            std::vector<std::uint8_t> expected(24 * 24 * 3);
            ASSERT_FALSE(
                transformer.decode_crop_resize(row.image, box, 24, 24, flip, expected.data()));
            EXPECT_TRUE(
                std::equal(expected.begin(), expected.end(),
                           batch.images.begin() + static_cast<std::ptrdiff_t>(i * expected.size())))
                << row.key;
            ++checked;
        }
    }
    EXPECT_EQ(checked, dataset.num_samples("train"));
    EXPECT_EQ(flips.size(), 2U) << "some samples flipped, some not";

    options.with_boxes = true;
    Loader with_boxes(out(), "train", options);
    std::size_t flipped_boxes = 0;
    for (const Batch& batch : epoch_of(with_boxes)) {
        ASSERT_EQ(batch.boxes.size(), batch.size);
        for (std::size_t i = 0; i < batch.size; ++i) {
            const h5::SampleRow row = dataset.sample("train", batch.indices[i]);
            Rng rng(sample_seed(3, 2, batch.indices[i]));
            const image::CropBox box = image::random_resized_crop_box(row.width, row.height, rng);
            const bool flip = rng.unit() < 0.5;
            EXPECT_EQ(batch.boxes[i], expected_boxes(row.boxes, box, 24, flip)) << row.key;
            if (flip) flipped_boxes += batch.boxes[i].size();
        }
    }
    EXPECT_GT(flipped_boxes, 0U);
}

TEST_F(LoaderTest, ReadsShardsAnotherProcessHoldsExclusivelyLocked) {
    std::vector<std::filesystem::path> files{out() / "index.h5"};
    for (const auto& entry : std::filesystem::directory_iterator(out() / "train")) {
        files.push_back(entry.path());
    }
    int locked[2];
    int release[2];
    ASSERT_EQ(pipe(locked), 0);
    ASSERT_EQ(pipe(release), 0);
    const pid_t holder = fork();
    ASSERT_GE(holder, 0);
    if (holder == 0) {
        close(locked[0]);
        close(release[1]);
        for (const auto& file : files) {
            const int fd = open(file.c_str(), O_RDONLY);
            if (fd < 0 || flock(fd, LOCK_EX) != 0) _exit(1);
        }
        char byte = 'x';
        if (write(locked[1], &byte, 1) != 1) _exit(1);
        static_cast<void>(read(release[0], &byte, 1));  // until the test closes it
        _exit(0);
    }
    close(locked[1]);
    close(release[0]);
    char byte = 0;
    ASSERT_EQ(read(locked[0], &byte, 1), 1) << "the holder could not lock";
    close(locked[0]);
    const int probe = open(files.back().c_str(), O_RDONLY);
    EXPECT_EQ(flock(probe, LOCK_SH | LOCK_NB), -1) << "the holder's lock holds";
    close(probe);
    std::vector<std::uint64_t> indices;
    try {
        LoaderOptions options;
        Loader loader(out(), "train", options);
        indices = indices_of(epoch_of(loader));
    } catch (const Error& error) {
        ADD_FAILURE() << error.what();
    }
    close(release[1]);
    int status = 0;
    waitpid(holder, &status, 0);
    std::sort(indices.begin(), indices.end());
    std::vector<std::uint64_t> all(Dataset(out()).num_samples("train"));
    std::iota(all.begin(), all.end(), std::uint64_t{0});
    EXPECT_EQ(indices, all);
}

TEST_F(LoaderTest, RejectsBadOptions) {
    LoaderOptions options;
    EXPECT_THROW(Loader(out(), "test", options), Error);
    options.batch_size = 0;
    EXPECT_THROW(Loader(out(), "train", options), Error);
    options.batch_size = 1;
    options.threads = 0;
    EXPECT_THROW(Loader(out(), "train", options), Error);
    options.threads = 1;
    options.order.rank = 1;
    EXPECT_THROW(Loader(out(), "train", options), Error);
    options.order.rank = 0;
    options.worker_index = 1;
    EXPECT_THROW(Loader(out(), "train", options), Error);
    options.worker_index = 0;
    options.transform = Transform::train_crop(0);
    EXPECT_THROW(Loader(out(), "train", options), Error);
}

}  // namespace
}  // namespace synshard::reader
