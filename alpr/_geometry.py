"""Small geometry helpers: quads, boxes, IoU, grouping linked pairs."""

import numpy as np


def quad_bbox(quad: np.ndarray) -> tuple[float, float, float, float]:
    """Axis-aligned (x, y, w, h) around a 4×2 quad."""
    q = np.asarray(quad, dtype=float)
    x0, y0 = q.min(axis=0)
    x1, y1 = q.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def box_iou(a, b) -> float:
    """IoU of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0


def box_cover(a, b) -> float:
    """Intersection of two (x, y, w, h) boxes over the smaller one's area (0 for an empty box)."""
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return float(iw * ih / smaller) if smaller > 0 else 0.0


def quad_from_line(x0: float, x1: float, top, bottom) -> np.ndarray:
    """Quad TL, TR, BR, BL between abscissas ``x0`` < ``x1`` bounded by the lines ``top`` and
    ``bottom`` (each a (slope, intercept) pair giving y = slope * x + intercept)."""
    (st, it), (sb, ib) = top, bottom
    return np.array(
        [[x0, st * x0 + it], [x1, st * x1 + it], [x1, sb * x1 + ib], [x0, sb * x0 + ib]], dtype=np.float32
    )


def fit_turned_plate(box_quad: np.ndarray, slope: float, aspect: float, margin: float = 0.0) -> np.ndarray:
    """The outline (TL, TR, BR, BL) of a plate of ``aspect`` (width / height) inside the
    rectangle ``box_quad`` (TL, TR, BR, BL; it may be turned), its text line sloping by ``slope``
    (dy/dx, measured in the box's own frame) against the box's top side: centred in the box and,
    turned by that slope, exactly as wide as the box, then grown by ``margin`` (a fraction of its
    size) about its centre. The box's height is not used: a box around a tilted plate is taller
    than the plate by the tilt."""
    box = np.asarray(box_quad, dtype=float).reshape(4, 2)
    along, down = box[1] - box[0], box[3] - box[0]
    box_width = float(np.hypot(*along))
    along, down = along / max(box_width, 1e-9), down / max(float(np.hypot(*down)), 1e-9)
    angle = np.arctan(slope)
    # a plate L long and L / aspect high turned by angle spans L cos + (L / aspect) |sin| across
    length = (1.0 + margin) * box_width / (np.cos(angle) + abs(np.sin(angle)) / aspect)
    half_u = 0.5 * length * (np.cos(angle) * along + np.sin(angle) * down)
    half_v = 0.5 * length / aspect * (-np.sin(angle) * along + np.cos(angle) * down)
    centre = box.mean(axis=0)
    corners = [centre - half_u - half_v, centre + half_u - half_v, centre + half_u + half_v, centre - half_u + half_v]
    return np.array(corners, dtype=np.float32)


def lengthened(quad: np.ndarray, left: float, right: float) -> np.ndarray:
    """A quad (TL, TR, BR, BL) lengthened at its left and right ends by those shares of its top
    and bottom sides, along them (a perspective outline keeps its shape)."""
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2).copy()
    top, bottom = q[1] - q[0], q[2] - q[3]
    q[0] -= left * top
    q[3] -= left * bottom
    q[1] += right * top
    q[2] += right * bottom
    return q


def order_corners(points: np.ndarray) -> np.ndarray:
    """The 4 points ordered TL, TR, BR, BL (by angle around their centre)."""
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angle = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angle)]  # from -pi: TL first for a roughly level quad
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def group_pairs(n: int, i: np.ndarray, j: np.ndarray) -> list[np.ndarray]:
    """Connected groups of ``n`` nodes linked by the pairs (i, j): index arrays of size ≥ 2, each
    sorted, ordered by their smallest index."""
    if len(i) == 0:
        return []
    # every node's label falls to the smallest index of its group: linked nodes take the smaller
    # of their labels, then labels jump to their label's label, until nothing changes
    labels = np.arange(n)
    while True:
        new = labels.copy()
        smaller = np.minimum(labels[i], labels[j])
        np.minimum.at(new, i, smaller)
        np.minimum.at(new, j, smaller)
        new = new[new]
        if np.array_equal(new, labels):
            break
        labels = new
    order = np.argsort(labels, kind="stable")  # members of a group together, in index order
    groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
    return [g for g in groups if len(g) >= 2]
