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

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "synshard/reader/shared_dataset.hpp"
#include "synshard/util/error.hpp"

namespace py = pybind11;

namespace {

using synshard::reader::Located;
using synshard::reader::SharedDataset;

// A numpy array over `owner`'s bytes, which the array keeps alive: no copy.
template <typename Owner>
py::array_t<std::uint8_t> array_owning(Owner owner, std::vector<py::ssize_t> shape,
                                       std::uint8_t* data) {
    auto* kept = new Owner(std::move(owner));
    py::capsule base(kept, [](void* pointer) { delete static_cast<Owner*>(pointer); });
    return py::array_t<std::uint8_t>(std::move(shape), data, base);
}

py::array_t<std::uint8_t> rgb_array(cv::Mat rgb) {
    if (!rgb.isContinuous()) rgb = rgb.clone();
    std::uint8_t* data = rgb.data;
    std::vector<py::ssize_t> shape{rgb.rows, rgb.cols, 3};
    return array_owning(std::move(rgb), std::move(shape), data);
}

py::array_t<std::uint8_t> bytes_array(std::vector<std::uint8_t> bytes) {
    std::uint8_t* data = bytes.data();
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(bytes.size())};
    return array_owning(std::move(bytes), std::move(shape), data);
}

// A sample as the package hands it out: image (decoded RGB uint8 H x W x 3, or the stored
// bytes), label, wnid, boxes (float32 N x 4: xmin, ymin, xmax, ymax in stored pixels), key.
py::dict sample_dict(synshard::h5::SampleRow row, std::optional<cv::Mat> rgb) {
    py::array_t<float> boxes({static_cast<py::ssize_t>(row.boxes.size()), py::ssize_t{4}});
    auto box = boxes.mutable_unchecked<2>();
    for (std::size_t i = 0; i < row.boxes.size(); ++i) {
        const auto b = static_cast<py::ssize_t>(i);
        box(b, 0) = row.boxes[i].xmin;
        box(b, 1) = row.boxes[i].ymin;
        box(b, 2) = row.boxes[i].xmax;
        box(b, 3) = row.boxes[i].ymax;
    }
    py::dict sample;
    sample["image"] = rgb ? rgb_array(std::move(*rgb)) : bytes_array(std::move(row.image));
    sample["label"] = row.label;
    sample["wnid"] = row.synset;
    sample["boxes"] = std::move(boxes);
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
}
