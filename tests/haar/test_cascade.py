"""The cascade detector against OpenCV's CascadeClassifier (the independent reference).

Both get the same grey image. "raw" is every window the cascade accepts (minNeighbors=0); the
grouped boxes are detectMultiScale's defaults (scaleFactor 1.1, minNeighbors 3). Both must be
identical, not just close.
"""

import hashlib

import numpy as np
import pytest
from PIL import Image

from petnet.haar import (BUILTIN, CascadeError, detect_candidates, detect_multiscale, group_rectangles,
                         load_cascade, to_gray)
from petnet.haar.cascade import parse_cascade
from petnet.haar.integral import integral_image, squared_integral
from tests.conftest import shared_path

# a cat face, a second cat face, and a dog photo whose raw windows stick out of the photo (clipped)
PHOTOS = ["Abyssinian/Abyssinian_101.jpg", "Persian/Persian_106.jpg", "boxer/boxer_98.jpg"]


def boxes(a):
    return sorted(map(tuple, np.asarray(a).reshape(-1, 4).tolist()))


def gray_photo(rel):
    path = shared_path("data", "pets", "train", *rel.split("/"))
    return to_gray(np.asarray(Image.open(path).convert("RGB")))


def test_grey_conversion_is_opencvs(cv2_cascade):
    rgb = np.random.default_rng(10).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_gray(rgb), cv2_cascade.cvtColor(rgb, cv2_cascade.COLOR_RGB2GRAY))


@pytest.mark.parametrize("rel", PHOTOS)
def test_cat_faces_same_boxes_as_opencv(cv2_cascade, rel):
    gray = gray_photo(rel)
    cc = cv2_cascade.CascadeClassifier(str(BUILTIN["catface"]))
    raw = detect_candidates(gray, "catface")
    assert boxes(raw) == boxes(cc.detectMultiScale(gray, 1.1, 0))
    got = group_rectangles(raw, 3, 0.2)                          # = detect_multiscale(gray, "catface")
    assert boxes(got) == boxes(cc.detectMultiScale(gray, 1.1, 3))
    if rel.startswith("Abyssinian") or rel.startswith("Persian"):
        assert len(got) == 1                                    # the cat's face, found


def test_astronaut_face_same_boxes_as_opencv(cv2_cascade):
    from skimage import data
    gray = to_gray(data.astronaut())
    cc = cv2_cascade.CascadeClassifier(str(BUILTIN["face"]))
    # windows of 48 px and up (the face is ~110 px); bench/haar_agreement.py runs it from 24 px
    raw = detect_candidates(gray, "face", min_size=48)
    assert boxes(raw) == boxes(cc.detectMultiScale(gray, 1.1, 0, minSize=(48, 48))) and len(raw) > 10
    got = group_rectangles(raw, 3, 0.2)
    assert boxes(got) == boxes(cc.detectMultiScale(gray, 1.1, 3, minSize=(48, 48)))
    (x, y, w, h), = got                                          # Eileen Collins' face
    assert 150 < x + w / 2 < 260 and 60 < y + h / 2 < 160


def test_options_same_boxes_as_opencv(cv2_cascade):
    gray = gray_photo(PHOTOS[1])
    cc = cv2_cascade.CascadeClassifier(str(BUILTIN["catface"]))
    settings = [(1.05, 2, (90, 90), (0, 0)), (1.3, 1, (0, 0), (150, 150)), (1.2, 0, (50, 60), (200, 190))]
    for sf, mn, lo, hi in settings:
        ref = cc.detectMultiScale(gray, scaleFactor=sf, minNeighbors=mn, minSize=lo, maxSize=hi)
        assert boxes(detect_multiscale(gray, "catface", sf, mn, lo, hi)) == boxes(ref), (sf, mn, lo, hi)


@pytest.mark.parametrize("name", ["haarcascade_frontalcatface_extended.xml",   # tilted features
                                  "haarcascade_eye_tree_eyeglasses.xml"])       # small trees + tilted
def test_other_opencv_cascades(cv2_cascade, name):
    from skimage import data
    xml = cv2_cascade.data.haarcascades + name
    gray = to_gray(data.astronaut())[40:240, 130:330]
    if name.startswith("haarcascade_frontalcat"):
        gray = gray_photo(PHOTOS[1])[::2, ::2].copy()
    cc = cv2_cascade.CascadeClassifier(xml)
    assert boxes(detect_candidates(gray, xml)) == boxes(cc.detectMultiScale(gray, 1.1, 0))
    assert load_cascade(xml).has_tilted


def test_shipped_cascades_are_opencvs(cv2_cascade):
    for path in BUILTIN.values():
        ref = cv2_cascade.data.haarcascades + path.name
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(open(ref, "rb").read()).digest()
    licence = (BUILTIN["face"].parent / "LICENSE").read_text()
    assert "Intel License Agreement" in licence and "Joseph Howse" in licence


def test_grid_and_positions_agree():
    cascade = load_cascade("face")
    rng = np.random.default_rng(11)
    layer = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    ii, sq = integral_image(layer), squared_integral(layer)
    grid = cascade.evaluate_grid(ii, sq, 2, 14, 9)
    ys, xs = np.mgrid[0:9, 0:14] * 2
    codes = cascade.evaluate(ii, sq, np.stack([xs.ravel(), ys.ravel()], 1))
    np.testing.assert_array_equal(grid.ravel(), codes)
    assert set(codes.tolist()) <= {1, -1} | set(range(-len(cascade.stages) + 1, 1))


def test_flat_small_and_bad_images():
    assert detect_multiscale(np.full((100, 120), 128, np.uint8)).shape == (0, 4)   # no contrast
    assert detect_multiscale(np.zeros((20, 200), np.uint8)).shape == (0, 4)        # window does not fit
    with pytest.raises(ValueError, match="scale_factor must be > 1, got 1.0"):
        detect_multiscale(np.zeros((50, 50), np.uint8), scale_factor=1.0)
    with pytest.raises(ValueError, match="min_neighbors must be"):
        detect_multiscale(np.zeros((50, 50), np.uint8), min_neighbors=-1)
    with pytest.raises(ValueError, match="min_size must be >= 0"):
        detect_multiscale(np.zeros((50, 50), np.uint8), min_size=(-1, 5))
    with pytest.raises(ValueError, match="image must be"):
        detect_multiscale(np.zeros((50, 50, 2), np.uint8))


HEADER = "<?xml version='1.0'?><opencv_storage>"


def test_unusable_cascade_files_are_refused(tmp_path):
    with pytest.raises(CascadeError, match="not an XML file"):
        parse_cascade("<opencv_storage><cascade>", "x.xml")
    with pytest.raises(CascadeError, match="old 'opencv-haar-classifier' format"):
        parse_cascade(HEADER + "<h type_id='opencv-haar-classifier'><size>20 20</size></h></opencv_storage>")
    with pytest.raises(CascadeError, match="featureType 'LBP'"):
        parse_cascade(HEADER + "<cascade><stageType>BOOST</stageType><featureType>LBP</featureType>"
                      "</cascade></opencv_storage>")
    with pytest.raises(CascadeError, match="no such file"):
        load_cascade(tmp_path / "missing.xml")
    good = BUILTIN["catface"].read_text()
    with pytest.raises(CascadeError, match="outside the"):
        parse_cascade(good.replace("0 0 2 4 -1.", "23 0 2 4 -1.", 1))
    with pytest.raises(CascadeError, match="leaf values"):
        parse_cascade(good.replace("7.5887596607208252e-01 -3.4230688214302063e-01", "0.7", 1))
