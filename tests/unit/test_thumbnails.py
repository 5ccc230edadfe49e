"""ThumbnailsFunction's imaging (functions/core/thumbnails) and its isolation: Pillow is in ImagingLayer, which only
that function has, and no API function of the messaging family imports it (cold start; docs/courier.md "Attachments
and bookmarks")."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from cfnlint.decode import decode

from helpers import ROOT, import_handler

Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def app():
    return import_handler(ROOT / "functions" / "core" / "thumbnails")


def encode(image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kw)
    return out.getvalue()


def test_a_thumbnail_keeps_the_aspect_and_fits_320(app):
    wide = app.make_thumbnail(encode(Image.new("RGB", (1000, 500), (1, 2, 3)), "PNG"))
    tall = app.make_thumbnail(encode(Image.new("RGB", (300, 900), (1, 2, 3)), "JPEG"))
    small = app.make_thumbnail(encode(Image.new("RGB", (64, 48), (1, 2, 3)), "PNG"))
    assert Image.open(io.BytesIO(wide)).size == (320, 160) and Image.open(io.BytesIO(wide)).format == "JPEG"
    assert Image.open(io.BytesIO(tall)).size == (107, 320)
    assert Image.open(io.BytesIO(small)).size == (64, 48)  # never enlarged


def test_transparency_goes_over_white_and_a_gif_gives_its_first_frame(app):
    clear = app.make_thumbnail(encode(Image.new("RGBA", (100, 100), (0, 0, 0, 0)), "PNG"))
    assert Image.open(io.BytesIO(clear)).convert("RGB").getpixel((50, 50)) >= (250, 250, 250)
    frames = [Image.new("P", (50, 50), n) for n in (1, 2)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(app.make_thumbnail(gif))).size == (50, 50)


def test_what_is_not_an_image_or_too_large_gives_none(app, monkeypatch):
    assert app.make_thumbnail(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20) is None
    assert app.make_thumbnail(b"") is None
    monkeypatch.setattr(app, "MAX_PIXELS", 100)
    assert app.make_thumbnail(encode(Image.new("RGB", (20, 20)), "PNG")) is None


def test_no_api_function_of_the_family_imports_an_imaging_library():
    code = (
        "import importlib.util, pathlib, sys\n"
        "for path in sorted(pathlib.Path('functions/courier_messaging/api').glob('*.py')):\n"
        "    spec = importlib.util.spec_from_file_location('m_' + path.stem, path)\n"
        "    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "print(sorted(m for m in sys.modules if m == 'PIL' or m.startswith('PIL.')))\n"
    )
    env = {"PYTHONPATH": f"{ROOT / 'layers' / 'common'}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_only_the_thumbnails_function_has_the_imaging_layer():
    doc, errors = decode(str(ROOT / "template.yaml"))
    assert not errors
    with_layer = sorted(
        name
        for name, res in doc["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function" and {"Ref": "ImagingLayer"} in (res["Properties"].get("Layers") or [])
    )
    assert with_layer == ["ThumbnailsFunction"]
    assert "Pillow==" in (ROOT / "layers" / "imaging" / "requirements.txt").read_text()
    assert "Pillow" not in (ROOT / "layers" / "deps" / "requirements.txt").read_text()


def test_the_local_stack_adds_a_functions_layers_to_the_globals_as_sam_does():
    from parley_local.templates import Template

    tpl = Template.__new__(Template)
    tpl.doc = {"Globals": {"Function": {"Layers": ["deps", "common"], "Environment": {"Variables": {"A": "1"}}}}}
    merged = tpl.function_props({"Layers": ["imaging"], "Environment": {"Variables": {"B": "2"}}})
    assert merged["Layers"] == ["deps", "common", "imaging"] and merged["Environment"]["Variables"] == {"A": "1", "B": "2"}
    assert tpl.function_props({})["Layers"] == ["deps", "common"]
