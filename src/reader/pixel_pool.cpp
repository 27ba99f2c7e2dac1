#include "synshard/reader/pixel_pool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "synshard/util/error.hpp"

namespace synshard::reader {

// One memfd and the pool's mapping of it, made through the pool's own open file
// description (`fd`): descriptions Pixels::share() hands out are others, so a lock taken
// on one of those is seen through this one.
struct Pixels::Buffer {
    UniqueFd fd;
    std::uint8_t* data = nullptr;
    std::size_t capacity = 0;

    Buffer(UniqueFd memfd, std::uint8_t* mapped, std::size_t bytes)
        : fd(std::move(memfd)), data(mapped), capacity(bytes) {}
    ~Buffer() { ::munmap(data, capacity); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    // Whether a description share() handed out is still open somewhere: it holds a
    // shared flock, which the kernel drops only when the description's last descriptor
    // and mapping are gone, in every process.
    bool shared_elsewhere() const {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return true;
        ::flock(fd.get(), LOCK_UN);
        return false;
    }
};

Pixels::Pixels() noexcept = default;

Pixels::~Pixels() {
    shared_.reset();
    if (buffer_) pool_->give_back(std::move(buffer_));
}

Pixels::Pixels(Pixels&& other) noexcept
    : buffer_(std::move(other.buffer_)),
      pool_(std::move(other.pool_)),
      size_(std::exchange(other.size_, 0)),
      shared_(std::move(other.shared_)) {}

Pixels& Pixels::operator=(Pixels&& other) noexcept {
    if (this != &other) {
        Pixels gone(std::move(*this));
        buffer_ = std::move(other.buffer_);
        pool_ = std::move(other.pool_);
        size_ = std::exchange(other.size_, 0);
        shared_ = std::move(other.shared_);
    }
    return *this;
}

Pixels::Pixels(const Pixels& other) : Pixels() {
    if (other.buffer_) {
        *this = other.pool_->lend(other.size_);
        std::memcpy(data(), other.data(), size_);
    }
}

Pixels& Pixels::operator=(const Pixels& other) {
    if (this != &other) *this = Pixels(other);
    return *this;
}

std::uint8_t* Pixels::data() const noexcept {
    return buffer_ ? buffer_->data : nullptr;
}

int Pixels::share() {
    if (shared_.get() < 0) {
        // Reopening the memfd through /proc makes a new open file description; dup() would not.
        const std::string path = "/proc/self/fd/" + std::to_string(buffer_->fd.get());
        UniqueFd opened = open_checked(path, O_RDWR);
        if (::flock(opened.get(), LOCK_SH) != 0) throw_system_error("locking " + path, errno);
        shared_ = std::move(opened);
    }
    return shared_.get();
}

bool operator==(const Pixels& a, const Pixels& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data(), b.data(), a.size_) == 0);
}

PixelPool::PixelPool(std::size_t keep) : keep_(keep), pid_(::getpid()) {
    kept_.reserve(keep_ + 1);  // give_back() never allocates
}

PixelPool::~PixelPool() = default;

Pixels PixelPool::lend(std::size_t bytes) {
    Pixels pixels;
    pixels.pool_ = shared_from_this();
    pixels.size_ = bytes;
    if (::getpid() == pid_) {
        const std::lock_guard lock(mutex_);
        for (auto kept = kept_.begin(); kept != kept_.end(); ++kept) {
            if ((*kept)->capacity >= bytes && !(*kept)->shared_elsewhere()) {
                pixels.buffer_ = std::move(*kept);
                kept_.erase(kept);
                return pixels;
            }
        }
    }
    UniqueFd memfd(::memfd_create("synshard-pixels", MFD_CLOEXEC));
    if (memfd.get() < 0) throw_system_error("making batch memory (memfd_create)", errno);
    if (::ftruncate(memfd.get(), static_cast<off_t>(bytes)) != 0) {
        throw_system_error("sizing batch memory to " + std::to_string(bytes) + " bytes", errno);
    }
    void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.get(), 0);
    if (mapped == MAP_FAILED) {
        throw_system_error("mapping " + std::to_string(bytes) + " bytes of batch memory", errno);
    }
    pixels.buffer_ = std::make_unique<Pixels::Buffer>(std::move(memfd),
                                                      static_cast<std::uint8_t*>(mapped), bytes);
    return pixels;
}

void PixelPool::give_back(std::unique_ptr<Pixels::Buffer> buffer) noexcept {
    if (::getpid() != pid_) return;  // a fork's copy: the parent still lends it
    const std::lock_guard lock(mutex_);
    kept_.push_back(std::move(buffer));
    if (kept_.size() > keep_) kept_.erase(kept_.begin());
}

}  // namespace synshard::reader
