#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "synshard/corpus/item.hpp"
#include "synshard/corpus/listing.hpp"

namespace synshard::survey {

// Items of one source, encoded back to back in key order, as a rank holds them while it
// plans (its scanned sources) and afterwards (its share), and as they travel between the
// job's ranks (never into a file). A few dozen bytes an item: what follows from the
// item's source (the key's prefix, the path, the member name, the folder's wnid) or from
// the seed (the keyed hash) is not stored, nor is a box's wnid when it is the item's; the
// numbers are LEB128 varints (ByteWriter::put_varint).
struct EncodedItems {
    std::vector<std::uint8_t> bytes;  // exactly the encoded items: no spare capacity
    std::uint32_t count = 0;
};

// Encodes any items as items of `source`: whatever an item has that `source` does not
// imply (another key prefix, path, member or wnid) is stored with it.
EncodedItems encode_items(const std::vector<corpus::Item>& items, const corpus::Source& source);

// The items encode_items was given, in the same order, with hash = keyed_hash(seed, key).
// `bytes` may be any run of whole items of the encoding (a piece of it). Throws Error when
// the bytes end inside an item or hold other than `count` items.
std::vector<corpus::Item> decode_items(std::span<const std::uint8_t> bytes, std::size_t count,
                                       const corpus::Source& source, std::uint64_t seed);

// Where each item starts in `items.bytes`, and where the last one ends: count + 1
// offsets, so items [b, e) are bytes [offsets[b], offsets[e]). Throws Error like
// decode_items.
std::vector<std::size_t> item_offsets(const EncodedItems& items, const corpus::Source& source);

}  // namespace synshard::survey
