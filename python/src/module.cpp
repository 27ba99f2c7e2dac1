// synshard._synshard: the reader library's SharedDataset for Python. The package's
// python/synshard/__init__.py builds the user-facing classes on it.
//
// Lock order: the GIL, then lock_hdf5(), never the other way round. Every call into the
// reader releases the GIL first, so a thread holding lock_hdf5() never waits for the GIL
// (a fork, which holds the GIL, may then wait for lock_hdf5() without a deadlock).

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "synshard/image/crop_transform.hpp"
#include "synshard/reader/loader.hpp"
#include "synshard/reader/shared_dataset.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/reason.hpp"

namespace py = pybind11;

namespace {

using synshard::image::CropBox;
using synshard::reader::Batch;
using synshard::reader::Loader;
using synshard::reader::LoaderOptions;
using synshard::reader::Located;
using synshard::reader::SharedDataset;
using synshard::reader::Transform;
// A box as Python passes it: (x, y, width, height).
using BoxTuple = std::array<int, 4>;
using EncodedBytes = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

Transform transform_of(const std::string& kind, int size, int resize) {
    if (kind == "train") return Transform::train_crop(size);
    if (kind == "eval") return Transform::eval_crop(resize, size);
    return {};
}

// `box` of the image in `encoded` to out_width x out_height (flipped when asked), by the
// loader's fused path or by its reference (a full decode, then the crop), GIL released.
py::array_t<std::uint8_t> decode_crop_resize(const EncodedBytes& encoded, BoxTuple xywh,
                                             int out_width, int out_height, bool flip,
                                             bool reference) {
    py::array_t<std::uint8_t> out(
        {py::ssize_t{out_height}, py::ssize_t{out_width}, py::ssize_t{3}});
    const std::span<const std::uint8_t> bytes(encoded.data(),
                                              static_cast<std::size_t>(encoded.size()));
    std::uint8_t* pixels = out.mutable_data();
    const CropBox box{xywh[0], xywh[1], xywh[2], xywh[3]};
    std::optional<synshard::image::ImageFailure> failure;
    {
        py::gil_scoped_release unlocked;
        if (reference) {
            synshard::image::Decoder decoder;
            synshard::image::Resampler resampler;
            cv::Mat scratch;
            failure = synshard::image::reference_decode_crop_resize(
                bytes, box, out_width, out_height, flip, pixels, decoder, resampler, scratch);
        } else {
            thread_local synshard::image::CropTransformer transformer;
            failure =
                transformer.decode_crop_resize(bytes, box, out_width, out_height, flip, pixels);
        }
    }
    if (failure) {
        throw synshard::Error(std::string(synshard::to_string(failure->reason)) + ": " +
                              failure->detail);
    }
    return out;
}

// A numpy array over `owner`'s elements, which the array keeps alive: no copy.
template <typename T, typename Owner>
py::array_t<T> array_owning(Owner owner, std::vector<py::ssize_t> shape, T* data) {
    auto* kept = new Owner(std::move(owner));
    py::capsule base(kept, [](void* pointer) { delete static_cast<Owner*>(pointer); });
    return py::array_t<T>(std::move(shape), data, base);
}

py::array_t<std::uint8_t> rgb_array(cv::Mat rgb) {
    if (!rgb.isContinuous()) rgb = rgb.clone();
    std::uint8_t* data = rgb.data;
    std::vector<py::ssize_t> shape{rgb.rows, rgb.cols, 3};
    return array_owning(std::move(rgb), std::move(shape), data);
}

// A one-dimensional array over the vector's elements (moving a vector keeps them in place).
template <typename T>
py::array_t<T> vector_array(std::vector<T> values) {
    T* data = values.data();
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(values.size())};
    return array_owning(std::move(values), std::move(shape), data);
}

py::array_t<float> boxes_array(const std::vector<synshard::image::Box>& boxes) {
    py::array_t<float> array({static_cast<py::ssize_t>(boxes.size()), py::ssize_t{4}});
    auto box = array.mutable_unchecked<2>();
    for (std::size_t i = 0; i < boxes.size(); ++i) {
        const auto b = static_cast<py::ssize_t>(i);
        box(b, 0) = boxes[i].xmin;
        box(b, 1) = boxes[i].ymin;
        box(b, 2) = boxes[i].xmax;
        box(b, 3) = boxes[i].ymax;
    }
    return array;
}

// A batch as the package hands it out: images (uint8 N x H x W x 3, over the batch's own
// buffer), labels (int32 N), keys, indices (uint64 N, global in the split), boxes; with
// `share`, images_fd: a descriptor of the images' shared memory (Pixels::share()), open
// while the images array lives.
py::dict batch_dict(Batch batch, bool share) {
    py::dict out;
    if (share) out["images_fd"] = batch.images.share();
    std::uint8_t* data = batch.images.data();
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(batch.size), batch.height, batch.width,
                                   3};
    out["images"] = array_owning(std::move(batch.images), std::move(shape), data);
    out["labels"] = vector_array(std::move(batch.labels));
    out["keys"] = py::cast(batch.keys);
    out["indices"] = vector_array(std::move(batch.indices));
    out["number"] = batch.number;
    if (!batch.boxes.empty()) {  // asked for with with_boxes
        py::list boxes;
        for (const auto& sample_boxes : batch.boxes) boxes.append(boxes_array(sample_boxes));
        out["boxes"] = std::move(boxes);
    }
    return out;
}

// A Loader used from Python threads: one call at a time (next() runs without the GIL).
struct PythonLoader {
    std::mutex mutex;
    Loader loader;
    bool share_images;

    PythonLoader(const std::filesystem::path& output, const std::string& split,
                 const LoaderOptions& options, bool share)
        : loader(output, split, options), share_images(share) {}
};

// A sample as the package hands it out: image (decoded RGB uint8 H x W x 3, or the stored
// bytes), label, wnid, boxes (float32 N x 4: xmin, ymin, xmax, ymax in stored pixels), key.
py::dict sample_dict(synshard::h5::SampleRow row, std::optional<cv::Mat> rgb) {
    py::dict sample;
    sample["image"] = rgb ? rgb_array(std::move(*rgb)) : vector_array(std::move(row.image));
    sample["label"] = row.label;
    sample["wnid"] = row.synset;
    sample["boxes"] = boxes_array(row.boxes);
    sample["key"] = row.key;
    return sample;
}

// Reads a sample with `read` and decodes it when asked, with the GIL released.
template <typename Read>
py::dict read_sample(const SharedDataset& dataset, bool decode, Read read) {
    synshard::h5::SampleRow row;
    std::optional<cv::Mat> rgb;
    {
        py::gil_scoped_release unlocked;
        row = read();
        if (decode) rgb = dataset.rgb(row);
    }
    return sample_dict(std::move(row), std::move(rgb));
}

}  // namespace

PYBIND11_MODULE(_synshard, module) {
    module.doc() = "synshard's reader (see the synshard package)";
    py::register_exception<synshard::Error>(module, "Error", PyExc_RuntimeError);

    py::class_<SharedDataset>(module, "Reader")
        .def(py::init<const std::filesystem::path&>(), py::arg("path"),
             py::call_guard<py::gil_scoped_release>())
        .def_property_readonly(
            "directory", [](const SharedDataset& dataset) { return dataset.directory().string(); })
        .def_property_readonly("splits", &SharedDataset::splits)
        .def("num_samples", &SharedDataset::num_samples, py::arg("split"))
        .def_property_readonly("classes",
                               [](const SharedDataset& dataset) {
                                   py::list classes;
                                   for (const auto& entry : dataset.classes().classes) {
                                       classes.append(py::make_tuple(entry.synset, entry.words,
                                                                     entry.gloss, entry.ancestors));
                                   }
                                   return classes;
                               })
        .def(
            "sample",
            [](const SharedDataset& dataset, const std::string& split, std::uint64_t index,
               bool decode) {
                return read_sample(dataset, decode, [&] { return dataset.sample(split, index); });
            },
            py::arg("split"), py::arg("index"), py::arg("decode"))
        .def(
            "locate",
            [](const SharedDataset& dataset, const std::string& key) {
                std::optional<Located> located;
                {
                    py::gil_scoped_release unlocked;
                    located = dataset.locate(key);
                }
                if (!located) return py::object(py::none());
                return py::object(py::make_tuple(located->split, located->shard, located->row,
                                                 located->shard_path));
            },
            py::arg("key"))
        .def(
            "sample_at",
            [](const SharedDataset& dataset, const std::string& split, std::uint32_t shard,
               std::uint32_t row, bool decode) {
                const Located location{split, shard, row, {}};
                return read_sample(dataset, decode, [&] { return dataset.sample(location); });
            },
            py::arg("split"), py::arg("shard"), py::arg("row"), py::arg("decode"));

    module.def(
        "sample_crop",
        [](const std::string& kind, int size, int resize, std::uint64_t seed, std::uint64_t epoch,
           std::uint64_t index, int width, int height) {
            const auto [box, flip] = synshard::reader::sample_crop(
                transform_of(kind, size, resize), seed, epoch, index, width, height);
            return py::make_tuple(py::make_tuple(box.x, box.y, box.width, box.height), flip);
        },
        py::arg("transform"), py::arg("size"), py::arg("resize"), py::arg("seed"), py::arg("epoch"),
        py::arg("index"), py::arg("width"), py::arg("height"));
    module.def("decode_crop_resize", &decode_crop_resize, py::arg("encoded"), py::arg("box"),
               py::arg("out_width"), py::arg("out_height"), py::arg("flip"), py::arg("reference"));
    // (DCT scale eighths, max_abs, mean_abs): how far decode_crop_resize may be from its
    // reference for this box and output (crop_transform.hpp's crop_tolerance()).
    module.def(
        "crop_tolerance",
        [](BoxTuple box, int out_width, int out_height) {
            const int eighths = synshard::image::crop_scale_eighths(
                {box[0], box[1], box[2], box[3]}, out_width, out_height);
            const auto tolerance = synshard::image::crop_tolerance(eighths);
            return py::make_tuple(eighths, tolerance.max_abs, tolerance.mean_abs);
        },
        py::arg("box"), py::arg("out_width"), py::arg("out_height"));

    using Kind = synshard::reader::Transform::Kind;
    py::class_<PythonLoader>(module, "Loader")
        .def(py::init([](const std::filesystem::path& output, const std::string& split,
                         std::size_t batch_size, const std::string& transform, int size, int resize,
                         bool shuffle, std::uint64_t seed, std::uint64_t epoch, std::uint32_t rank,
                         std::uint32_t world_size, unsigned threads, bool drop_last,
                         std::uint64_t shuffle_buffer, bool with_boxes, std::uint32_t worker_index,
                         std::uint32_t worker_count, bool share_images) {
                 LoaderOptions options;
                 options.batch_size = batch_size;
                 options.transform = {transform == "train"  ? Kind::train
                                      : transform == "eval" ? Kind::eval
                                                            : Kind::none,
                                      size, resize};
                 options.order = {shuffle,    seed,      epoch,         rank,
                                  world_size, drop_last, shuffle_buffer};
                 options.threads = threads;
                 options.with_boxes = with_boxes;
                 options.worker_index = worker_index;
                 options.worker_count = worker_count;
                 return std::make_unique<PythonLoader>(output, split, options, share_images);
             }),
             py::arg("path"), py::arg("split"), py::arg("batch_size"), py::arg("transform"),
             py::arg("size"), py::arg("resize"), py::arg("shuffle"), py::arg("seed"),
             py::arg("epoch"), py::arg("rank"), py::arg("world_size"), py::arg("threads"),
             py::arg("drop_last"), py::arg("shuffle_buffer"), py::arg("with_boxes"),
             py::arg("worker_index"), py::arg("worker_count"), py::arg("share_images"),
             py::call_guard<py::gil_scoped_release>())
        .def("__len__", [](const PythonLoader& self) { return self.loader.size(); })
        .def_property_readonly("rank_samples",
                               [](const PythonLoader& self) { return self.loader.rank_samples(); })
        .def("next",
             [](PythonLoader& self) -> py::object {
                 std::optional<Batch> batch;
                 {
                     py::gil_scoped_release unlocked;
                     const std::lock_guard lock(self.mutex);
                     batch = self.loader.next();
                 }
                 if (!batch) return py::none();
                 return batch_dict(std::move(*batch), self.share_images);
             })
        .def(
            "set_epoch",
            [](PythonLoader& self, std::uint64_t epoch) {
                const std::lock_guard lock(self.mutex);
                self.loader.set_epoch(epoch);
            },
            py::arg("epoch"), py::call_guard<py::gil_scoped_release>())
        .def(
            "restart",
            [](PythonLoader& self) {
                const std::lock_guard lock(self.mutex);
                self.loader.restart();
            },
            py::call_guard<py::gil_scoped_release>());
}
