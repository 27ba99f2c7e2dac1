"""The Python half of `synshard bench --read` (src/bench/read_bench.cpp writes this file
into the work dir and runs it with /usr/bin/python3, PYTHONPATH=<build>/python).

Every row reads the same train split once, uint8 224x224 with torchvision's training
transform (RandomResizedCrop(224) + RandomHorizontalFlip), in a fresh process of its own
so that peak RSS is the row's alone:
  baseline-a      torchvision ImageFolder + PIL over the images extracted as JPEG files
  baseline-b      README's h5py + cv2 per-sample Dataset over the shards, same transforms
  synshard        synshard.Loader, C++ threads
  synshard.torch  synshard.torch.Batches through DataLoader
Prints one JSON object: {"rows": [...], "notes": [...]}.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

BATCH = 64
SIZE = 224


def cpu_ticks():
    """(busy, total) jiffies over all CPUs, from /proc/stat's first line."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as control:
        control.write("3\n")


def warm_up(top):
    """Reads every file under `top`, so that a warm row finds all its bytes cached."""
    for folder, _, files in os.walk(top):
        for file in files:
            with open(os.path.join(folder, file), "rb") as f:
                while f.read(1 << 20):
                    pass


def shard_paths(out, split):
    import h5py
    with h5py.File(os.path.join(out, "index.h5"), "r") as index:
        return [os.path.join(out, path)
                for path in index[f"splits/{split}/shard_paths"].asstr()[:]]


def extract_jpegs(out, split, folder):
    """The split's stored images as folder/<wnid>/<key>, what ImageFolder reads. Kept and
    reused when it is complete (a marker file is written last)."""
    import h5py
    done = os.path.join(folder, ".complete")
    if os.path.exists(done):
        return
    count = 0
    for path in shard_paths(out, split):
        with h5py.File(path, "r") as shard:
            offsets = shard["image_offsets"][:].astype("int64")
            data = shard["image_bytes"][:]
            wnids = shard["synsets"][:]
            keys = shard["keys"][:]
            for row in range(len(offsets) - 1):
                wnid = wnids[row].decode()
                name = os.path.basename(keys[row].decode().rstrip("\0"))
                os.makedirs(os.path.join(folder, wnid), exist_ok=True)
                # ImageFolder takes only image extensions; shards hold JPEG or PNG.
                is_png = data[offsets[row]:offsets[row] + 4].tobytes() == b"\x89PNG"
                stem = os.path.splitext(name)[0] or f"row{count}"
                file = os.path.join(folder, wnid, f"{stem}-{count}" + (".png" if is_png else ".JPEG"))
                with open(file, "wb") as image:
                    image.write(data[offsets[row]:offsets[row + 1]].tobytes())
                count += 1
    with open(done, "w") as marker:
        marker.write(f"{count}\n")


def torchvision_transform():
    import torchvision.transforms as T
    return T.Compose([T.RandomResizedCrop(SIZE), T.RandomHorizontalFlip(), T.PILToTensor()])


class ShardSamples:
    """README's h5py + cv2 reader as a per-sample Dataset: files opened lazily in the
    process that reads (each DataLoader worker), never in the parent."""

    def __init__(self, out, split, transform):
        import h5py
        import numpy as np
        self.paths = shard_paths(out, split)
        counts = []
        for path in self.paths:
            with h5py.File(path, "r") as shard:
                counts.append(len(shard["labels"]))
        self.starts = np.cumsum(counts)
        self.transform = transform
        self.files = {}
        self.pid = None

    def __len__(self):
        return int(self.starts[-1])

    def __getitem__(self, i):
        import cv2
        import h5py
        import numpy as np
        from PIL import Image
        if self.pid != os.getpid():
            self.files, self.pid = {}, os.getpid()
        shard = int(np.searchsorted(self.starts, i, side="right"))
        row = i - (int(self.starts[shard - 1]) if shard else 0)
        if shard not in self.files:
            self.files[shard] = h5py.File(self.paths[shard], "r")
        f = self.files[shard]
        o = f["image_offsets"]
        rgb = cv2.imdecode(f["image_bytes"][o[row]:o[row + 1]], cv2.IMREAD_COLOR)[:, :, ::-1]
        label = int(f["labels"][row])
        return self.transform(Image.fromarray(np.ascontiguousarray(rgb))), label


def cpu_seconds():
    """CPU time of this process and of its reaped children (DataLoader workers are
    joined, so reaped, when an epoch's iteration ends)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_bytes():
    """This process's VmHWM: unlike ru_maxrss, which keeps the high-water mark of the
    forked parent's memory across exec, it is this program's own."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def run_row(name, args):
    """Reads the split once; returns what was measured. Only the PyTorch rows import
    torch, so the synshard row's peak RSS is the loader's own."""
    workers = args.workers
    if name != "synshard":
        import torch.utils.data
    if name == "baseline-a":
        import torchvision.datasets
        dataset = torchvision.datasets.ImageFolder(args.jpeg_dir, transform=torchvision_transform())
        batches = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True,
                                              num_workers=workers)
    elif name == "baseline-b":
        dataset = ShardSamples(args.out, args.split, torchvision_transform())
        batches = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True,
                                              num_workers=workers)
    elif name == "synshard":
        import synshard
        batches = synshard.Loader(args.out, args.split, BATCH,
                                  transform=synshard.TrainTransform(SIZE), seed=0,
                                  threads=args.threads)
    elif name == "synshard.torch":
        import synshard
        import synshard.torch
        dataset = synshard.torch.Batches(args.out, args.split, BATCH,
                                         transform=synshard.TrainTransform(SIZE), seed=0,
                                         threads=1)
        batches = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=workers)
    else:
        raise ValueError(name)
    images = 0
    busy_before, total_before = cpu_ticks()
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    for batch in batches:
        pixels = batch["images"] if isinstance(batch, dict) else batch[0]
        if tuple(pixels.shape[-3:]) not in ((SIZE, SIZE, 3), (3, SIZE, SIZE)):
            raise RuntimeError(f"{name}: batch of shape {tuple(pixels.shape)}")
        images += pixels.shape[0]
    seconds = time.perf_counter() - start
    busy_after, total_after = cpu_ticks()
    cpu = cpu_seconds() - cpu_before
    workers_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "row": name, "images": images, "seconds": seconds, "cpu_seconds": cpu,
        "busy_percent": 100.0 * (busy_after - busy_before) / max(1, total_after - total_before),
        "peak_rss_bytes": peak_rss_bytes(),
        "worker_peak_rss_bytes": workers_usage.ru_maxrss * 1024,
    }


def missing_row(name):
    """Why a row cannot run in this environment, or None."""
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as error:
        if name.startswith("baseline") or name == "synshard.torch":
            return f"needs torch and torchvision ({error}): apt-get install python3-torch python3-torchvision"
    if name.startswith("synshard"):
        try:
            import synshard
        except ImportError as error:
            return f"import synshard failed ({error}): build the Python package (python/)"
        if not hasattr(synshard, "Loader"):
            return "synshard.Loader is not built yet"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--split", default="train")
    parser.add_argument("--jpeg-dir", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--row", help="run this row in this process and print its JSON")
    parser.add_argument("--cold", action="store_true", help="drop the page cache first")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.row:
        if args.cold:
            drop_caches()
        print(json.dumps(run_row(args.row, args)))
        return
    extract_jpegs(args.out, args.split, args.jpeg_dir)
    notes = []
    cold = os.access("/proc/sys/vm/drop_caches", os.W_OK)
    if not cold:
        notes.append("cold cache skipped: /proc/sys/vm/drop_caches is not writable here")
    names = ("baseline-a", "baseline-b", "synshard", "synshard.torch")
    caches = ("warm", "cold") if cold else ("warm",)
    skipped = {name: missing_row(name) for name in names}
    runs = {}
    failures = {}
    # Rounds of every row in turn, so that a change in the machine's load (other jobs on
    # shared cores) hits every row alike; each row's median run is reported.
    for _ in range(args.rounds):
        for name in names:
            if skipped[name]:
                continue
            for cache in caches:
                if cache == "cold":
                    extra = ["--cold"]
                else:
                    extra = []
                    warm_up(args.jpeg_dir if name == "baseline-a" else args.out)
                command = [sys.executable, os.path.abspath(__file__), "--row", name,
                           "--out", args.out, "--split", args.split, "--jpeg-dir",
                           args.jpeg_dir, "--workers", str(args.workers), "--threads",
                           str(args.threads)] + extra
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    lines = done.stderr.strip().splitlines()
                    failures[(name, cache)] = lines[-1] if lines else f"exit {done.returncode}"
                    continue
                runs.setdefault((name, cache), []).append(
                    json.loads(done.stdout.strip().splitlines()[-1]))
    rows = []
    for name in names:
        if skipped[name]:
            rows.append({"row": name, "skipped": skipped[name]})
            continue
        for cache in caches:
            if (name, cache) in failures:
                rows.append({"row": name, "cache": cache, "failed": failures[(name, cache)]})
                continue
            measured = sorted(runs[(name, cache)], key=lambda run: run["seconds"])
            row = dict(measured[len(measured) // 2])
            row["cache"] = cache
            row["runs"] = len(measured)
            row["fastest_seconds"] = measured[0]["seconds"]
            row["slowest_seconds"] = measured[-1]["seconds"]
            rows.append(row)
    print(json.dumps({"rows": rows, "notes": notes, "cpus": os.cpu_count(),
                      "workers": args.workers, "threads": args.threads}))


if __name__ == "__main__":
    main()
