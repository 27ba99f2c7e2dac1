#include "synshard/util/text_lines.hpp"

#include <gtest/gtest.h>

#include "support/text_variants.hpp"

namespace synshard {
namespace {

// Every row as "<line>: field|field|...", each field as TextFields gives it.
std::string rows_and_fields(std::string_view text) {
    std::string out;
    TextRows rows(text);
    while (const auto row = rows.next()) {
        out.append(std::to_string(row->number)).append(":");
        TextFields fields(row->text);
        while (!fields.at_end()) out.append(" ").append(fields.next()).append("|");
        out.append("\n");
    }
    return out;
}

TEST(TextRows, EveryAcceptedFormGivesTheCleanRowsAndFields) {
    const std::string clean = "id,n01440764 1 2.5 3 4\nn01443537 goldfish\n42\n";
    const std::string spread = "id ,\tn01440764  1\t\t2.5   3 4\nn01443537\tgoldfish\n42\n";
    const std::string expected =
        "1: id| n01440764| 1| 2.5| 3| 4|\n2: n01443537| goldfish|\n3: 42|\n";
    for (const auto& variant : testing::text_variants(clean, spread, "ImageId,PredictionString")) {
        SCOPED_TRACE(variant.name);
        // A header row moves the rows one line down, and its line number says so.
        const bool header = variant.text.find("ImageId") != std::string::npos;
        EXPECT_EQ(rows_and_fields(variant.text),
                  header ? "2: id| n01440764| 1| 2.5| 3| 4|\n3: n01443537| goldfish|\n4: 42|\n"
                         : expected);
    }
}

TEST(TextRows, BlankRowsAreSkippedAndCountedOnlyAHeaderlessFirstRowIsAHeader) {
    EXPECT_EQ(rows_and_fields("\r\n  \nwnid\n\nn01440764\n\n\n"), "5: n01440764|\n");
    // A row without a digit after the first is a row, for its reader to refuse.
    EXPECT_EQ(rows_and_fields("n01440764\nwnid\n"), "1: n01440764|\n2: wnid|\n");
    // A first row with a digit is data, whatever it looks like.
    EXPECT_EQ(rows_and_fields("ILSVRC2012_ID\n1\n"), "1: ILSVRC2012_ID|\n2: 1|\n");
    // A byte-order mark is one at the start of the text only.
    EXPECT_EQ(rows_and_fields("1\n\xEF\xBB\xBF"
                              "2\n"),
              "1: 1|\n2: \xEF\xBB\xBF"
              "2|\n");
    EXPECT_EQ(rows_and_fields(""), "");
    EXPECT_EQ(rows_and_fields("\xEF\xBB\xBF"), "");
}

TEST(TextFields, OnlyOneCommaEndsARowAndTwoCommasInARowHoldAnEmptyField) {
    EXPECT_EQ(rows_and_fields("a1,,b\n"), "1: a1| | b|\n");
    EXPECT_EQ(rows_and_fields("a 1,,\n"), "1: a| 1| |\n");
    EXPECT_EQ(rows_and_fields("a 1 , \t\n"), "1: a| 1|\n");
    // A carriage return inside a row is no line end.
    EXPECT_EQ(rows_and_fields("a\r1\n"), "1: a\r1|\n");
}

TEST(TextFields, RestIsTheRowAfterTheFieldsTakenAsWritten) {
    TextFields fields("n01440764 \t tench, Tinca  tinca");
    EXPECT_EQ(fields.next(), "n01440764");
    EXPECT_EQ(fields.rest(), "tench, Tinca  tinca");
    EXPECT_FALSE(fields.at_end());
    TextFields single("n01440764");
    EXPECT_EQ(single.next(), "n01440764");
    EXPECT_TRUE(single.at_end());
    EXPECT_EQ(single.rest(), "");
}

TEST(TextLines, SplitsAtLineFeedsDroppingCarriageReturnsAndTheByteOrderMark) {
    TextLines lines("\xEF\xBB\xBF  licence\r\n00001740 x\n\nlast");
    std::string out;
    while (const auto line = lines.next())
        out += std::to_string(line->number) + "[" + std::string(line->text) + "]";
    EXPECT_EQ(out, "1[  licence]2[00001740 x]3[]4[last]");
}

TEST(TrimBlanks, RemovesSpacesTabsAndLineEndsAroundText) {
    EXPECT_EQ(trim_blanks(" \t a b\r\n"), "a b");
    EXPECT_EQ(trim_blanks(" \t\r\n"), "");
}

}  // namespace
}  // namespace synshard
