#include "synshard/synth/photo.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>

#include "synshard/util/hash.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::synth {
namespace {

double uniform(Rng& rng, double low, double high) {
    return low + (high - low) * rng.unit();
}

int uniform_int(Rng& rng, int low, int high) {
    return static_cast<int>(rng.between(low, high));
}

cv::Scalar random_colour(Rng& rng, double low = 0, double high = 255) {
    return {uniform(rng, low, high), uniform(rng, low, high), uniform(rng, low, high)};
}

// A colour of the given hue (0..1), saturation and value, as R, G, B in 0..255.
cv::Scalar hsv_colour(double hue, double saturation, double value) {
    const double h = std::fmod(hue, 1.0) * 6.0;
    const double c = value * saturation;
    const double x = c * (1.0 - std::fabs(std::fmod(h, 2.0) - 1.0));
    const double m = value - c;
    double r = 0, g = 0, b = 0;
    if (h < 1) {
        r = c, g = x;
    } else if (h < 2) {
        r = x, g = c;
    } else if (h < 3) {
        g = c, b = x;
    } else if (h < 4) {
        g = x, b = c;
    } else if (h < 5) {
        r = x, b = c;
    } else {
        r = c, b = x;
    }
    return {255 * (r + m), 255 * (g + m), 255 * (b + m)};
}

// Uniform values in [-amplitude, amplitude] on a coarse grid, smoothly upsampled to
// size: texture whose grain is about `cell` pixels.
cv::Mat smooth_field(Rng& rng, cv::Size size, int channels, double cell, double amplitude) {
    const int columns = std::max(2, static_cast<int>(size.width / cell) + 2);
    const int rows = std::max(2, static_cast<int>(size.height / cell) + 2);
    cv::Mat grid(rows, columns, CV_32FC(channels));
    auto* values = grid.ptr<float>();
    for (std::size_t i = 0; i < grid.total() * static_cast<std::size_t>(channels); ++i) {
        values[i] = static_cast<float>(uniform(rng, -amplitude, amplitude));
    }
    cv::Mat field;
    cv::resize(grid, field, size, 0, 0, cv::INTER_CUBIC);
    return field;
}

// Sky-to-ground style background: a gradient between four corner colours around one
// scene tone, with texture at three scales.
cv::Mat background(Rng& rng, cv::Size size) {
    const cv::Scalar tone = random_colour(rng, 40, 215);
    cv::Mat corners(2, 2, CV_32FC3);
    for (int i = 0; i < 4; ++i) {
        const cv::Scalar shift = random_colour(rng, -60, 60);
        corners.at<cv::Vec3f>(i / 2, i % 2) = cv::Vec3f(static_cast<float>(tone[0] + shift[0]),
                                                        static_cast<float>(tone[1] + shift[1]),
                                                        static_cast<float>(tone[2] + shift[2]));
    }
    cv::Mat canvas;
    cv::resize(corners, canvas, size, 0, 0, cv::INTER_LINEAR);
    const double longest = std::max(size.width, size.height);
    const cv::Mat coarse = smooth_field(rng, size, 3, longest / 4, 35);
    const cv::Mat medium = smooth_field(rng, size, 1, longest / 24, 22);
    const cv::Mat fine = smooth_field(rng, size, 1, 2.5, uniform(rng, 22, 34));
    canvas += coarse;
    cv::Mat luminance;
    cv::merge(std::vector<cv::Mat>(3, medium + fine), luminance);
    canvas += luminance;
    cv::Mat image;
    canvas.convertTo(image, CV_8UC3);
    return image;
}

cv::Point random_point(Rng& rng, cv::Size size) {
    return {uniform_int(rng, 0, size.width - 1), uniform_int(rng, 0, size.height - 1)};
}

// Background objects: discs, bars, polygons and lines in assorted colours.
void draw_clutter(Rng& rng, cv::Mat& image) {
    const cv::Size size = image.size();
    const int longest = std::max(size.width, size.height);
    const int count = uniform_int(rng, 3, 8);
    for (int i = 0; i < count; ++i) {
        const cv::Scalar colour = random_colour(rng);
        const cv::Point at = random_point(rng, size);
        const int extent = std::max(1, uniform_int(rng, longest / 30, longest / 6));
        switch (rng.below(4)) {
            case 0:
                cv::circle(image, at, extent, colour, cv::FILLED, cv::LINE_AA);
                break;
            case 1:
                cv::ellipse(image, at, {extent, std::max(1, extent / 3)}, uniform(rng, 0, 180), 0,
                            360, colour, cv::FILLED, cv::LINE_AA);
                break;
            case 2: {
                const int sides = uniform_int(rng, 3, 6);
                std::vector<cv::Point> corners;
                corners.reserve(static_cast<std::size_t>(sides));
                for (int k = 0; k < sides; ++k) {
                    corners.push_back(at + cv::Point(uniform_int(rng, -extent, extent),
                                                     uniform_int(rng, -extent, extent)));
                }
                cv::fillPoly(image, std::vector<std::vector<cv::Point>>{corners}, colour,
                             cv::LINE_AA);
                break;
            }
            default:
                cv::line(image, at, random_point(rng, size), colour,
                         std::max(1, uniform_int(rng, 1, longest / 80)), cv::LINE_AA);
        }
    }
}

// The class's object: an ellipse filling the box, in the class's colours with stripes at
// the class's angle, so that boxes frame something a model could learn.
void draw_object(Rng& rng, cv::Mat& image, const VocBox& box, std::uint64_t class_key) {
    const cv::Rect area(box.xmin, box.ymin, box.xmax - box.xmin + 1, box.ymax - box.ymin + 1);
    cv::Mat region = image(area);
    Rng looks(class_key);
    const double hue = looks.unit();
    const cv::Scalar body = hsv_colour(hue, uniform(looks, 0.5, 0.9), uniform(looks, 0.5, 0.95));
    const cv::Scalar marks =
        hsv_colour(hue + 0.5, uniform(looks, 0.3, 0.8), uniform(looks, 0.2, 0.9));
    const double angle = uniform(looks, 0, std::numbers::pi);
    const double spacing = uniform(looks, 6, 18) * std::max(1.0, area.width / 200.0);

    const double brightness = uniform(rng, 0.75, 1.15);
    cv::Mat pattern(area.size(), CV_8UC3, body * brightness);
    const double reach = std::hypot(area.width, area.height);
    const cv::Point2d along(std::cos(angle), std::sin(angle));
    const cv::Point2d across(-along.y, along.x);
    const cv::Point2d centre(area.width / 2.0, area.height / 2.0);
    const int thickness = std::max(1, static_cast<int>(spacing / 3));
    for (double offset = -reach; offset <= reach; offset += spacing) {
        const cv::Point2d middle = centre + across * offset;
        cv::line(pattern, middle - along * reach, middle + along * reach, marks * brightness,
                 thickness, cv::LINE_AA);
    }
    cv::Mat mask = cv::Mat::zeros(area.size(), CV_8U);
    const cv::Size axes(std::max(1, area.width / 2 - 1), std::max(1, area.height / 2 - 1));
    cv::ellipse(mask, cv::Point(area.width / 2, area.height / 2), axes, 0, 0, 360, 255, cv::FILLED,
                cv::LINE_8);
    pattern.copyTo(region, mask);
    cv::ellipse(region, cv::Point(area.width / 2, area.height / 2), axes, 0, 0, 360, body * 0.4,
                std::max(1, area.width / 100), cv::LINE_AA);
}

// Per-pixel noise, uniform in [-amplitude, amplitude), like a camera sensor's.
void add_noise(Rng& rng, cv::Mat& image, int amplitude) {
    cv::Mat bytes(image.size(), CV_8UC3);
    auto* data = bytes.ptr<std::uint8_t>();
    const std::size_t count = bytes.total() * 3;
    for (std::size_t i = 0; i < count; i += 8) {
        std::uint64_t word = rng.next();
        for (std::size_t k = i; k < std::min(count, i + 8); ++k, word >>= 8) {
            data[k] = static_cast<std::uint8_t>(word);
        }
    }
    cv::Mat noise;
    bytes.convertTo(noise, CV_16SC3, amplitude / 128.0, -amplitude);
    cv::Mat sum;
    image.convertTo(sum, CV_16SC3);
    sum += noise;
    sum.convertTo(image, CV_8UC3);
}

}  // namespace

cv::Mat render_photo(const PhotoSpec& photo, std::uint64_t seed) {
    Rng rng(keyed_hash(seed, "pixels/" + photo.key));
    const cv::Size size(photo.size.width, photo.size.height);
    cv::Mat image = background(rng, size);
    draw_clutter(rng, image);
    const std::uint64_t class_key = keyed_hash(seed, "class-looks/" + photo.wnid);
    for (const VocBox& box : photo.boxes) draw_object(rng, image, box, class_key);
    add_noise(rng, image, uniform_int(rng, 20, 32));
    return image;
}

}  // namespace synshard::synth
