"""Make a scanned twin of every born-digital sample: an image-only PDF that looks like an office scan.

    python -m samples.scan [NAMES...] [--src samples/born_digital] [--out samples/scanned] [--jobs N] [--check]

Most incoming mail is paper scanned to image-only PDFs, so the OCR path needs samples whose
answers are known. For each `born_digital/NAME.pdf` this writes `scanned/NAME.pdf` (one JPEG per
page, A4 in points), `scanned/NAME.json` (a copy of the golden: the twin shares it) and
`scanned/NAME.scan.json` (what was done to each page, so OCR errors can be correlated with it).

Everything is drawn from `random.Random(f"scan:{NAME}")` (numpy generators are seeded from it), so
the output is byte-identical on re-run and can be committed; `--check` regenerates into a temporary
directory and exits 1 when a committed file differs.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pypdfium2 as pdfium
from numpy.typing import NDArray
from PIL import Image, ImageChops, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
DEFAULT_SRC = HERE / "born_digital"
DEFAULT_OUT = HERE / "scanned"

# reportlab's A4, the page size of every born-digital sample.
A4_POINTS = (595.2755905511812, 841.8897637795277)
PRODUCER = "gongwen samples.scan"

Mode = Literal["gray", "colour"]
Edge = Literal["left", "top"]
NoiseLevel = Literal["light", "medium", "heavy"]

# Per megapixel: (pepper dots, salt dots in ink), and dust specks per page, by noise level.
NOISE_DENSITY: dict[NoiseLevel, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "light": ((10, 40), (5, 20), (0, 3)),
    "medium": ((40, 120), (20, 60), (2, 6)),
    "heavy": ((120, 300), (60, 150), (5, 12)),
}
FIELD_STEP = 4  # the background/binding field is computed at 1/4 resolution: it is smooth.


@dataclass(frozen=True)
class Binding:
    """A dark band with a gradient along one edge: the shadow of a stapled or bound stack."""

    edge: Edge
    width_px: int  # how far into the page the shadow reaches
    darkness: int  # brightness at the very edge, 0 (black) .. 255 (none)
    gamma: float  # how fast the shadow fades
    tilt: float  # the band is wider at one end by this fraction


@dataclass(frozen=True)
class PagePlan:
    """Everything done to one page, recorded in NAME.scan.json."""

    page: int  # 1-based
    dpi: int
    mode: Mode
    width_px: int
    height_px: int
    skew_deg: float  # counter-clockwise, as the paper lay on the glass
    rotation: int  # 0, or 180 when the sheet went through upside down
    jpeg_quality: int
    blur_radius: float  # Gaussian radius in pixels
    paper: tuple[int, int, int]  # RGB of the paper (equal channels in gray mode)
    unevenness: float  # peak-to-peak relative variation of background brightness
    noise: NoiseLevel
    pepper: int  # dark dots
    salt: int  # white dots in the ink
    dust: int  # dust specks and hairs
    binding: Binding | None
    seed: int  # seeds numpy's default_rng for this page's noise


@dataclass(frozen=True)
class ScanPlan:
    name: str
    pages: tuple[PagePlan, ...]


def _pixels(points: float, dpi: int) -> int:
    """What pypdfium2's render(scale=dpi/72) makes of a page dimension."""
    return math.ceil(points * dpi / 72)


def stamped_over_text(src_dir: Path, name: str) -> bool:
    """Whether the generator's manifest puts a receipt stamp over the letter's text."""
    manifest = src_dir / f"{name}.layout.json"
    if not manifest.exists():
        return False
    stamps = json.loads(manifest.read_text(encoding="utf-8")).get("stamps", [])
    return any(s.get("placement") == "over" for s in stamps)


def plan_scan(name: str, pages: int, colour: bool = False) -> ScanPlan:
    """Draw every parameter of a sample's scan up front, so it is recorded exactly as applied.

    Scanner settings (dpi, colour, JPEG quality, focus, paper, dirtiness) hold for a whole file;
    what the feeder does (skew, an upside-down sheet, the binding shadow) varies per page.
    `colour`: a page with red ink stamped over its text is scanned in colour (in grey the
    stamp's strokes and the text under them are one ink, and nobody can read them apart).
    """
    rng = random.Random(f"scan:{name}")
    dpi = rng.choice((200, 300))
    mode: Mode = "colour" if rng.random() < 0.45 or colour else "gray"
    # High resolution is usually paired with harder compression; it keeps 300 dpi pages small.
    quality = rng.randint(35, 60) if dpi == 300 else rng.randint(45, 75)
    blur = round(rng.uniform(0.35, 0.9) * dpi / 300, 2)
    level = rng.randint(232, 250)
    if mode == "colour":
        paper = (min(255, level + rng.randint(0, 4)), level, level - rng.randint(3, 14))
    else:
        paper = (level, level, level)
    noise: NoiseLevel = rng.choice(("light", "medium", "heavy"))
    pepper_d, salt_d, dust_n = NOISE_DENSITY[noise]
    flipped = rng.randrange(pages) if rng.random() < 0.18 else None
    # 公文 are stapled or bound at the left (the 裝訂線 side), sometimes at the top.
    edge: Edge | None = None
    if rng.random() < 0.45:
        edge = "left" if rng.random() < 0.65 else "top"
    base_skew = rng.uniform(-0.8, 0.8)
    width, height = _pixels(A4_POINTS[0], dpi), _pixels(A4_POINTS[1], dpi)
    megapixels = width * height / 1e6
    plans: list[PagePlan] = []
    for index in range(pages):
        skew = round(max(-1.5, min(1.5, base_skew + rng.uniform(-0.7, 0.7))), 2)
        binding = None
        if edge is not None and rng.random() < 0.75:
            across = width if edge == "left" else height
            binding = Binding(
                edge=edge,
                width_px=round(across * rng.uniform(0.02, 0.07)),
                darkness=rng.randint(25, 120),
                gamma=round(rng.uniform(1.5, 3.0), 2),
                tilt=round(rng.uniform(-0.4, 0.4), 2),
            )
        plans.append(
            PagePlan(
                page=index + 1,
                dpi=dpi,
                mode=mode,
                width_px=width,
                height_px=height,
                skew_deg=skew,
                rotation=180 if index == flipped else 0,
                jpeg_quality=quality,
                blur_radius=blur,
                paper=paper,
                unevenness=round(rng.uniform(0.01, 0.06), 3),
                noise=noise,
                pepper=round(megapixels * rng.uniform(*pepper_d)),
                salt=round(megapixels * rng.uniform(*salt_d)),
                dust=rng.randint(*dust_n),
                binding=binding,
                seed=rng.getrandbits(64),
            )
        )
    return ScanPlan(name=name, pages=tuple(plans))


# --- one page -------------------------------------------------------------------------------------


def _background(plan: PagePlan, rng: np.random.Generator) -> Image.Image:
    """Paper tint x uneven illumination x binding shadow, as an image to multiply the page by."""
    w, h = plan.width_px, plan.height_px
    fw, fh = -(-w // FIELD_STEP), -(-h // FIELD_STEP)
    coarse = rng.standard_normal((3, 4)).astype(np.float32)
    blotches = np.array(Image.fromarray(coarse).resize((fw, fh), Image.Resampling.BICUBIC), dtype=np.float32)
    blotches /= max(float(np.abs(blotches).max()), 1e-6)
    ys = np.linspace(-1.0, 1.0, fh, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, fw, dtype=np.float32)[None, :]
    theta = rng.uniform(0.0, 2 * math.pi)
    gradient = (math.cos(theta) * xs + math.sin(theta) * ys) / math.sqrt(2)
    light = 1.0 + plan.unevenness / 2 * (0.6 * blotches + 0.4 * gradient) - plan.unevenness / 2
    if plan.binding is not None:
        light = light * _shadow(plan.binding, fw, fh)
    channels = 1 if plan.mode == "gray" else 3
    field = np.stack([np.clip(light * plan.paper[c], 0, 255) for c in range(channels)], axis=-1)
    field = np.rint(field).astype(np.uint8)
    small = Image.fromarray(field[..., 0] if channels == 1 else field)
    return small.resize((w, h), Image.Resampling.BILINEAR)


def _shadow(b: Binding, fw: int, fh: int) -> NDArray[np.float32]:
    """Brightness factor of the binding band at field resolution (1 outside the band)."""
    along_n, across_n = (fh, fw) if b.edge == "left" else (fw, fh)
    along = np.linspace(-0.5, 0.5, along_n, dtype=np.float32)[:, None]
    across = (np.arange(across_n, dtype=np.float32)[None, :] + 0.5) * FIELD_STEP
    reach = b.width_px * (1.0 + b.tilt * along)
    depth = np.clip(1.0 - across / reach, 0.0, 1.0) ** b.gamma
    factor = 1.0 - (1.0 - b.darkness / 255) * depth
    return (factor if b.edge == "left" else factor.T).astype(np.float32)


def _speckle(img: Image.Image, plan: PagePlan, rng: np.random.Generator) -> Image.Image:
    """Salt-and-pepper dots (1-3 px) and a few dust specks or hairs on the glass, on a gray band."""
    arr = np.array(img)
    h, w = arr.shape
    ink = np.flatnonzero(arr < 128)
    spots = [
        (rng.integers(0, h * w, plan.pepper), rng.integers(0, 100, plan.pepper)),
        (ink[rng.integers(0, len(ink), plan.salt)] if len(ink) else np.zeros(0, np.int64),
         rng.integers(200, 256, plan.salt if len(ink) else 0)),
    ]
    for flat, values in spots:
        y, x = np.divmod(flat, w)
        size = rng.integers(1, 4, len(flat))
        for dy in range(3):
            for dx in range(3):
                keep = (size > max(dy, dx)) & (y + dy < h) & (x + dx < w)
                arr[y[keep] + dy, x[keep] + dx] = values[keep].astype(np.uint8)
    out = Image.fromarray(arr)
    draw = ImageDraw.Draw(out)
    unit = plan.dpi / 300
    for _ in range(plan.dust):
        cx, cy = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        shade = int(rng.integers(10, 90))
        if rng.random() < 0.15:  # a hair: a short random walk
            pts = [(cx, cy)]
            angle = rng.uniform(0, 2 * math.pi)
            for _ in range(int(rng.integers(6, 14))):
                angle += rng.normal(0, 0.5)
                step = rng.uniform(4, 10) * unit
                pts.append((pts[-1][0] + step * math.cos(angle), pts[-1][1] + step * math.sin(angle)))
            draw.line(pts, fill=shade, width=max(1, round(unit)))
            continue
        radius = rng.uniform(1.2, 4.0) * unit
        for _ in range(int(rng.integers(1, 5))):
            ox, oy = rng.uniform(-radius, radius, 2)
            rx, ry = radius * rng.uniform(0.4, 1.0, 2)
            draw.ellipse((cx + ox - rx, cy + oy - ry, cx + ox + rx, cy + oy + ry), fill=shade)
    return out


def scan_page(page: pdfium.PdfPage, plan: PagePlan) -> bytes:
    """Render one born-digital page and degrade it like a scanner would; returns JPEG bytes.

    The sheet lies skewed (or upside down) on the glass, the lamp and the binding shade it, the
    glass adds dust, the optics blur, and the scanner compresses to JPEG.
    """
    rng = np.random.default_rng(plan.seed)
    img = page.render(scale=plan.dpi / 72, grayscale=plan.mode == "gray").to_pil()
    img = img.convert("L" if plan.mode == "gray" else "RGB")
    if img.size != (plan.width_px, plan.height_px):
        raise ValueError(f"page {plan.page} renders at {img.size}, not A4 ({plan.width_px}, {plan.height_px})")
    angle = plan.skew_deg + plan.rotation
    if angle:
        white: int | tuple[int, int, int] = 255 if plan.mode == "gray" else (255, 255, 255)
        img = img.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=white)
    img = ImageChops.multiply(img, _background(plan, rng))
    # Noise and blur act on luminance only: 4:2:0 JPEG blurs the chroma more anyway, and a colour
    # page costs little more than a gray one. The encoder takes YCbCr as is.
    bands = [img] if plan.mode == "gray" else list(img.convert("YCbCr").split())
    luma = _speckle(bands[0], plan, rng).filter(ImageFilter.GaussianBlur(plan.blur_radius))
    img = luma if plan.mode == "gray" else Image.merge("YCbCr", [luma, *bands[1:]])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=plan.jpeg_quality, optimize=True, dpi=(plan.dpi, plan.dpi))
    return buf.getvalue()


def _page_task(task: tuple[str, PagePlan]) -> bytes:
    """Worker entry point: each process opens the source itself (pdfium handles don't pickle)."""
    src, plan = task
    doc = pdfium.PdfDocument(src)
    try:
        return scan_page(doc[plan.page - 1], plan)
    finally:
        doc.close()


# --- the PDF --------------------------------------------------------------------------------------


def image_pdf(pages: Iterable[tuple[bytes, PagePlan]]) -> bytes:
    """An image-only PDF: one A4 page per JPEG, embedded as is (DCTDecode).

    Written directly rather than through reportlab, whose default ASCII85 layer would grow every
    JPEG by a quarter (and switching it off is a process-wide setting the generator also reads),
    and whose drawImage decodes each image just to hash it. No dates, no ID: byte-identical.
    """
    out = io.BytesIO()
    offsets: list[int] = []

    def obj(body: bytes, stream: bytes | None = None) -> None:
        offsets.append(out.tell())
        out.write(f"{len(offsets)} 0 obj\n".encode())
        out.write(body)
        if stream is not None:
            out.write(b"\nstream\n" + stream + b"\nendstream")
        out.write(b"\nendobj\n")

    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    items = list(pages)
    w, h = (f"{v:.4f}" for v in A4_POINTS)
    kids = " ".join(f"{4 + 3 * i} 0 R" for i in range(len(items)))
    obj(b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(f"<< /Type /Pages /Kids [{kids}] /Count {len(items)} >>".encode())
    obj(f"<< /Producer ({PRODUCER}) >>".encode())
    for i, (jpeg, plan) in enumerate(items):
        page_id = 4 + 3 * i
        content = f"q {w} 0 0 {h} 0 0 cm /Im0 Do Q".encode()
        obj(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] "
            f"/Resources << /XObject << /Im0 {page_id + 2} 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        obj(f"<< /Length {len(content)} >>".encode(), content)
        colour = "/DeviceGray" if plan.mode == "gray" else "/DeviceRGB"
        obj(
            f"<< /Type /XObject /Subtype /Image /Width {plan.width_px} /Height {plan.height_px} "
            f"/ColorSpace {colour} /BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>".encode(),
            jpeg,
        )
    xref = out.tell()
    out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
    out.write(f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R /Info 3 0 R >>\n".encode())
    out.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


# --- files ----------------------------------------------------------------------------------------


def page_count(pdf: Path) -> int:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def plan_json(plan: ScanPlan) -> str:
    """NAME.scan.json: one line per page. It has no "file" key, so it is never taken for a golden."""
    pages = ",\n".join("  " + json.dumps(asdict(p), ensure_ascii=False) for p in plan.pages)
    head = {"scan_of": f"{plan.name}.pdf", "seed": f"scan:{plan.name}", "producer": PRODUCER}
    return json.dumps(head, ensure_ascii=False)[:-1] + f', "pages": [\n{pages}\n]}}\n'


def output_names(name: str, src_dir: Path) -> list[str]:
    """The files a sample's twin consists of (no golden copy for a sample without a golden)."""
    names = [f"{name}.pdf", f"{name}.scan.json"]
    if (src_dir / f"{name}.json").exists():
        names.append(f"{name}.json")
    return names


def scan_samples(names: list[str], src_dir: Path, out_dir: Path, jobs: int = 1) -> Iterator[tuple[str, ScanPlan]]:
    """Scan each named sample into out_dir, pages spread over `jobs` processes; yields as each is done."""
    plans = [plan_scan(n, page_count(src_dir / f"{n}.pdf"), stamped_over_text(src_dir, n)) for n in names]
    tasks = [(str(src_dir / f"{p.name}.pdf"), page) for p in plans for page in p.pages]
    with ProcessPoolExecutor(jobs) if jobs > 1 else _Inline() as pool:
        jpegs = pool.map(_page_task, tasks)
        for plan in plans:
            pages = [(next(jpegs), page) for page in plan.pages]
            (out_dir / f"{plan.name}.pdf").write_bytes(image_pdf(pages))
            (out_dir / f"{plan.name}.scan.json").write_text(plan_json(plan), encoding="utf-8")
            golden = src_dir / f"{plan.name}.json"
            if golden.exists():
                shutil.copyfile(golden, out_dir / golden.name)
            yield plan.name, plan


class _Inline:
    """Stands in for a process pool when one job is asked for (tests, debugging)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: object, items: list[tuple[str, PagePlan]]) -> Iterator[bytes]:
        return (_page_task(item) for item in items)


def select_names(args: list[str], src_dir: Path) -> list[str]:
    """Samples named on the command line (NAME, NAME.pdf or a path), or every born-digital PDF."""
    if not args:
        return sorted(p.stem for p in src_dir.glob("*.pdf"))
    return [Path(a).stem if a.endswith(".pdf") else a for a in args]


def summary(plan: ScanPlan, size: int) -> str:
    first = plan.pages[0]
    flipped = [p.page for p in plan.pages if p.rotation]
    bound = sum(p.binding is not None for p in plan.pages)
    return (
        f"{len(plan.pages)} p, {first.dpi} dpi {first.mode}, q{first.jpeg_quality}, {first.noise} noise"
        + (f", page {flipped[0]} upside down" if flipped else "")
        + (f", binding on {bound} p" if bound else "")
        + f", {size / 1024:.0f} KB"
    )


def check(names: list[str], src_dir: Path, out_dir: Path, jobs: int) -> int:
    """Exit status 1 when a committed twin is missing or differs from a fresh scan."""
    stale: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        for name, _ in scan_samples(names, src_dir, fresh, jobs):
            for file in output_names(name, src_dir):
                committed = out_dir / file
                if not committed.exists():
                    stale.append(f"missing: {committed}")
                elif committed.read_bytes() != (fresh / file).read_bytes():
                    stale.append(f"stale: {committed} differs from a fresh scan")
    for line in stale:
        print(line, file=sys.stderr)
    if not stale:
        print(f"{len(names)} scanned twins up to date")
    return 1 if stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.scan", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("names", nargs="*", help="sample names (default: every born-digital PDF)")
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--check", action="store_true", help="fail if a committed twin is stale")
    args = parser.parse_args(argv)
    names = select_names(list(args.names), args.src)
    missing = [n for n in names if not (args.src / f"{n}.pdf").exists()]
    for n in missing:
        print(f"{args.src / n}.pdf: no such sample", file=sys.stderr)
    if missing:
        return 1
    if args.check:
        return check(names, args.src, args.out, args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    start, total = time.perf_counter(), 0
    for name, plan in scan_samples(names, args.src, args.out, args.jobs):
        size = (args.out / f"{name}.pdf").stat().st_size
        total += size
        print(f"{name}.pdf {summary(plan, size)}")
    print(f"{len(names)} twins, {total / 1024 / 1024:.1f} MB, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
