#include "synshard/image/geometry.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

void expect_box_near(const std::optional<Box>& actual, const Box& expected) {
    ASSERT_TRUE(actual.has_value());
    EXPECT_NEAR(actual->xmin, expected.xmin, 1e-3);
    EXPECT_NEAR(actual->ymin, expected.ymin, 1e-3);
    EXPECT_NEAR(actual->xmax, expected.xmax, 1e-3);
    EXPECT_NEAR(actual->ymax, expected.ymax, 1e-3);
}

TEST(Geometry, ParsesEveryResizeSpelling) {
    EXPECT_EQ(parse_resize("shorter:256"), (ResizeSpec{ResizeMode::shorter, 256, 256}));
    EXPECT_EQ(parse_resize("crop:224"), (ResizeSpec{ResizeMode::crop, 224, 224}));
    EXPECT_EQ(parse_resize("fixed:320x240"), (ResizeSpec{ResizeMode::fixed, 320, 240}));
    EXPECT_EQ(parse_resize("fit:64x48"), (ResizeSpec{ResizeMode::fit, 64, 48}));
    EXPECT_EQ(parse_resize("longer:512"), (ResizeSpec{ResizeMode::longer, 512, 512}));
    EXPECT_EQ(parse_resize("none").mode, ResizeMode::none);
    for (const char* text :
         {"shorter:256", "crop:224", "fixed:320x240", "fit:64x48", "longer:9", "none"}) {
        EXPECT_EQ(to_string(parse_resize(text)), text);
    }
    for (const char* text :
         {"", "shorter", "shorter:", "shorter:0", "shorter:-3", "shorter:12a", "crop:70000",
          "fixed:10", "fixed:10x", "fit:x10", "wide:10", "none:1", "longer:1.5"}) {
        EXPECT_THROW(parse_resize(text), UsageError) << text;
    }
}

TEST(Geometry, FixedOutputOnlyForCropFixedAndFit) {
    EXPECT_TRUE(has_fixed_output(parse_resize("crop:8"), true));
    EXPECT_TRUE(has_fixed_output(parse_resize("fixed:8x9"), true));
    EXPECT_TRUE(has_fixed_output(parse_resize("fit:8x9"), true));
    EXPECT_TRUE(has_fixed_output(parse_resize("fit:8x9"), false));
    EXPECT_FALSE(has_fixed_output(parse_resize("crop:8"), false));
    EXPECT_FALSE(has_fixed_output(parse_resize("fixed:8x9"), false));
    EXPECT_FALSE(has_fixed_output(parse_resize("shorter:8"), true));
    EXPECT_FALSE(has_fixed_output(parse_resize("longer:8"), true));
    EXPECT_FALSE(has_fixed_output(parse_resize("none"), true));
}

TEST(Geometry, LayoutsOfALandscapeImage) {
    const Size source{500, 375};
    // 500 * 256 / 375 = 341.33
    EXPECT_EQ(plan_layout(source, parse_resize("shorter:256"), true),
              (Layout{{341, 256}, {0, 0, 341, 256}, {341, 256}, {0, 0, 341, 256}}));
    // 500 * 224 / 375 = 298.67; (299 - 224) / 2 = 37
    EXPECT_EQ(plan_layout(source, parse_resize("crop:224"), true),
              (Layout{{299, 224}, {37, 0, 224, 224}, {224, 224}, {0, 0, 224, 224}}));
    EXPECT_EQ(plan_layout(source, parse_resize("fixed:100x50"), true),
              (Layout{{100, 50}, {0, 0, 100, 50}, {100, 50}, {0, 0, 100, 50}}));
    // width-limited: 375 * 200 / 500 = 150, padded (200 - 150) / 2 = 25 above
    EXPECT_EQ(plan_layout(source, parse_resize("fit:200x200"), true),
              (Layout{{200, 150}, {0, 0, 200, 150}, {200, 200}, {0, 25, 200, 150}}));
    // height-limited: 500 * 100 / 375 = 133.33, padded (300 - 133) / 2 = 83 left
    EXPECT_EQ(plan_layout(source, parse_resize("fit:300x100"), true),
              (Layout{{133, 100}, {0, 0, 133, 100}, {300, 100}, {83, 0, 133, 100}}));
    EXPECT_EQ(plan_layout(source, parse_resize("longer:400"), true),
              (Layout{{400, 300}, {0, 0, 400, 300}, {400, 300}, {0, 0, 400, 300}}));
    const Layout unchanged{{500, 375}, {0, 0, 500, 375}, {500, 375}, {0, 0, 500, 375}};
    EXPECT_EQ(plan_layout(source, parse_resize("longer:1000"), true), unchanged);
    EXPECT_EQ(plan_layout(source, parse_resize("none"), true), unchanged);
    EXPECT_EQ(plan_layout(source, parse_resize("shorter:375"), true), unchanged);
}

TEST(Geometry, UpscaleOrKeepSmallImages) {
    const Size source{90, 60};
    EXPECT_EQ(plan_layout(source, parse_resize("shorter:120"), true).output, (Size{180, 120}));
    EXPECT_EQ(plan_layout(source, parse_resize("shorter:120"), false).output, source);
    EXPECT_EQ(plan_layout(source, parse_resize("longer:120"), true).output, source);
    EXPECT_EQ(plan_layout(source, parse_resize("crop:80"), false),
              (Layout{{90, 60}, {5, 0, 80, 60}, {80, 60}, {0, 0, 80, 60}}));
    EXPECT_EQ(plan_layout(source, parse_resize("fixed:100x40"), false).output, (Size{90, 40}));
    EXPECT_EQ(plan_layout(source, parse_resize("fit:200x200"), false),
              (Layout{{90, 60}, {0, 0, 90, 60}, {200, 200}, {55, 70, 90, 60}}));
    EXPECT_EQ(plan_layout(source, parse_resize("fit:200x200"), true),
              (Layout{{200, 133}, {0, 0, 200, 133}, {200, 200}, {0, 33, 200, 133}}));
}

TEST(Geometry, ExtremeAspectNeverReachesZero) {
    const Layout layout = plan_layout({10000, 3}, parse_resize("shorter:1"), true);
    EXPECT_EQ(layout.scaled, (Size{3333, 1}));
    EXPECT_EQ(plan_layout({10000, 3}, parse_resize("longer:100"), true).scaled, (Size{100, 1}));
}

TEST(Geometry, BoxesFollowScaleCropAndPad) {
    const Size stored{500, 375};
    const Box box{100, 75, 300, 225};
    expect_box_near(
        transform_box(box, stored, 1, plan_layout(stored, parse_resize("shorter:256"), true)),
        {100 * 341 / 500.0f, 75 * 256 / 375.0f, 300 * 341 / 500.0f, 225 * 256 / 375.0f});
    // crop:224: x scale 299/500, y scale 224/375, then 37 px off the left
    expect_box_near(
        transform_box(box, stored, 1, plan_layout(stored, parse_resize("crop:224"), true)),
        {59.8f - 37, 44.8f, 179.4f - 37, 134.4f});
    // fit:200x200: scale 0.4, 25 px of padding above
    expect_box_near(
        transform_box(box, stored, 1, plan_layout(stored, parse_resize("fit:200x200"), true)),
        {40, 55, 120, 115});
    expect_box_near(
        transform_box(box, stored, 1, plan_layout(stored, parse_resize("fixed:100x50"), true)),
        {20, 10, 60, 30});
    // A box hanging over the image is clipped to it first.
    expect_box_near(transform_box({-20, 300, 520, 400}, stored, 1,
                                  plan_layout(stored, parse_resize("none"), true)),
                    {0, 300, 500, 375});
}

TEST(Geometry, BoxesThatVanishAreDropped) {
    const Size stored{500, 375};
    const Layout crop = plan_layout(stored, parse_resize("crop:224"), true);
    // Entirely in the left 37 scaled pixels the crop removes.
    EXPECT_FALSE(transform_box({0, 0, 50, 375}, stored, 1, crop).has_value());
    EXPECT_FALSE(transform_box({600, 10, 700, 20}, stored, 1, crop).has_value());  // outside
    EXPECT_FALSE(transform_box({10, 10, 10, 20}, stored, 1, crop).has_value());    // empty
    EXPECT_FALSE(transform_box({30, 10, 20, 20}, stored, 1, crop).has_value());    // inverted
    EXPECT_FALSE(transform_box({std::nanf(""), 0, 5, 5}, stored, 1, crop).has_value());
    // Partly inside: clipped at the crop's left edge.
    expect_box_near(transform_box({0, 0, 100, 375}, stored, 1, crop), {0, 0, 59.8f - 37, 224});
}

TEST(Geometry, BoxesFollowEveryOrientation) {
    const Size stored{500, 375};
    const Box box{100, 75, 300, 225};
    const Layout none_landscape = plan_layout(stored, parse_resize("none"), true);
    const Layout none_portrait = plan_layout({375, 500}, parse_resize("none"), true);
    expect_box_near(transform_box(box, stored, 1, none_landscape), {100, 75, 300, 225});
    expect_box_near(transform_box(box, stored, 2, none_landscape), {200, 75, 400, 225});
    expect_box_near(transform_box(box, stored, 3, none_landscape), {200, 150, 400, 300});
    expect_box_near(transform_box(box, stored, 4, none_landscape), {100, 150, 300, 300});
    expect_box_near(transform_box(box, stored, 5, none_portrait), {75, 100, 225, 300});
    expect_box_near(transform_box(box, stored, 6, none_portrait), {150, 100, 300, 300});
    expect_box_near(transform_box(box, stored, 7, none_portrait), {150, 200, 300, 400});
    expect_box_near(transform_box(box, stored, 8, none_portrait), {75, 200, 225, 400});
    EXPECT_EQ(oriented_size(stored, 6), (Size{375, 500}));
    EXPECT_EQ(oriented_size(stored, 4), stored);
    // Orientation then scale: upright 375x500 at shorter:300 is 300x400 (scale 0.8).
    const Layout shorter = plan_layout({375, 500}, parse_resize("shorter:300"), true);
    expect_box_near(transform_box(box, stored, 6, shorter), {120, 80, 240, 240});
}

}  // namespace
}  // namespace synshard::image
