#pragma once

#include <span>
#include <string_view>

namespace synshard::synth {

// A real WordNet 3.0 noun synset: "n" + its data.noun offset, and its words joined by
// ", " as in ImageNet's words.txt ("n02123045", "tabby, tabby cat").
struct Synset {
    std::string_view wnid;
    std::string_view words;
};

// The synsets `synth` draws its classes from, embedded at build time (no WordNet files
// are read at run time). The order is fixed and is the order classes are picked in:
// `--num-classes N` takes the first N. It starts with 48 ILSVRC-2012 classes (tench,
// tabby, barber chair, sea snake, ...), then alternates leaf nouns under animal
// (n00015388) and artifact (n00021939). Every wnid is distinct.
std::span<const Synset> embedded_synsets();

}  // namespace synshard::synth
