#pragma once

#include "synshard/h5/format.hpp"
#include "synshard/h5/h5.hpp"

namespace synshard::h5 {

enum class ClassTableContent {
    for_shard,  // synsets, words, ancestors, ancestor_offsets
    for_index,  // the same plus glosses
};

// Writes the label-indexed class table into group: `synsets` (fixed 9-byte ASCII, C),
// `words` (UTF-8, C), `ancestors` (fixed 9-byte ASCII, flat) with `ancestor_offsets`
// (uint64, C+1: class c's ancestors are rows offsets[c]..offsets[c+1]), and for the
// index `glosses` (UTF-8, C). Throws Error if a wnid is not kWnidLength bytes.
void write_class_table(Location& group, const ClassTable& table, ClassTableContent content);

// Reads what write_class_table wrote (glosses stay empty when the group has none).
// Throws Error naming the group when datasets are missing or inconsistent.
ClassTable read_class_table(const Location& group);

}  // namespace synshard::h5
