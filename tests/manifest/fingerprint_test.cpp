#include "synshard/manifest/fingerprint.hpp"

#include <gtest/gtest.h>

#include <map>

#include "synshard/util/error.hpp"

namespace synshard::manifest {
namespace {

std::map<std::string, std::vector<InputEntry>> corpus() {
    return {
        {"n01440764", {{"n01440764_10.JPEG", 500}, {"n01440764_1.JPEG", 300}}},
        {"n02123045", {{"n02123045_7.JPEG", 12}}},
        {"n09999999", {}},
        {"val", {{"ILSVRC2012_val_00000002.JPEG", 7}, {"ILSVRC2012_val_00000001.JPEG", 9}}},
    };
}

// What each "rank" holds: the groups it scanned, as the bytes it would send.
std::string fingerprint_over_ranks(const std::vector<std::vector<std::string>>& ranks) {
    const auto groups = corpus();
    std::vector<std::uint8_t> gathered;
    for (auto rank = ranks.rbegin(); rank != ranks.rend(); ++rank) {
        std::vector<GroupDigest> digests;
        for (const std::string& group : *rank)
            digests.push_back(group_digest(group, groups.at(group)));
        const std::vector<std::uint8_t> bytes = encode_digests(digests);
        gathered.insert(gathered.end(), bytes.begin(), bytes.end());
    }
    return input_fingerprint(decode_digests(gathered));
}

TEST(InputFingerprint, MatchesTheDocumentedDefinition) {
    // Group digest over sorted "key\tsize\n" lines; the fingerprint over sorted
    // "group\thex\n" lines: computed here by hand for one group.
    const std::string lines = "n01440764_1.JPEG\t300\nn01440764_10.JPEG\t500\n";
    const Sha256Digest expected_group =
        sha256(std::span(reinterpret_cast<const std::uint8_t*>(lines.data()), lines.size()));
    const GroupDigest digest = group_digest("n01440764", corpus().at("n01440764"));
    EXPECT_EQ(digest.digest, expected_group);
    const std::string outer = "n01440764\t" + to_hex(expected_group) + "\n";
    EXPECT_EQ(input_fingerprint({digest}),
              to_hex(sha256(
                  std::span(reinterpret_cast<const std::uint8_t*>(outer.data()), outer.size()))));
}

TEST(InputFingerprint, IndependentOfHowGroupsAreSpreadOverRanks) {
    const std::string one_rank =
        fingerprint_over_ranks({{"n01440764", "n02123045", "n09999999", "val"}});
    EXPECT_EQ(fingerprint_over_ranks({{"val", "n01440764"}, {"n09999999", "n02123045"}}), one_rank);
    EXPECT_EQ(fingerprint_over_ranks({{"n02123045"}, {}, {"val"}, {"n09999999", "n01440764"}}),
              one_rank);
    EXPECT_EQ(one_rank.size(), 64U);
}

TEST(InputFingerprint, ChangesWithAnySizeKeyOrGroup) {
    const auto base = corpus();
    const auto fingerprint = [](const std::map<std::string, std::vector<InputEntry>>& groups) {
        std::vector<GroupDigest> digests;
        for (const auto& [group, entries] : groups) digests.push_back(group_digest(group, entries));
        return input_fingerprint(digests);
    };
    const std::string original = fingerprint(base);
    auto resized = base;
    resized["val"][0].size = 8;
    EXPECT_NE(fingerprint(resized), original);
    auto renamed = base;
    renamed["n02123045"][0].key = "n02123045_8.JPEG";
    EXPECT_NE(fingerprint(renamed), original);
    auto moved = base;
    moved.erase("n09999999");
    EXPECT_NE(fingerprint(moved), original);
}

TEST(InputFingerprint, RefusesAGroupScannedTwiceAndMalformedBytes) {
    const GroupDigest digest = group_digest("val", {});
    EXPECT_THROW(input_fingerprint({digest, digest}), Error);
    std::vector<std::uint8_t> bytes = encode_digests(std::vector<GroupDigest>{digest});
    EXPECT_EQ(decode_digests(bytes), std::vector<GroupDigest>{digest});
    bytes.pop_back();
    EXPECT_THROW(decode_digests(bytes), Error);
}

ResumeFingerprint resume_example(const std::string& mode = "stat") {
    return resume_fingerprint(mode, {{"n02123045", "22"},
                                     {"--wordnet /w/data.noun", "aa"},
                                     {"n01440764", "11"},
                                     {"--boxes /c/Annotation for n01440764", "bb"},
                                     {"--classes /c/classes.txt", "cc"}});
}

TEST(ResumeFingerprint, ListsTheModeThenMetadataThenSourcesEachByName) {
    const ResumeFingerprint fingerprint = resume_example();
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"--fingerprint", "stat"},
        {"--boxes /c/Annotation for n01440764", "bb"},
        {"--classes /c/classes.txt", "cc"},
        {"--wordnet /w/data.noun", "aa"},
        {"n01440764", "11"},
        {"n02123045", "22"}};
    EXPECT_EQ(fingerprint.inputs, expected);
    // Read by every rank: one input.
    EXPECT_EQ(
        resume_fingerprint("stat", {{"--wordnet /w", "1"}, {"--wordnet /w", "1"}}).inputs.size(),
        2U);
    EXPECT_THROW(resume_fingerprint("stat", {{"val", "1"}, {"val", "2"}}), Error);
}

TEST(ResumeFingerprint, JsonRoundTripKeepsOrderAndDigest) {
    const ResumeFingerprint fingerprint = resume_example("content");
    const nlohmann::ordered_json json = to_json(fingerprint);
    EXPECT_EQ(json.front(), nlohmann::ordered_json::array({"--fingerprint", "content"}));
    // Through text, as the journal stores it.
    const auto parsed = resume_fingerprint_from_json(nlohmann::ordered_json::parse(json.dump()));
    EXPECT_EQ(parsed, fingerprint);
    EXPECT_EQ(digest(parsed), digest(fingerprint));
    EXPECT_EQ(digest(fingerprint).size(), 64U);
    EXPECT_THROW(resume_fingerprint_from_json(nlohmann::ordered_json::object()), Error);
    EXPECT_THROW(resume_fingerprint_from_json(nlohmann::ordered_json::parse(R"([["n1", 3]])")),
                 Error);
    EXPECT_THROW(resume_fingerprint_from_json(nlohmann::ordered_json::parse(R"([["n1", "3"]])")),
                 Error);
}

TEST(ResumeFingerprint, FirstChangeNamesTheInputAndWhatChanged) {
    const ResumeFingerprint before = resume_example();
    EXPECT_EQ(first_change(before, resume_example()), "");

    auto image = before;
    image.inputs[4].second = "12";
    EXPECT_EQ(first_change(before, image),
              "n01440764 (an image's size or modification time changed)");
    EXPECT_NE(digest(image), digest(before));
    EXPECT_EQ(first_change(resume_example("content"),
                           [&] {
                               auto content = resume_example("content");
                               content.inputs[4].second = "12";
                               return content;
                           }()),
              "n01440764 (an image's size, modification time or content changed)");

    auto boxes = image;
    boxes.inputs[1].second = "bc";
    // The first in the fingerprint's order: metadata before sources.
    EXPECT_EQ(first_change(before, boxes), "--boxes /c/Annotation for n01440764 (content changed)");

    EXPECT_EQ(first_change(before, resume_example("content")), "--fingerprint stat -> content");

    auto removed = before;
    removed.inputs.erase(removed.inputs.begin() + 2);
    EXPECT_EQ(first_change(before, removed), "--classes /c/classes.txt (removed)");
    EXPECT_EQ(first_change(removed, before), "--classes /c/classes.txt (added)");
}

}  // namespace
}  // namespace synshard::manifest
