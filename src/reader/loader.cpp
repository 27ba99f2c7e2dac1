#include "synshard/reader/loader.hpp"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "synshard/image/crop_transform.hpp"
#include "synshard/reader/shared_dataset.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/reason.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::reader {

namespace {

// What one thread keeps between samples: the fused transformer's decoder state, and a
// resampler for raw samples.
struct Worker {
    image::CropTransformer transformer;
    image::Resampler resampler;
};

// Boxes in stored pixels through the crop `box`, its resize to side x side and the flip.
std::vector<image::Box> map_boxes(const std::vector<image::Box>& boxes, image::CropBox box,
                                  int side, bool flip) {
    const float out = static_cast<float>(side);
    const float sx = out / static_cast<float>(box.width);
    const float sy = out / static_cast<float>(box.height);
    const auto x = [&](float v) {
        return std::clamp((v - static_cast<float>(box.x)) * sx, 0.0F, out);
    };
    const auto y = [&](float v) {
        return std::clamp((v - static_cast<float>(box.y)) * sy, 0.0F, out);
    };
    std::vector<image::Box> mapped;
    for (const image::Box& b : boxes) {
        image::Box m{x(b.xmin), y(b.ymin), x(b.xmax), y(b.ymax)};
        if (flip) m = {out - m.xmax, m.ymin, out - m.xmin, m.ymax};
        if (m.xmin < m.xmax && m.ymin < m.ymax) mapped.push_back(m);
    }
    return mapped;
}

// Destroyed batches' pixels kept for reuse: the batches in flight besides (a DataLoader
// worker's queue holds prefetch_factor = 2 of them, and its main process one more).
constexpr std::size_t kept_batches(unsigned threads) {
    return 2 * static_cast<std::size_t>(threads) + 4;
}

}  // namespace

// One epoch's threads and the batches they finished. Threads build whole batches, at
// most kInFlightPerThread per thread ahead of the one next() hands out next.
struct Epoch {
    static constexpr std::uint64_t kInFlightPerThread = 2;

    std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t next_to_build = 0;  // the k-th batch of this worker's share
    std::uint64_t next_to_take = 0;
    std::map<std::uint64_t, Batch> ready;
    std::map<std::uint64_t, std::exception_ptr> failed;
    bool stopping = false;
    std::vector<std::thread> threads;

    ~Epoch() {
        {
            const std::lock_guard lock(mutex);
            stopping = true;
        }
        changed.notify_all();
        for (std::thread& thread : threads) thread.join();
    }
};

struct Loader::State {
    SharedDataset dataset;
    std::string split;
    LoaderOptions options;
    std::optional<EpochOrder> order;
    std::uint64_t rank_batches = 0;
    std::uint64_t worker_batches = 0;
    std::unique_ptr<Epoch> epoch;
    pid_t epoch_pid = 0;
    std::shared_ptr<PixelPool> pixels;

    State(const std::filesystem::path& output, std::string split_name, const LoaderOptions& opts)
        : dataset(output),
          split(std::move(split_name)),
          options(opts),
          pixels(std::make_shared<PixelPool>(kept_batches(opts.threads))) {
        if (options.batch_size == 0) throw Error("a loader's batch_size must be at least 1");
        if (options.threads == 0) throw Error("a loader needs at least 1 thread");
        if (options.worker_count == 0 || options.worker_index >= options.worker_count) {
            throw Error("loader worker " + std::to_string(options.worker_index) + " of " +
                        std::to_string(options.worker_count));
        }
        const Transform& transform = options.transform;
        if (transform.kind != Transform::Kind::none &&
            (transform.size < 1 ||
             (transform.kind == Transform::Kind::eval && transform.resize < transform.size))) {
            throw Error("a loader transform needs size >= 1 (and resize >= size), not size " +
                        std::to_string(transform.size) + ", resize " +
                        std::to_string(transform.resize));
        }
        set_order();
    }

    void set_order() {
        order.emplace(dataset.shard_num_samples(split), options.order);
        rank_batches = (order->size() + options.batch_size - 1) / options.batch_size;
        const std::uint64_t k = options.worker_count;
        worker_batches = rank_batches / k + (options.worker_index < rank_batches % k ? 1 : 0);
    }

    // Stops the running epoch. In a process that did not start it (a fork), the threads
    // are not ours to join: the copy of their state is abandoned.
    void stop() {
        if (epoch && epoch_pid != getpid()) {
            static_cast<void>(epoch.release());
        }
        epoch.reset();
    }

    void start() {
        epoch = std::make_unique<Epoch>();
        epoch_pid = getpid();
        for (unsigned t = 0; t < options.threads; ++t) {
            epoch->threads.emplace_back([this, e = epoch.get()] { run(*e); });
        }
    }

    void run(Epoch& e) {
        Worker worker;
        const std::uint64_t limit = Epoch::kInFlightPerThread * options.threads;
        while (true) {
            std::uint64_t k = 0;
            {
                std::unique_lock lock(e.mutex);
                e.changed.wait(lock, [&] {
                    return e.stopping || e.next_to_build >= worker_batches ||
                           e.next_to_build < e.next_to_take + limit;
                });
                if (e.stopping || e.next_to_build >= worker_batches) return;
                k = e.next_to_build++;
            }
            std::optional<Batch> batch;
            std::exception_ptr failure;
            try {
                batch = build(options.worker_index + k * options.worker_count, worker);
            } catch (...) {
                failure = std::current_exception();
            }
            {
                const std::lock_guard lock(e.mutex);
                if (failure) {
                    e.failed.emplace(k, failure);
                } else {
                    e.ready.emplace(k, std::move(*batch));
                }
            }
            e.changed.notify_all();
        }
    }

    Batch build(std::uint64_t number, Worker& worker) const {
        Batch batch;
        batch.number = number;
        batch.indices = order->samples(number * options.batch_size, options.batch_size);
        batch.size = batch.indices.size();
        // Read in index order (shard by shard, rows ascending), transform in batch order.
        std::vector<std::size_t> by_index(batch.size);
        std::iota(by_index.begin(), by_index.end(), std::size_t{0});
        std::sort(by_index.begin(), by_index.end(), [&](std::size_t a, std::size_t b) {
            return batch.indices[a] < batch.indices[b];
        });
        std::vector<std::uint64_t> sorted(batch.size);
        for (std::size_t i = 0; i < batch.size; ++i) sorted[i] = batch.indices[by_index[i]];
        std::vector<h5::SampleRow> read = dataset.samples(split, sorted);
        std::vector<h5::SampleRow> rows(batch.size);
        for (std::size_t i = 0; i < batch.size; ++i) rows[by_index[i]] = std::move(read[i]);

        batch.labels.reserve(batch.size);
        batch.keys.reserve(batch.size);
        if (options.with_boxes) batch.boxes.reserve(batch.size);
        for (std::size_t i = 0; i < batch.size; ++i) {
            add(batch, i, rows[i], worker);
            batch.labels.push_back(rows[i].label);
            batch.keys.push_back(std::move(rows[i].key));
        }
        return batch;
    }

    // Sample i of the batch into its images (and boxes), before its key joins batch.keys.
    void add(Batch& batch, std::size_t i, const h5::SampleRow& row, Worker& worker) const {
        const Transform& transform = options.transform;
        if (transform.kind == Transform::Kind::none) {
            const cv::Mat rgb = dataset.rgb(row);
            if (i == 0) {
                batch.height = rgb.rows;
                batch.width = rgb.cols;
                batch.images = pixels->lend(batch.size * rgb.total() * 3);
            } else if (rgb.rows != batch.height || rgb.cols != batch.width) {
                throw Error(row.key + " (" + std::to_string(rgb.cols) + "x" +
                            std::to_string(rgb.rows) + ") and " + batch.keys.front() + " (" +
                            std::to_string(batch.width) + "x" + std::to_string(batch.height) +
                            ") differ in size: without a transform, a batch needs images of one "
                            "size (batch_size 1, or a transform)");
            }
            const std::size_t bytes = rgb.total() * 3;
            std::uint8_t* out = batch.images.data() + i * bytes;
            for (int y = 0; y < rgb.rows; ++y) {
                std::copy_n(rgb.ptr<std::uint8_t>(y), rgb.cols * 3,
                            out + static_cast<std::size_t>(y) * rgb.cols * 3);
            }
            if (options.with_boxes) batch.boxes.push_back(row.boxes);
            return;
        }
        const int side = transform.size;
        if (i == 0) {
            batch.height = batch.width = side;
            batch.images = pixels->lend(batch.size * static_cast<std::size_t>(side) * side * 3);
        }
        std::uint8_t* out = batch.images.data() + i * static_cast<std::size_t>(side) * side * 3;
        const bool raw = dataset.encoding() == h5::kRawEncoding;
        // Raw samples are cropped from their whole stored array, padding included.
        const cv::Mat rgb = raw ? dataset.rgb(row) : cv::Mat();
        const int width = raw ? rgb.cols : row.width;
        const int height = raw ? rgb.rows : row.height;
        const auto [box, flip] = sample_crop(transform, options.order.seed, options.order.epoch,
                                             batch.indices[i], width, height);
        if (raw) {
            image::crop_resize(rgb, box, side, side, flip, worker.resampler, out);
        } else if (const auto failure = worker.transformer.decode_crop_resize(row.image, box, side,
                                                                              side, flip, out)) {
            throw Error(row.key + ": " + std::string(to_string(failure->reason)) + ": " +
                        failure->detail);
        }
        if (options.with_boxes) batch.boxes.push_back(map_boxes(row.boxes, box, side, flip));
    }
};

SampleCrop sample_crop(const Transform& transform, std::uint64_t seed, std::uint64_t epoch,
                       std::uint64_t index, int width, int height) {
    switch (transform.kind) {
        case Transform::Kind::train: {
            Rng rng(sample_seed(seed, epoch, index));
            const image::CropBox box = image::random_resized_crop_box(width, height, rng);
            return {box, rng.unit() < 0.5};
        }
        case Transform::Kind::eval:
            return {image::center_crop_box(width, height, transform.resize, transform.size), false};
        case Transform::Kind::none:
            break;
    }
    return {{0, 0, width, height}, false};
}

Loader::Loader(const std::filesystem::path& output, const std::string& split,
               const LoaderOptions& options)
    : state_(std::make_unique<State>(output, split, options)) {}

Loader::~Loader() {
    state_->stop();
}

std::uint64_t Loader::rank_samples() const {
    return state_->order->size();
}

std::uint64_t Loader::size() const {
    return state_->worker_batches;
}

std::optional<Batch> Loader::next() {
    State& s = *state_;
    if (s.epoch && s.epoch_pid != getpid()) {
        throw Error("this loader's epoch was started in process " + std::to_string(s.epoch_pid) +
                    ": a forked process makes its own Loader (or starts before iterating)");
    }
    if (!s.epoch) s.start();
    Epoch& e = *s.epoch;
    std::unique_lock lock(e.mutex);
    if (e.next_to_take >= s.worker_batches) {
        lock.unlock();
        s.stop();
        return std::nullopt;
    }
    const std::uint64_t k = e.next_to_take;
    e.changed.wait(lock, [&] { return e.ready.contains(k) || e.failed.contains(k); });
    if (const auto failed = e.failed.find(k); failed != e.failed.end()) {
        const std::exception_ptr failure = failed->second;
        lock.unlock();
        s.stop();
        std::rethrow_exception(failure);
    }
    auto found = e.ready.find(k);
    Batch batch = std::move(found->second);
    e.ready.erase(found);
    ++e.next_to_take;
    lock.unlock();
    e.changed.notify_all();
    return batch;
}

void Loader::set_epoch(std::uint64_t epoch) {
    state_->stop();
    state_->options.order.epoch = epoch;
    state_->set_order();
}

void Loader::restart() {
    state_->stop();
}

}  // namespace synshard::reader
