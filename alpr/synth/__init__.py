"""Synthetic German and Spanish plate renderer (training data, tests, samples).

Modules: ``glyphs`` (own FE-Schrift / Spanish stroke glyphs), ``fonts`` (glyph bitmaps of all
fonts, cached per size), ``decor`` (EU band, stickers), ``style`` (default and random looks),
``render`` (``render_plate`` -> ``RenderedPlate`` with exact character boxes), ``background``,
``photometric`` and ``scene`` (``render_scene`` -> ``Scene``: a photo-like image with the plate
quad, homography and character quads).
"""
