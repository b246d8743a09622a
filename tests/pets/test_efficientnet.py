"""EfficientNet-Lite: strict weight loading, TF SAME padding, a known photo is recognised."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from petnet.conv import same_padding
from petnet.pets.efficientnet import (
    EfficientNetLite, SameConv2d, block_specs, load_pretrained, weights_path)
from petnet.pets.imagenet import CAT_CLASSES, imagenet_labels
from petnet.pets.preprocess import preprocess

skdata = pytest.importorskip("skimage.data")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skdata, name)()).convert("RGB")


@pytest.fixture(scope="module")
def lite0():
    torch.set_num_threads(1)
    return load_pretrained("lite0")


def test_block_counts_and_widths():
    assert len(block_specs("lite0")) == 16
    assert len(block_specs("lite1")) == 1 + 3 + 3 + 4 + 4 + 5 + 1       # ceil(1.1 r), ends fixed
    lite2 = block_specs("lite2")
    assert len(lite2) == 1 + 3 + 3 + 4 + 4 + 5 + 1                       # ceil(1.2 r), ends fixed
    assert [b.cout for b in lite2][-1] == 352 and lite2[0].cin == 32      # 320 * 1.1, stem fixed


@pytest.mark.parametrize("arch", ["lite0", "lite1", "lite2"])
def test_state_dict_loads_strictly(arch):
    state = torch.load(weights_path(arch), map_location="cpu", weights_only=True)
    model = EfficientNetLite(arch)
    assert set(model.state_dict()) == set(state)                     # no missing / unexpected keys
    for k, v in model.state_dict().items():
        assert v.shape == state[k].shape, k
    broken = dict(state)
    broken.pop("_fc.bias")
    with pytest.raises(RuntimeError):
        model.load_state_dict(broken, strict=True)


@pytest.mark.parametrize("n,k,s", [(224, 3, 2), (15, 5, 2), (65, 3, 2), (7, 5, 1), (8, 3, 1)])
def test_same_padding_matches_tensorflow_rule(n, k, s):
    before, after = same_padding(n, k, s)
    assert after - before in (0, 1)                                   # extra pixel bottom/right
    conv = SameConv2d(1, 1, k, s)
    assert conv(torch.zeros(1, 1, n, n)).shape[-1] == -(-n // s)       # out = ceil(n / s)
    # against an explicit zero-padded convolution
    x = torch.randn(1, 1, n, n)
    ref = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, (before, after, before, after)), conv.weight, stride=s)
    assert torch.allclose(conv(x), ref)


def test_chelsea_is_a_cat_and_coffee_is_coffee(lite0):
    x = np.stack([preprocess(photo("chelsea"), "lite0"), preprocess(photo("coffee"), "lite0")])
    with torch.inference_mode():
        logits = lite0(torch.from_numpy(x).permute(0, 3, 1, 2))
    top = logits.argmax(1).tolist()
    assert top[0] in CAT_CLASSES
    names = imagenet_labels()
    assert names[top[1]] in {"espresso", "cup", "coffee mug", "tea cup"}
    # features -> _fc is the same as the full forward
    with torch.inference_mode():
        feats = lite0.features(torch.from_numpy(x).permute(0, 3, 1, 2))
        again = lite0._fc(feats)
    assert feats.shape == (2, 1280)
    assert torch.allclose(again, logits, atol=1e-5)


@pytest.mark.parametrize("arch", ["lite1", "lite2"])
def test_bigger_variants_see_the_cat(arch):
    model = load_pretrained(arch)
    x = torch.from_numpy(preprocess(photo("chelsea"), arch)[None]).permute(0, 3, 1, 2)
    assert x.shape[-1] == model.image_size
    with torch.inference_mode():
        probs = model(x).softmax(1)[0]
    assert int(probs.argmax()) in CAT_CLASSES
    assert float(probs[list(CAT_CLASSES)].sum()) > 0.5


def test_imagenet_labels():
    names = imagenet_labels()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[281] == "tabby cat" and names[207].lower() == "golden retriever"
    assert names[0] == "tench" and "Siamese" in names[284]
