#include "synshard/reader/shared_dataset.hpp"

#include <pthread.h>
#include <unistd.h>

#include <numeric>

#include "synshard/reader/dataset.hpp"
#include "synshard/util/error.hpp"

namespace synshard::reader {

namespace {

std::mutex& hdf5_mutex() {
    static std::mutex mutex;
    return mutex;
}

void take_hdf5_mutex() {
    hdf5_mutex().lock();
}

void free_hdf5_mutex() {
    hdf5_mutex().unlock();
}

}  // namespace

std::unique_lock<std::mutex> lock_hdf5() {
    // Registered once, before the lock is first taken: from then on a fork waits until no
    // thread is inside HDF5, and the child (whose only thread is the forking one) starts
    // with the lock free.
    static const int registered = pthread_atfork(take_hdf5_mutex, free_hdf5_mutex, free_hdf5_mutex);
    if (registered != 0)
        throw_system_error("registering the HDF5 lock's fork handlers", registered);
    return std::unique_lock(hdf5_mutex());
}

struct SharedDataset::Files {
    pid_t pid = getpid();
    Dataset dataset;

    explicit Files(const std::filesystem::path& directory) : dataset(directory) {}
};

SharedDataset::SharedDataset(const std::filesystem::path& path) {
    const auto lock = lock_hdf5();
    // Absolute, so that a process that changes directory still reopens the same files.
    files_ = std::make_unique<Files>(std::filesystem::absolute(path));
    const Dataset& dataset = files_->dataset;
    directory_ = dataset.directory();
    splits_ = dataset.splits();
    for (const std::string& split : splits_) {
        shard_num_samples_[split] = dataset.index().shard_num_samples(split);
    }
    classes_ = dataset.classes();
    encoding_ = dataset.encoding();
    raw_geometry_ = dataset.raw_geometry();
}

SharedDataset::~SharedDataset() {
    const auto lock = lock_hdf5();
    files_.reset();
}

SharedDataset::Files& SharedDataset::files() const {
    if (!files_ || files_->pid != getpid()) {
        // Closing the inherited handles touches only this process's copies of them.
        files_.reset();
        files_ = std::make_unique<Files>(directory_);
    }
    return *files_;
}

std::uint64_t SharedDataset::num_samples(const std::string& split) const {
    const std::vector<std::uint64_t>& counts = shard_num_samples(split);
    return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

const std::vector<std::uint64_t>& SharedDataset::shard_num_samples(const std::string& split) const {
    const auto found = shard_num_samples_.find(split);
    if (found == shard_num_samples_.end()) {
        throw Error(directory_.string() + ": no split '" + split + "'");
    }
    return found->second;
}

h5::SampleRow SharedDataset::sample(const std::string& split, std::uint64_t index) const {
    const auto lock = lock_hdf5();
    return files().dataset.sample(split, index);
}

std::vector<h5::SampleRow> SharedDataset::samples(const std::string& split,
                                                  std::span<const std::uint64_t> indices) const {
    std::vector<h5::SampleRow> rows;
    rows.reserve(indices.size());
    const auto lock = lock_hdf5();
    const Dataset& dataset = files().dataset;
    for (const std::uint64_t index : indices) rows.push_back(dataset.sample(split, index));
    return rows;
}

std::optional<Located> SharedDataset::locate(std::string_view key) const {
    const auto lock = lock_hdf5();
    return files().dataset.locate(key);
}

h5::SampleRow SharedDataset::sample(const Located& location) const {
    const auto lock = lock_hdf5();
    return files().dataset.shard(location.split, location.shard).read(location.row);
}

cv::Mat SharedDataset::rgb(const h5::SampleRow& sample) const {
    return decode_rgb(sample, encoding_, raw_geometry_);
}

}  // namespace synshard::reader
