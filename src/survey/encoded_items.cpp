#include "synshard/survey/encoded_items.hpp"

#include <string_view>

#include "synshard/util/bytes.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::survey {
namespace {

using corpus::Item;
using corpus::Split;

// What an item stores beyond what its source implies.
enum ItemFlags : std::uint8_t { kVal = 1, kOwnLocation = 2, kOwnWnid = 4, kOwnKeyPrefix = 8 };
enum BoxFlags : std::uint8_t { kBoxOwnWnid = 1 };

// The file name (folders) or member path (tars) a key implies in its source.
std::string_view implied_name(std::string_view key, const corpus::Source& source) {
    return key.substr(source.key_prefix.size());
}

// Everything but an archive member's offset, which is stored apart (relative to its tar).
bool location_implied(const Item& item, const corpus::Source& source) {
    if (!item.key.starts_with(source.key_prefix)) return false;
    const std::string_view name = implied_name(item.key, source);
    switch (source.kind) {
        case corpus::Source::Kind::tar:
            return !item.offset && item.path == source.path.string() && item.member == name;
        case corpus::Source::Kind::archive_member:
            return item.offset && *item.offset >= source.offset &&
                   item.path == source.path.string() && item.member == name;
        case corpus::Source::Kind::directory:
            break;
    }
    return !item.offset && item.member.empty() && item.path == (source.path / name).string();
}

// Labels are -1 (no selected class) or more: stored plus one, so that they stay unsigned.
void put_label(ByteWriter& out, std::int32_t label) {
    out.put_varint(static_cast<std::uint64_t>(static_cast<std::int64_t>(label) + 1));
}

std::int32_t get_label(ByteReader& in) {
    return static_cast<std::int32_t>(static_cast<std::int64_t>(in.get_varint()) - 1);
}

void encode_item(ByteWriter& out, const Item& item, const corpus::Source& source) {
    const bool own_key_prefix = !item.key.starts_with(source.key_prefix);
    const bool own_location = !location_implied(item, source);
    const bool own_wnid = item.wnid != source.wnid;
    out.put(static_cast<std::uint8_t>(
        (item.split == Split::val ? kVal : 0) | (own_location ? kOwnLocation : 0) |
        (own_wnid ? kOwnWnid : 0) | (own_key_prefix ? kOwnKeyPrefix : 0)));
    out.put_varint_string(own_key_prefix ? std::string_view(item.key)
                                         : implied_name(item.key, source));
    if (own_location) {
        out.put_varint_string(item.path);
        out.put_varint_string(item.member);
        out.put_varint(item.offset ? *item.offset + 1 : 0);
    } else if (source.kind == corpus::Source::Kind::archive_member) {
        out.put_varint(*item.offset - source.offset);
    }
    if (own_wnid) out.put_varint_string(item.wnid);
    put_label(out, item.label);
    out.put_varint(item.size);
    out.put_varint(item.boxes.size());
    for (const auto& box : item.boxes) {
        const bool box_own_wnid = box.wnid != item.wnid;
        out.put(static_cast<std::uint8_t>(box_own_wnid ? kBoxOwnWnid : 0));
        out.put<float>(box.box.xmin);
        out.put<float>(box.box.ymin);
        out.put<float>(box.box.xmax);
        out.put<float>(box.box.ymax);
        if (box_own_wnid) out.put_varint_string(box.wnid);
        put_label(out, box.label);
    }
}

// Everything but the hash, which the seed gives.
Item decode_item(ByteReader& in, const corpus::Source& source) {
    Item item;
    const auto flags = in.get<std::uint8_t>();
    item.key = (flags & kOwnKeyPrefix) != 0 ? in.get_varint_string()
                                            : source.key_prefix + in.get_varint_string();
    item.split = (flags & kVal) != 0 ? Split::val : Split::train;
    if ((flags & kOwnLocation) != 0) {
        item.path = in.get_varint_string();
        item.member = in.get_varint_string();
        if (const std::uint64_t offset = in.get_varint(); offset != 0) item.offset = offset - 1;
    } else if (source.kind == corpus::Source::Kind::tar) {
        item.path = source.path.string();
        item.member = implied_name(item.key, source);
    } else if (source.kind == corpus::Source::Kind::archive_member) {
        item.path = source.path.string();
        item.member = implied_name(item.key, source);
        item.offset = source.offset + in.get_varint();
    } else {
        item.path = (source.path / implied_name(item.key, source)).string();
    }
    item.wnid = (flags & kOwnWnid) != 0 ? in.get_varint_string() : source.wnid;
    item.label = get_label(in);
    item.size = in.get_varint();
    item.boxes.resize(in.get_varint());
    for (auto& box : item.boxes) {
        const auto box_flags = in.get<std::uint8_t>();
        box.box.xmin = in.get<float>();
        box.box.ymin = in.get<float>();
        box.box.xmax = in.get<float>();
        box.box.ymax = in.get<float>();
        box.wnid = (box_flags & kBoxOwnWnid) != 0 ? in.get_varint_string() : item.wnid;
        box.label = get_label(in);
    }
    return item;
}

}  // namespace

EncodedItems encode_items(const std::vector<Item>& items, const corpus::Source& source) {
    ByteWriter out;
    for (const auto& item : items) encode_item(out, item, source);
    EncodedItems encoded{std::move(out.buffer()), static_cast<std::uint32_t>(items.size())};
    encoded.bytes.shrink_to_fit();
    return encoded;
}

std::vector<Item> decode_items(std::span<const std::uint8_t> bytes, std::size_t count,
                               const corpus::Source& source, std::uint64_t seed) {
    std::vector<Item> items;
    items.reserve(count);
    ByteReader in(bytes);
    while (!in.at_end()) {
        items.push_back(decode_item(in, source));
        items.back().hash = keyed_hash(seed, items.back().key);
    }
    if (items.size() != count) throw Error("plan exchange: item count mismatch");
    return items;
}

std::vector<std::size_t> item_offsets(const EncodedItems& items, const corpus::Source& source) {
    std::vector<std::size_t> offsets{0};
    offsets.reserve(items.count + std::size_t{1});
    ByteReader in(items.bytes);
    while (!in.at_end()) {
        decode_item(in, source);
        offsets.push_back(in.offset());
    }
    if (offsets.size() != items.count + std::size_t{1})
        throw Error("plan exchange: item count mismatch");
    return offsets;
}

}  // namespace synshard::survey
