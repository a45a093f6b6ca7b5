"""The recogniser: photo -> plate quadrilaterals -> rectified plates -> character boxes ->
character CNN -> grammar-aware decoding -> plate text with confidences.

    >>> from alpr import Recognizer
    >>> plates = Recognizer(country="de").read(cv2.imread("car.jpg"))
    >>> plates[0].text, plates[0].confidence
"""

import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property

import cv2
import numpy as np

from alpr import deskew, detect, plates, segment
from alpr._components import as_uint8, to_grey
from alpr._geometry import box_iou, lengthened, quad_bbox
from alpr._ink import red_ink
from alpr._plate_outline import (
    close_up,
    frame_quad,
    map_box,
    outline,
    plate_in_box,
    plate_to_image,
    rounded,
    slope_degrees,
)
from alpr.decode import Decoded, decode
from alpr.detect import Detection
from alpr.model import CharModel, load_model, softmax
from alpr.prefetch import prefetched

COUNTRY_CHOICES = ("auto", "de", "es", "eu")
#: Models used for each country when none is given.
DEFAULT_MODELS = {"de": "de", "es": "es", "eu": "eu"}
#: ``auto`` tries these countries and keeps the most probable valid reading: the one with the
#: highest decoder score, which also counts the boxes a reading drops and the positions it leaves
#: unread (their confidence alone does not: a German reading that drops a Spanish plate's letters
#: reads its digits just as confidently).
AUTO_COUNTRIES = ("de", "es")
#: With the default models, Spanish plates are also looked at by this model, for vowels only:
#: the provincial plates (1971-2000, "CA 1234 AB") have vowels in their province codes and
#: letters, which the ``es`` model (digits and the consonants of today's plates) cannot read
#: (see ``with_vowels``).
VOWEL_MODEL = "eu"
VOWELS = "AEIOU"
#: How much rarer vowels are on Spanish plates than in the vowel model's training data: 1.3 % of
#: the characters of ``plates.random_plate("es", rng, old_es_rate=0.1)`` (the renderer's share of
#: provincial plates) against 8.6 % of the eu model's training characters (its card's
#: ``class_counts``). The vowel model's probabilities are rescaled by it (a label-shift
#: correction), so a digit or consonant it takes for a vowel does not make a provincial reading.
VOWEL_PRIOR = 0.16
#: Plate positions that may be unreadable (covered or anonymised) in a reported plate.
MAX_MISSING = 2
#: A crop whose text line slopes, or whose strokes lean, by at least this many degrees is also
#: read levelled (see read_crop).
MIN_SKEW_DEGREES = 2.0
#: A detected plate outline whose top side slopes by at least this many degrees is also read
#: levelled: its sides are drawn upright, right for a plate seen from the side but not for a
#: tilted camera, whose plate then leans in the crop with its frame's edge beside the last
#: character (rendered photos turned by 20 degrees: 61 -> 63 of 97 plates read).
LEVEL_SLOPED_FROM = 5.0
#: A detected plate outline is read lengthened at its left end by this share of its length:
#: the bright-region cue's outline stops at the EU band, which is dark, so the first character
#: stood at the crop's edge and was lost (OXHC328 read XHC328). On rendered 640x480 photos
#: (seeds 5000-5199, 200 per country) de / es read 137 / 154 plates as they were, 146 / 158 with
#: 0.05, 144 / 160 with 0.08; both ends by 0.03 read 149 / 160 but brought frame edges in at the
#: right end (openalpr-eu turned by 20 degrees: 0.648 -> 0.602 exact; 0.05 at the left: 0.648).
OUTLINE_LEFT_MARGIN = 0.05
#: A net box that replaced a classical outline (``Detection.outline``) and is read below the top
#: rank is also read from that outline, whose reading wins if it ranks higher and is at least this
#: confident: the net's box may cut a character off (rendered photos, seeds 6000-6299, es: 237 ->
#: 245 read exactly); without this bar outlines around other text won (UC3M-LP photos: read
#: precision 0.948 -> 0.910; with it 0.9485 -> 0.9495, read recall 0.2294 -> 0.2344). So is an
#: outline reaching past the box's left or right side (``_reaches_past``), whose reading, as
#: confident and ranked as high, also wins when it holds the box's reading and more: a German plate
#: cut short still reads as a valid one (UHNAD51 as HNAD51; rendered photos, seeds 5000-5299 read
#: exactly de 242 -> 244, es 243 -> 244, seeds 6000-6299 de 242 -> 244, 7000-7299 unchanged).
OUTLINE_MIN_CONFIDENCE = 0.9
#: Readings of one crop whose confidences round to the same multiple of this are about as confident.
CONFIDENCE_STEP = 0.01
#: A plate crop read less confidently than this (or not at all) that looks light on dark (see
#: LIGHT_ON_DARK_BELOW) is also read with its grey levels inverted, for light characters on a dark
#: or coloured plate; that reading must reach INVERTED_MIN_CONFIDENCE (see read_crop). All three
#: chosen on rendered crops (docs/results.md).
INVERT_BELOW = 0.9
INVERTED_MIN_CONFIDENCE = 0.9
#: A crop looks light on dark when the median grey of its middle half lies below this fraction of
#: the way from its 5th to its 95th percentile: the plate, which covers most of it, is darker than
#: its characters. Rendered crops: 99 % of light-on-dark ones below 0.48, 99 % of the others above 0.47.
LIGHT_ON_DARK_BELOW = 0.5


@dataclass
class Char:
    """One recognised character: its reading, probability and box ``[x, y, w, h]`` in the input image."""

    char: str
    confidence: float
    box: list[int]


@dataclass
class Plate:
    """One recognised plate. ``quad`` is its corners (TL, TR, BR, BL) in the input image."""

    text: str
    country: str
    confidence: float
    quad: list[list[float]]
    chars: list[Char] = field(default_factory=list)
    formatted: str = ""
    detection_score: float = 1.0
    missing: int = 0  # plate positions with no readable character (shown as "?" in ``formatted``)

    def to_dict(self) -> dict:
        """The JSON record of ``alpr recognize --json`` (see design.md)."""
        return asdict(self)


class Recognizer:
    """Reads plates on photos (``read``) or on plate crops (``read_crop``).

    Args:
        country: "de", "es", "eu" (generic 0-9 A-Z) or "auto" (tries German and Spanish grammars
            and keeps the most probable valid reading, see ``AUTO_COUNTRIES``).
        model: a bundled model name ("de", "es", "eu", "de-hardened", …), a ``.keras`` path or a
            loaded ``CharModel``; by default the country's own model, and for Spanish plates also
            ``VOWEL_MODEL`` for the vowels of provincial plates ("CA 1234 AB"; see ``with_vowels``).
            A model given here reads alone.
        min_confidence: plates read below this confidence are discarded by ``read`` (photo mode).
        max_candidates: how many detector candidates are read per photo.
        small_plates: the detector's learned cue looks at photos 1.5x larger (see
            ``alpr.detect.detect``): more small plates in low-resolution street photos, slower.
        close_ups: ``read`` also reads a photo that its plate fills whole, as a crop (see ``read``).
    """

    def __init__(self, country: str = "auto", model=None, *, min_confidence: float = 0.5, max_candidates: int = 6,
                 small_plates: bool = False, close_ups: bool = True):
        if country not in COUNTRY_CHOICES:
            raise ValueError(f"unknown country {country!r}; expected one of {', '.join(COUNTRY_CHOICES)}")
        self.country = country
        # what a worker process needs to build the same Recognizer (read_many with workers)
        self._arguments = dict(country=country, model=model, min_confidence=min_confidence,
                               max_candidates=max_candidates, small_plates=small_plates, close_ups=close_ups)
        self.min_confidence = min_confidence
        self.max_candidates = max_candidates
        self.small_plates = bool(small_plates)
        self.close_ups = bool(close_ups)
        countries = AUTO_COUNTRIES if country == "auto" else (country,)
        shared = _as_model(model) if model is not None else None
        self.models: dict[str, CharModel] = {c: shared or _as_model(DEFAULT_MODELS[c]) for c in countries}
        # a model the user gives reads alone, so that attacks and evaluations of it see only it
        self._reads_vowels = shared is None and "es" in countries
        # reading uses each model's weights as of now (LiteRT when available; see CharModel.frozen_logits)
        self._logits = {id(m): m.frozen_logits() for m in self.models.values()}
        #: seconds spent per stage (detect, rectify, segment, cnn, decode) since creation; for benchmarks
        self.stage_seconds: Counter = Counter()
        self._stage_lock = threading.Lock()  # read_many detects in a background thread

    @contextmanager
    def _stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            with self._stage_lock:
                self.stage_seconds[name] += time.perf_counter() - start

    @cached_property
    def vowel_model(self) -> CharModel | None:
        """``VOWEL_MODEL``, loaded when a crop first needs it (not at start-up: most photos have
        no provincial plate); None when the user gave a model."""
        if not self._reads_vowels:
            return None
        model = _as_model(VOWEL_MODEL)
        self._logits[id(model)] = model.frozen_logits()
        return model

    # ------------------------------------------------------------------ public API

    def detect(self, image: np.ndarray) -> list[Detection]:
        """The detection stage of ``read``: the plate quads found on a BGR photo, best first."""
        image = _check_image(image)
        with self._stage("detect"):
            return detect.detect(image, max_plates=self.max_candidates, small_plates=self.small_plates)

    def read(self, image: np.ndarray, *, detections: list[Detection] | None = None) -> list[Plate]:
        """All plates found on a BGR photo, most confident first. ``detections`` (from
        ``detect`` on the same photo) skips the detection stage; candidates that cannot be read
        (too small, no valid text) are dropped. A plate the learned detector only drew a box
        around is read from the plate outline fitted inside that box (``plate_in_box``), and a
        plate outline is read lengthened at the left (``OUTLINE_LEFT_MARGIN``); a net box that
        replaced a classical outline is also read from that outline when its own reading is
        doubtful or the outline reaches past its side (``OUTLINE_MIN_CONFIDENCE``).
        ``Plate.quad`` is the quad read.

        With ``close_ups``, a photo that looks like a plate close-up (``close_up``) is also read
        whole, as ``read_crop`` reads it: that reading is the photo's one plate when it ranks at
        least as high as the best plate read from the candidates (the detector's outline of a
        plate that fills the frame often cuts a character off). Its ``quad`` is then the box
        around the candidate that made the photo a close-up and the characters read."""
        image = _check_image(image)
        candidates = self.detect(image) if detections is None else detections
        found = self._read_candidates(image, candidates)
        near = close_up(image.shape, candidates) if self.close_ups else None
        if near is not None:
            whole = self._read_whole(image, near.score)
            if whole is not None and whole.confidence >= self.min_confidence \
                    and (not found or _rank(whole) >= _rank(found[0])):
                return [replace(whole, quad=outline(near.quad, [c.box for c in whole.chars], image.shape))]
        return found

    def read_many(self, images: Iterable[np.ndarray], workers: int = 1) -> Iterator[list[Plate]]:
        """``read`` of each BGR photo of ``images``, in order, with the same results, but faster
        on a batch: the next photo's plates are detected in a background thread while this
        photo's are read. A photo that fails raises when its turn comes (``alpr recognize``
        reports such a photo and goes on).

        ``workers`` > 1 reads in that many worker processes instead (``alpr.workers``; about 1.5x
        the photos per second of one process on 2 cores), each building this Recognizer anew
        (a second or two once the models' LiteRT conversions are cached, about 5 s before; paid
        on every call: for a stream of batches use ``alpr.workers.ReaderPool``);
        the model must then have been given as a name or file path. Stage times are not kept.
        Worker processes are started with ``spawn``, which imports the calling script again: a
        script needs Python's usual ``if __name__ == "__main__":`` guard around its work.
        """
        if workers > 1:
            from alpr.workers import ReaderPool, read_photo

            with ReaderPool(workers, **self._arguments) as pool:
                for _, job in pool.map(read_photo, images):
                    yield job.result()
            return
        for image, detecting in prefetched(images, self.detect):
            yield self.read(image, detections=detecting.result())

    def read_crop(self, plate_image: np.ndarray) -> Plate | None:
        """Read an image that is already just the plate (detection skipped); ``None`` if no valid plate fits.

        A crop of a plate seen from the side (sloping text line) or rolled (leaning strokes) is
        also read levelled by :mod:`alpr.deskew`, and the most confident valid reading wins (a
        complete first reading whose confidence rounds to 1 cannot be beaten and is kept at once).
        A crop read under ``INVERT_BELOW`` confidence (or not at all) that looks light on dark
        (``light_on_dark``) is read again inverted, for plates with light characters on a dark or
        coloured plate (Spanish temporary and public-service plates); that reading wins if it is
        the more confident one and reaches ``INVERTED_MIN_CONFIDENCE`` (a dark-on-light plate
        read inverted gives a few unsure readings, which must not replace its own).
        """
        return self._read_whole(_check_image(plate_image), 1.0)

    # ------------------------------------------------------------------ internals

    def _read_whole(self, plate_image: np.ndarray, score: float) -> Plate | None:
        """``read_crop``'s reading of ``plate_image``, reported with detection score ``score``."""
        quad = frame_quad(plate_image.shape)
        plate = self._read_levelled(plate_image, quad, score)
        if (plate is None or plate.confidence < INVERT_BELOW) and light_on_dark(plate_image):
            inverted = self._read_levelled(_inverted_grey(plate_image), quad, score)
            if inverted is not None and inverted.confidence >= INVERTED_MIN_CONFIDENCE \
                    and (plate is None or _rank(inverted) > _rank(plate)):
                plate = inverted
        return plate

    def _read_candidates(self, image: np.ndarray, candidates: list[Detection]) -> list[Plate]:
        """The plates read from the detector's ``candidates`` on ``image``, as ``read`` describes."""
        found: list[Plate] = []
        for det in candidates:
            # a candidate overlapping a plate already read (from a better candidate) is not read
            box = quad_bbox(rounded(det.quad))
            if any(box_iou(box, quad_bbox(other.quad)) > 0.3 for other in found):
                continue
            plate = self._read_quad(image, det.quad, det.boxed, det.score)
            if det.outline is not None and (plate is None or _rank(plate) < _TOP_RANK
                                            or _reaches_past(det.outline, det.quad)):
                other = self._read_quad(image, det.outline, False, det.score)
                if _outline_wins(other, plate):
                    plate = other
            if plate is not None and plate.confidence >= self.min_confidence:
                found.append(plate)
        return sorted(found, key=lambda p: p.confidence * p.detection_score, reverse=True)

    def _read_quad(self, image: np.ndarray, quad: np.ndarray, boxed: bool, score: float) -> Plate | None:
        """The reading of one candidate ``quad`` on ``image``: the net's box (``boxed``) or a plate
        outline, as ``read`` describes."""
        with self._stage("rectify"):
            # the net's box would squeeze a tilted plate: read the plate fitted inside it
            # (rendered photos turned by 10 degrees, seed 77, es: 14 -> 22 of the 34 boxed
            # plates read; 21 from their true outlines)
            if boxed:
                quad = plate_in_box(image, quad)
            else:
                quad = lengthened(quad, OUTLINE_LEFT_MARGIN, 0.0)
            crop = detect.rectify(image, quad)
        plate = self._read_rectified(crop, quad, score)
        # A level outline quad is already rectified (levelling every candidate gained 0.7
        # points of UC3M-LP recall for an extra estimate per candidate), but a plate fitted
        # in the net's box may still lean, and so may a sloping outline (LEVEL_SLOPED_FROM)
        if boxed or slope_degrees(quad) >= LEVEL_SLOPED_FROM:
            plate = self._levelled_if_better(crop, quad, score, plate, known_plate=False)
        return plate

    def _read_levelled(self, crop: np.ndarray, quad: np.ndarray, score: float) -> Plate | None:
        """Read ``crop`` (whose corners are ``quad`` in the input image) and, if its text line
        slopes or its strokes lean, its levelled versions too; the most confident valid reading
        wins (of two about as confident, the one that leaves fewer plate positions unread)."""
        plate = self._read_rectified(crop, quad, score, known_plate=True)
        return self._levelled_if_better(crop, quad, score, plate, known_plate=True)

    def _levelled_if_better(self, crop: np.ndarray, quad: np.ndarray, score: float, plate: Plate | None, *,
                            known_plate: bool) -> Plate | None:
        """``plate`` (``crop``'s reading) or, if ``crop``'s text line slopes or its strokes lean
        and a levelled version of it reads better, that reading. ``known_plate``: see
        ``_read_rectified``."""
        if plate is not None and _rank(plate) == _TOP_RANK:
            return plate  # no levelled reading could rank higher: spare the estimate and the rereads
        with self._stage("deskew"):
            slope, lean = (_significant(shear) for shear in deskew.estimate_shears(crop))
        to_image = plate_to_image(crop.shape, quad)
        for shears in dict.fromkeys([(slope, 0.0), (slope, lean)]):
            if shears == (0.0, 0.0):
                continue
            with self._stage("deskew"):
                image, crop_quad = deskew.level(crop, *shears)
            other = self._read_rectified(
                image, cv2.perspectiveTransform(crop_quad[None], to_image)[0], score, known_plate=known_plate
            )
            if other is not None and (plate is None or _rank(other) > _rank(plate)):
                plate = other
        return plate

    def _read_rectified(
        self, crop: np.ndarray, quad: np.ndarray, score: float, *, known_plate: bool = False
    ) -> Plate | None:
        """Read one rectified plate image; ``known_plate``: the user gave it as a plate (see ``segment``)."""
        with self._stage("segment"):
            seg = segment.segment(crop, known_plate=known_plate)
        if len(seg.boxes) == 0:
            return None
        best = self._decode_segmentation(crop, seg)
        # a wide glyph the segmenter cut in two stems (an M read II): the reading of the boxes
        # with such stems joined wins if the decoder scores it higher
        joined = segment.join_stems(seg)
        if joined is not None:
            other = self._decode_segmentation(crop, joined)
            if other is not None and (best is None or other.log_score > best.log_score):
                best, seg = other, joined
        if best is None:
            return None
        to_image = plate_to_image(crop.shape, quad)
        boxes = [map_box(seg.boxes[i], to_image) for i in best.kept]
        return Plate(
            text=best.text,
            country=best.country,
            confidence=round(best.confidence, 4),
            quad=rounded(quad),
            chars=[Char(c, round(p, 4), b) for c, p, b in zip(best.text, best.char_confidences, boxes)],
            formatted=plates.PlateText(best.country, best.groups).formatted,
            detection_score=round(float(score), 4),
            missing=best.missing,
        )

    def _decode_segmentation(self, crop: np.ndarray, seg: segment.Segmentation) -> Decoded | None:
        """The best reading of ``crop``'s segmented boxes over the recogniser's countries."""
        chars = [crop[y : y + h, x : x + w] for x, y, w, h in seg.boxes]
        gaps = {int(g) for g in seg.wide_gaps}
        occluded = {int(i) for i in seg.occluded}
        stickers = {int(i) for i in seg.stickers}
        # only German red plates are written in red (the CNN sees grey crops)
        lettering = [box for i, box in enumerate(seg.boxes) if i not in occluded | stickers]
        red = "de" in self.models and red_ink(crop, lettering)
        best: Decoded | None = None
        probs_by_model: dict[int, np.ndarray] = {}
        inputs_by_shape: dict[tuple[int, ...], np.ndarray] = {}  # models of one input shape share it

        def probs_of(model: CharModel) -> np.ndarray:
            if id(model) not in probs_by_model:
                with self._stage("cnn"):
                    if model.input_shape not in inputs_by_shape:
                        inputs_by_shape[model.input_shape] = model.crops_to_input(chars)
                    probs_by_model[id(model)] = softmax(self._logits[id(model)](inputs_by_shape[model.input_shape]))
            return probs_by_model[id(model)]

        for country, model in self.models.items():
            probs = probs_of(model)
            with self._stage("decode"):
                decoded = decode(probs, model.alphabet, country, gaps=gaps, max_missing=MAX_MISSING, unknown=occluded,
                                 stickers=stickers, red_ink=red)
            if country == "es" and _may_have_vowels(decoded) and self.vowel_model is not None:
                probs, alphabet = with_vowels(probs, model.alphabet, probs_of(self.vowel_model),
                                              self.vowel_model.alphabet)
                with self._stage("decode"):
                    voweled = decode(probs, alphabet, country, gaps=gaps, max_missing=MAX_MISSING, unknown=occluded)
                # only a reading with a vowel replaces the es model's own: plates without one read as before
                if voweled is not None and any(c in VOWELS for c in voweled.text):
                    decoded = voweled
            if decoded is not None and (best is None or decoded.log_score > best.log_score):
                best = decoded
        return best


def _outline_wins(outline_plate: Plate | None, box_plate: Plate | None) -> bool:
    """Whether the reading of the classical outline a net box replaced beats the box's reading:
    it is at least ``OUTLINE_MIN_CONFIDENCE`` confident and ranks higher, or ranks as high and
    holds the box's reading and more (the box cut characters off)."""
    if outline_plate is None or outline_plate.confidence < OUTLINE_MIN_CONFIDENCE:
        return False
    if box_plate is None or _rank(outline_plate) > _rank(box_plate):
        return True
    return (_rank(outline_plate) == _rank(box_plate) and outline_plate.text != box_plate.text
            and box_plate.text in outline_plate.text)


def _reaches_past(outline: np.ndarray, box: np.ndarray, share: float = 0.05) -> bool:
    """Whether ``outline`` reaches past the left or right side of ``box`` by more than ``share``
    of the box's width: the net's box may have cut a character off there."""
    ox, _, ow, _ = quad_bbox(outline)
    bx, _, bw, _ = quad_bbox(box)
    return ox < bx - share * bw or ox + ow > bx + bw + share * bw


def with_vowels(
    probs: np.ndarray, alphabet: str, vowel_probs: np.ndarray, vowel_alphabet: str
) -> tuple[np.ndarray, str]:
    """Per-box probabilities over ``alphabet`` + ``VOWELS``: each vowel gets its probability under
    the second model (``vowel_probs`` over ``vowel_alphabet``, which must hold the vowels) times
    ``VOWEL_PRIOR``, ``probs`` share the rest, and each row is renormalised. The first model still
    decides between its own characters (a digit against a consonant); the second one only says
    how likely a box is to be a vowel instead."""
    added = [c for c in VOWELS if c not in alphabet]
    if not added:
        return probs, alphabet
    vowel = vowel_probs[:, [vowel_alphabet.index(c) for c in added]]
    rest = probs * (1.0 - vowel.sum(axis=1, keepdims=True))
    merged = np.hstack([rest, VOWEL_PRIOR * vowel])
    return merged / merged.sum(axis=1, keepdims=True), alphabet + "".join(added)


def _may_have_vowels(decoded: Decoded | None) -> bool:
    """Whether the es model's reading of a crop leaves room for a provincial plate with vowels,
    which only ``with_vowels`` can read: it is a provincial reading (province, digits, letters)
    or leaves plate positions unread. A complete reading of today's format is left alone, and so
    is a crop the es model cannot read at all (no plate)."""
    return decoded is not None and (len(decoded.groups) == 3 or decoded.missing > 0)


def light_on_dark(image: np.ndarray) -> bool:
    """Whether a plate crop looks like light characters on a darker plate (see LIGHT_ON_DARK_BELOW)."""
    grey = to_grey(as_uint8(image))
    h = grey.shape[0]
    low, median, high = np.percentile(grey[h // 4 : h - h // 4], (5, 50, 95))
    return bool(median - low < LIGHT_ON_DARK_BELOW * max(high - low, 1.0))


def _inverted_grey(image: np.ndarray) -> np.ndarray:
    """``image``'s grey levels inverted, as a BGR image without colour: its inverted colours would
    be no camera's (a red plate turns cyan), and the segmenter drops boxes far more colourful
    than the plate's white."""
    return cv2.cvtColor(cv2.bitwise_not(to_grey(as_uint8(image))), cv2.COLOR_GRAY2BGR)


def _as_model(model) -> CharModel:
    return model if isinstance(model, CharModel) else load_model(model)


def _check_image(image) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("expected a non-empty BGR image array")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def _rank(plate: Plate) -> tuple[float, int]:
    """How a reading of one plate ranks against another of it: confidence to CONFIDENCE_STEP,
    then fewer unread positions (finer confidence differences are noise of the CNN, while a
    character the other reading left unread is evidence)."""
    return round(plate.confidence / CONFIDENCE_STEP), -plate.missing


#: The highest ``_rank``: a complete reading whose confidence rounds to 1.
_TOP_RANK = (round(1 / CONFIDENCE_STEP), 0)


def _significant(shear: float) -> float:
    """``shear`` (a tangent), or 0 when it is under MIN_SKEW_DEGREES."""
    return shear if abs(np.degrees(np.arctan(shear))) >= MIN_SKEW_DEGREES else 0.0
