#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "synshard/util/error.hpp"

namespace synshard {

// Appends plain values in the machine's byte order (records never leave the job's
// machines in this form), LEB128 varints, and length-prefixed strings and byte runs.
class ByteWriter {
  public:
    template <class T>
    requires std::is_trivially_copyable_v<T>
    void put(const T& value) {
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(&value);
        buffer_.insert(buffer_.end(), bytes, bytes + sizeof(T));
    }
    void put_bytes(std::span<const std::uint8_t> bytes) {
        put<std::uint64_t>(bytes.size());
        buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    }
    void put_string(std::string_view text) {
        put_bytes(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    }
    template <class T>
    requires std::is_trivially_copyable_v<T>
    void put_vector(const std::vector<T>& values) {
        put<std::uint64_t>(values.size());
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(values.data());
        buffer_.insert(buffer_.end(), bytes, bytes + values.size() * sizeof(T));
    }

    // LEB128: seven bits a byte, least significant first, the high bit set on every byte
    // but the last. Values below 128 take one byte, below 16384 two; 2^64-1 takes ten.
    void put_varint(std::uint64_t value) {
        for (; value >= 0x80; value >>= 7)
            buffer_.push_back(static_cast<std::uint8_t>(value | 0x80));
        buffer_.push_back(static_cast<std::uint8_t>(value));
    }
    // The text prefixed by its varint length: one byte of length for anything under 128
    // bytes, where put_string spends eight (for records held by the million).
    void put_varint_string(std::string_view text) {
        put_varint(text.size());
        buffer_.insert(buffer_.end(), text.begin(), text.end());
    }

    // Room for `bytes` more without reallocating (for writers whose size is known).
    void reserve(std::size_t bytes) { buffer_.reserve(buffer_.size() + bytes); }

    std::vector<std::uint8_t>& buffer() { return buffer_; }
    const std::vector<std::uint8_t>& buffer() const { return buffer_; }

  private:
    std::vector<std::uint8_t> buffer_;
};

// Reads what ByteWriter wrote; throws Error when the bytes run out (a torn record).
class ByteReader {
  public:
    explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    template <class T>
    requires std::is_trivially_copyable_v<T> T get() {
        T value;
        std::memcpy(&value, take(sizeof(T)).data(), sizeof(T));
        return value;
    }
    std::span<const std::uint8_t> get_bytes() { return take(get<std::uint64_t>()); }
    std::string get_string() {
        const auto bytes = get_bytes();
        return std::string(bytes.begin(), bytes.end());
    }
    template <class T>
    requires std::is_trivially_copyable_v<T> std::vector<T> get_vector() {
        const auto count = get<std::uint64_t>();
        if (count > bytes_.size() / sizeof(T)) throw Error("record is truncated");
        const auto bytes = take(count * sizeof(T));
        std::vector<T> values(count);
        // An empty vector's data() may be null, which memcpy must not be given.
        if (count != 0) std::memcpy(values.data(), bytes.data(), bytes.size());
        return values;
    }

    // Reads what put_varint wrote. Throws Error when the bytes end inside the number or it
    // runs over ten bytes (no uint64 does).
    std::uint64_t get_varint() {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const auto byte = get<std::uint8_t>();
            value |= std::uint64_t(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return value;
        }
        throw Error("record holds a malformed number");
    }
    std::string get_varint_string() {
        const auto bytes = take(get_varint());
        return std::string(bytes.begin(), bytes.end());
    }

    bool at_end() const { return offset_ == bytes_.size(); }
    std::size_t offset() const { return offset_; }
    std::size_t remaining() const { return bytes_.size() - offset_; }
    // A count read from the bytes, refused (Error) when not even `count` items of
    // `min_item_bytes` each are left: a torn or corrupt count never sizes an allocation.
    std::uint64_t get_count(std::size_t min_item_bytes) {
        const auto count = get<std::uint64_t>();
        if (count > remaining() / min_item_bytes) throw Error("record is truncated");
        return count;
    }

  private:
    std::span<const std::uint8_t> take(std::size_t size) {
        if (size > bytes_.size() - offset_) throw Error("record is truncated");
        const auto part = bytes_.subspan(offset_, size);
        offset_ += size;
        return part;
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t offset_ = 0;
};

}  // namespace synshard
