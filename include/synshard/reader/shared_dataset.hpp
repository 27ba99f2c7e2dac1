#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "synshard/h5/format.hpp"
#include "synshard/reader/index_reader.hpp"

namespace synshard::reader {

// Neither of Debian's HDF5 builds is thread-safe. Every HDF5 call of SharedDataset (and of
// whatever else reads beside it on other threads) is made holding this one process-wide
// lock. A fork waits for the lock and leaves it free in both processes, so no HDF5 call
// is ever half done in a child. h5py does not take it: h5py's calls hold Python's GIL
// instead, so h5py and synshard are safe together in one thread, or in several threads
// as long as h5py is not reading while synshard is.
std::unique_lock<std::mutex> lock_hdf5();

// A converted output for readers on several threads and in forked processes (what the
// Python package wraps). Every method may be called from any thread at any time. HDF5
// handles never cross a fork: the process that finds handles opened by another pid
// (its parent's, inherited) closes its copies and opens the files afresh. Shards are
// opened on first use and stay open. Reading holds lock_hdf5(); decoding (rgb) does not,
// so threads decode in parallel. Every failure is an Error naming the file.
class SharedDataset {
  public:
    // `path` as for Dataset: the output directory, its manifest.json or its index.h5.
    explicit SharedDataset(const std::filesystem::path& path);
    ~SharedDataset();
    SharedDataset(const SharedDataset&) = delete;
    SharedDataset& operator=(const SharedDataset&) = delete;

    const std::filesystem::path& directory() const { return directory_; }
    // Split names in bytewise order ("train", "val").
    const std::vector<std::string>& splits() const { return splits_; }
    // Throws Error for a split the output does not have.
    std::uint64_t num_samples(const std::string& split) const;
    // The `encoding` attribute: jpeg, png, original or raw.
    const std::string& encoding() const { return encoding_; }
    // The label-indexed class table (wnid, words, gloss, every WordNet ancestor).
    const h5::ClassTable& classes() const { return classes_; }

    // The samples of each of the split's shards, in shard order.
    const std::vector<std::uint64_t>& shard_num_samples(const std::string& split) const;

    // Sample `index` < num_samples(split) of the split with its stored image bytes.
    h5::SampleRow sample(const std::string& split, std::uint64_t index) const;
    // The samples at `indices`, read in that order under one hold of lock_hdf5() (pass
    // them sorted to read each shard's chunks front to back).
    std::vector<h5::SampleRow> samples(const std::string& split,
                                       std::span<const std::uint64_t> indices) const;
    // Where a key lives, nullopt if no split has it.
    std::optional<Located> locate(std::string_view key) const;
    // The sample at a location locate() gave.
    h5::SampleRow sample(const Located& location) const;

    // The decoded RGB pixels (CV_8UC3) of a sample read here, as Dataset::rgb.
    cv::Mat rgb(const h5::SampleRow& sample) const;

  private:
    struct Files;
    // The files of this process, opened now if another process opened them. Call with
    // lock_hdf5() held.
    Files& files() const;

    std::filesystem::path directory_;
    std::vector<std::string> splits_;
    std::map<std::string, std::vector<std::uint64_t>, std::less<>> shard_num_samples_;
    h5::ClassTable classes_;
    std::string encoding_;
    std::pair<std::int32_t, std::int32_t> raw_geometry_{0, 0};
    // Replaced from const methods after a fork.
    mutable std::unique_ptr<Files> files_;
};

}  // namespace synshard::reader
