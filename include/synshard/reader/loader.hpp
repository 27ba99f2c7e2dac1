#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "synshard/image/box.hpp"
#include "synshard/image/crop_transform.hpp"
#include "synshard/reader/pixel_pool.hpp"
#include "synshard/reader/sample_order.hpp"

namespace synshard::reader {

// What the loader does to each decoded image.
struct Transform {
    enum class Kind {
        // The stored image as is: every image of a batch must then have the same size.
        none,
        // torchvision's RandomResizedCrop(size) (scale 0.08..1, ratio 3/4..4/3) and
        // RandomHorizontalFlip, fused with the decode (image/crop_transform.hpp).
        train,
        // torchvision's Resize(resize) (shorter side) and CenterCrop(size).
        eval,
    };
    Kind kind = Kind::none;
    int size = 0;    // the output's side (train, eval)
    int resize = 0;  // the shorter side before the centre crop (eval)

    static Transform train_crop(int size) { return {Kind::train, size, 0}; }
    static Transform eval_crop(int resize, int size) { return {Kind::eval, size, resize}; }
};

// What the loader does to one sample: the source box it resamples to the output, and
// whether it mirrors the result.
struct SampleCrop {
    image::CropBox box;
    bool flip = false;
};

// Sample `index`'s (its global index in the split) crop under `transform` in epoch
// `epoch` of `seed`, for a stored image of width x height: train draws the box and then
// the flip from an Rng seeded with sample_seed(seed, epoch, index); eval is the centre
// crop, never flipped; none is the whole image. Pure: the Loader applies exactly this,
// and anyone can recompute a sample's transform from its index (tests/python does).
SampleCrop sample_crop(const Transform& transform, std::uint64_t seed, std::uint64_t epoch,
                       std::uint64_t index, int width, int height);

struct LoaderOptions {
    std::size_t batch_size = 1;
    Transform transform;
    // The order: shuffle, seed, epoch, rank, world_size, drop_last, shuffle_buffer.
    OrderOptions order;
    // Threads reading, decoding and transforming (at least 1).
    unsigned threads = 2;
    // Also hand out each sample's boxes (in output pixels).
    bool with_boxes = false;
    // This loader yields only the rank's batches b with b % worker_count == worker_index
    // (a DataLoader worker's share): worker w of K yields batches w, w + K, ..., so the
    // workers' batches taken round-robin are the one-worker stream.
    std::uint32_t worker_index = 0;
    std::uint32_t worker_count = 1;
};

// A batch: `size` samples of the rank's epoch, in its order.
struct Batch {
    std::uint64_t number = 0;  // the batch's place in the rank's epoch (0, 1, ...)
    std::size_t size = 0;
    int height = 0;
    int width = 0;
    // size x height x width x 3, RGB uint8, rows contiguous (NHWC), in the loader's
    // memory: it takes it back for a later batch when the batch is destroyed.
    Pixels images;
    std::vector<std::int32_t> labels;
    std::vector<std::string> keys;
    // The samples' global indices in the split (shard 0's rows first, then shard 1's, ...).
    std::vector<std::uint64_t> indices;
    // With LoaderOptions::with_boxes, each sample's boxes mapped through its crop, resize
    // and flip into output pixels, clipped to the output; boxes left empty are dropped.
    std::vector<std::vector<image::Box>> boxes;
};

// Batches of one split of a converted output for training: read, decoded and transformed
// by C++ threads, in the order of reader::EpochOrder.
//
// Determinism: the samples of every batch, their order, and each sample's random crop
// and flip (drawn from an Rng seeded with sample_seed(seed, epoch, global index)) are pure
// functions of (seed, epoch, rank, world_size, drop_last, shuffle_buffer, batch_size,
// transform): the number of threads, their scheduling and the worker split change
// nothing. A padded repeat of a sample gets the same crop.
//
// Batches: every image of a batch has one size. With a transform it is size x size; with
// none, the stored size, and a batch whose images differ in size is an Error naming the two
// keys (use batch_size 1, or a resize:fixed/crop output). The last batch of the rank's
// epoch holds the rest (it may be smaller).
//
// Threads start on the first next() (so a Loader made before a fork works in the child
// if it had not started there) and stop at the end of the epoch or in the destructor.
// A Loader whose epoch was started by another process throws Error. Every HDF5 call
// holds lock_hdf5(); decoding runs outside it, in parallel.
//
// Memory: at most 2 x threads batches are being built or wait to be taken (each
// batch_size x height x width x 3 bytes of pixels plus its encoded bytes), plus the
// one window of shuffle_buffer indices per thread; no sample data is held across batches.
// The pixels of batches handed out and destroyed since are kept for reuse, at most
// 2 x threads + 4 batches' (a PixelPool: no page faults, and a batch's pixels cross to
// another process as a file descriptor, Pixels::share()).
class Loader {
  public:
    // `output` as for Dataset: the output directory, its manifest.json or its index.h5.
    // Throws Error for a split the output does not have, batch_size 0, threads 0, a rank
    // outside the world, a worker outside worker_count or a transform size below 1.
    Loader(const std::filesystem::path& output, const std::string& split,
           const LoaderOptions& options);
    ~Loader();
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;

    // Samples in this rank's epoch (ceil(N / W), or floor(N / W) with drop_last).
    std::uint64_t rank_samples() const;
    // Batches this loader yields per epoch (its worker's share of the rank's batches).
    std::uint64_t size() const;

    // The next batch of the epoch; nullopt at its end, after which the next call starts
    // the epoch again. Rethrows a failure (an unreadable chunk, an undecodable image) at
    // the batch it happened in, as Error naming the key.
    std::optional<Batch> next();
    // Stops the current epoch's threads; the next next() starts `epoch` from its first batch.
    void set_epoch(std::uint64_t epoch);
    // Stops the current epoch; the next next() starts it again from its first batch.
    void restart();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace synshard::reader
