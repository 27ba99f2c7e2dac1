#include "synshard/util/hash.hpp"

#include <openssl/evp.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack, no allocation per hash
#include <xxhash.h>

#include "synshard/util/error.hpp"

namespace synshard {

std::uint64_t keyed_hash(std::uint64_t seed, std::string_view key) {
    std::array<std::uint8_t, 8> seed_bytes{};
    for (std::size_t i = 0; i < seed_bytes.size(); ++i) {
        seed_bytes[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    }
    XXH3_state_t state;
    XXH3_INITSTATE(&state);
    XXH3_64bits_reset(&state);
    XXH3_64bits_update(&state, seed_bytes.data(), seed_bytes.size());
    XXH3_64bits_update(&state, key.data(), key.size());
    return XXH3_64bits_digest(&state);
}

std::uint64_t content_hash64(std::span<const std::uint8_t> bytes) {
    return XXH3_64bits(bytes.data(), bytes.size());
}

namespace {

std::string content_digest_text(XXH128_hash_t hash) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, hash);
    return to_hex(canonical.digest);
}

}  // namespace

std::string content_digest(std::span<const std::uint8_t> bytes) {
    return content_digest_text(XXH3_128bits(bytes.data(), bytes.size()));
}

struct ContentDigester::State {
    XXH3_state_t xxh3;
};

ContentDigester::ContentDigester() : state_(std::make_unique<State>()) {
    XXH3_INITSTATE(&state_->xxh3);
    XXH3_128bits_reset(&state_->xxh3);
}

ContentDigester::~ContentDigester() = default;

void ContentDigester::update(std::span<const std::uint8_t> bytes) {
    XXH3_128bits_update(&state_->xxh3, bytes.data(), bytes.size());
}

std::string ContentDigester::digest() const {
    return content_digest_text(XXH3_128bits_digest(&state_->xxh3));
}

struct Sha256::Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
};

namespace {

// Given EVP_sha256(), OpenSSL 3 looks the algorithm up among its providers again at every
// EVP_DigestInit_ex (crypto(7), "Implicit fetching"); fetched once, it is looked up once.
const EVP_MD* sha256_algorithm() {
    static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> algorithm(
        EVP_MD_fetch(nullptr, "SHA256", nullptr), &EVP_MD_free);
    return algorithm.get();
}

}  // namespace

Sha256::Sha256() : context_(std::make_unique<Context>()) {
    const EVP_MD* const algorithm = sha256_algorithm();
    if (algorithm == nullptr || context_->ctx == nullptr ||
        EVP_DigestInit_ex(context_->ctx, algorithm, nullptr) != 1) {
        throw Error("SHA-256: cannot initialise OpenSSL digest");
    }
}

Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::uint8_t> bytes) {
    if (EVP_DigestUpdate(context_->ctx, bytes.data(), bytes.size()) != 1) {
        throw Error("SHA-256: digest update failed");
    }
}

void Sha256::update(std::string_view text) {
    update(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Sha256Digest Sha256::finish() {
    Sha256Digest digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_->ctx, digest.data(), &length) != 1 || length != digest.size()) {
        throw Error("SHA-256: digest finalisation failed");
    }
    return digest;
}

Sha256Digest sha256(std::span<const std::uint8_t> bytes) {
    Sha256 hasher;
    hasher.update(bytes);
    return hasher.finish();
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (std::uint8_t byte : bytes) {
        text.push_back(kDigits[byte >> 4]);
        text.push_back(kDigits[byte & 0x0f]);
    }
    return text;
}

}  // namespace synshard
