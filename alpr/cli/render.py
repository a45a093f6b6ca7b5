"""``alpr render``: write synthetic plates (or photo-like scenes) as PNGs plus a labels JSON."""

import json
from pathlib import Path

import click
import numpy as np

from alpr import atomic
from alpr.cli.common import UserError, ensure_dir, force_option, refuse_existing, seed_option


def _item_rng(seed: int, index: int) -> np.random.Generator:
    # one stream per image: image i is the same whatever --count is
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--country", type=click.Choice(["de", "es", "eu"]), default="de", show_default=True, help="Plate grammar and look.")
@click.option("--count", type=click.IntRange(1, 1_000_000), default=16, show_default=True, help="Number of images.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder (created).")
@click.option("--scene", is_flag=True, help="Render photo-like scenes (640x480) instead of plate crops.")
@click.option("--height", "height_px", type=click.IntRange(16, 1100), default=110, show_default=True, help="Plate height in pixels (plate crops).")
@click.option("--size", default="640x480", show_default=True, help="Scene size WIDTHxHEIGHT (with --scene).")
@click.option("--clean", is_flag=True, help="Plate crops in the clean default style (no random style).")
@force_option
@seed_option
def command(country, count, out_dir, scene, height_px, size, clean, force, seed):
    """Render synthetic German/Spanish plates with exact character boxes.

    Writes OUT/00000.png ... and OUT/labels.json: one entry per image with the plate text
    (plain and grouped), character boxes [x, y, w, h] in reading order, their group index,
    the font, and for --scene the plate quad (TL, TR, BR, BL) and character quads in the scene
    (with --scene, "boxes" stay in the pixels of the flat plate of size "plate_size").
    Every file is written atomically; existing files are never replaced unless --force is given.

    \b
    Examples:
      alpr render --country de --count 8 --out /tmp/plates
      alpr render --country es --count 100 --out /tmp/scenes --scene --seed 7
    """
    from alpr.imageio import save_image
    from alpr.synth.render import render_plate
    from alpr.synth.scene import render_scene

    try:
        w, h = (int(v) for v in size.lower().split("x"))
        if not (32 <= w <= 8192 and 32 <= h <= 8192):
            raise ValueError
    except ValueError:
        raise UserError(f"--size: expected WIDTHxHEIGHT like 640x480 (32..8192), got {size!r}") from None
    ensure_dir(out_dir, "--out")
    existing = {p.name for p in out_dir.iterdir()}
    names = [f"{i:05d}.png" for i in range(count)] + ["labels.json"]
    refuse_existing([out_dir / n for n in names if n in existing], force=force, option="--out")
    labels = []
    with click.progressbar(range(count), label="rendering", file=click.get_text_stream("stderr")) as bar:
        for i in bar:
            rng = _item_rng(seed, i)
            name = f"{i:05d}.png"
            if scene:
                s = render_scene(country, rng=rng, size=(w, h))
                r, image = s.rendered, s.image
                extra = {
                    "quad": s.quad.astype(float).round(2).tolist(),
                    "char_quads": s.char_quads.astype(float).round(2).tolist(),
                    "plate_size": [int(r.image.shape[1]), int(r.image.shape[0])],
                }
            else:
                r = render_plate(country=country, rng=rng, height_px=height_px, style={} if clean else None)
                image, extra = r.image, {}
            save_image(out_dir / name, image)
            labels.append({
                "file": name,
                "country": r.plate.country,
                "text": r.plate.text,
                "formatted": r.plate.formatted,
                "font": r.font,
                "boxes": r.boxes.tolist(),
                "group_index": r.group_index.tolist(),
                "band_box": list(r.band_box) if r.band_box else None,
                **extra,
            })
    body = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in labels)
    atomic.write_text(out_dir / "labels.json", "[\n" + body + "\n]\n")
    click.echo(f"wrote {count} {'scenes' if scene else 'plates'} and labels.json to {out_dir}")
