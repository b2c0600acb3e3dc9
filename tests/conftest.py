"""Shared fixtures: sample PDFs come from the project's own generator and samples/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "born_digital"
SOURCES = ROOT / "samples" / "sources"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def encrypted_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real password-protected PDF (reportlab's standard encryption)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path_factory.mktemp("bad") / "encrypted.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, encrypt="secret-password")
    c.drawString(72, 720, "confidential")
    c.save()
    return path
