#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace synshard {

// The one keyed hash that orders everything that needs an order (split, class caps,
// shard assignment, order inside a shard). It depends only on the seed and the key:
// XXH3-64 over the seed as 8 little-endian bytes followed by the key's bytes.
std::uint64_t keyed_hash(std::uint64_t seed, std::string_view key);

// The name recorded in manifests for keyed_hash.
inline constexpr std::string_view kKeyedHashName = "xxh3-64(seed-le64 || key)";

// XXH3-64 of bytes (unseeded); used to route content to the rank that owns it.
std::uint64_t content_hash64(std::span<const std::uint8_t> bytes);

// XXH3-128 of bytes (unseeded), as 32 hex characters: how the resume fingerprint records
// what an input held (fast enough to hash every image of a corpus as it is read).
std::string content_digest(std::span<const std::uint8_t> bytes);

// content_digest of bytes given in consecutive parts, so that a large file is digested a
// block at a time instead of held whole.
class ContentDigester {
  public:
    ContentDigester();
    ~ContentDigester();
    ContentDigester(const ContentDigester&) = delete;
    ContentDigester& operator=(const ContentDigester&) = delete;

    void update(std::span<const std::uint8_t> bytes);
    // content_digest of everything updated so far.
    std::string digest() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

using Sha256Digest = std::array<std::uint8_t, 32>;

// Incremental SHA-256 (OpenSSL's libcrypto).
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::span<const std::uint8_t> bytes);
    void update(std::string_view text);
    // Finishes the digest; the object must not be updated afterwards.
    Sha256Digest finish();

  private:
    struct Context;
    std::unique_ptr<Context> context_;
};

Sha256Digest sha256(std::span<const std::uint8_t> bytes);

// Lower-case hexadecimal, two characters a byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace synshard
