"""tlkit.resolution: resize policies, compute per input size, ViT position-embedding resizing and the FixRes test size
(fast unit tests)."""
import numpy as np
import pytest
import timm
import torch
from PIL import Image
from timm.layers import resample_abs_pos_embed

from tlkit.models import DigitNet
from tlkit.resolution import fixres_test_res, flops_per_image, load_square, resize_pos_embed, timed_predict, to_square

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors (tests/conftest.py)


@pytest.mark.parametrize("prefix, old, new", [(1, (4, 6), (6, 3)), (0, (7, 7), (10, 10)), (2, (5, 5), (3, 4))])
def test_resize_pos_embed_matches_timm(prefix, old, new):
    torch.manual_seed(0)
    pe = torch.randn(1, prefix + old[0] * old[1], 12)
    out = resize_pos_embed(pe, old, new, num_prefix_tokens=prefix)
    ref = resample_abs_pos_embed(pe, new_size=list(new), old_size=list(old), num_prefix_tokens=prefix)
    assert out.shape == ref.shape and torch.allclose(out, ref, atol=1e-5)
    assert torch.equal(out[:, :prefix], pe[:, :prefix])


def test_resize_pos_embed_square_ints_dtype_and_errors():
    pe = torch.randn(1, 26, 6, dtype=torch.float64)
    assert resize_pos_embed(pe, 5, 7).shape == (1, 50, 6) and resize_pos_embed(pe, 5, 7).dtype == torch.float64
    assert torch.allclose(resize_pos_embed(pe, 5, 5), pe, atol=1e-6)
    with pytest.raises(ValueError):
        resize_pos_embed(torch.randn(1, 21, 4), (4, 4), (6, 6))


def test_resized_embedding_lets_a_vit_take_another_size():
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=1).eval()
    vit.patch_embed.strict_img_size = False
    vit.pos_embed = torch.nn.Parameter(resize_pos_embed(vit.pos_embed.data, (14, 14), (10, 12)))
    with torch.no_grad():
        assert vit(torch.zeros(1, 3, 160, 192)).shape == (1, 1000)


def test_to_square_policies():
    img = Image.fromarray(np.full((40, 80, 3), 255, np.uint8))  # a white 80 x 40 photo
    for policy in ("crop", "squash", "pad"):
        assert to_square(img, 32, policy).size == (32, 32)
    padded = np.asarray(to_square(img, 32, "pad"))
    assert (padded[0] == 128).all() and (padded[16] == 255).all()  # grey bars above and below, the photo between
    assert (np.asarray(to_square(img, 32, "squash")) == 255).all() and (np.asarray(to_square(img, 32, "crop")) == 255).all()
    with pytest.raises(ValueError):
        to_square(img, 32, "stretch")


def test_load_square(tmp_path):
    path = tmp_path / "a.jpg"
    Image.fromarray(np.zeros((30, 50, 3), np.uint8)).save(path)
    (arr,) = load_square([path], 24, "pad")
    assert arr.shape == (24, 24, 3) and arr.dtype == np.uint8


def test_flops_grow_with_the_pixel_count_and_timing():
    model = timm.create_model("efficientnet_lite0", pretrained=False, num_classes=2).train()
    small, large = flops_per_image(model, 64), flops_per_image(model, 128)
    assert model.training and 3.5 < large / small < 4.5
    logits, ms = timed_predict(DigitNet(), torch.zeros(8, 3, 28, 28), batch_size=4)
    assert logits.shape == (8, 10) and ms > 0


def test_fixres_test_res_matches_the_average_magnification():
    assert abs(fixres_test_res(300, (0.25, 1.0), 1.0) - 400.0) < 1e-9     # E[s^-1/2] on [1/4, 1] = 4/3
    assert abs(fixres_test_res(224, (1.0, 1.0), 0.875) - 196.0) < 1e-9    # one area: no average, 0.875 * 224
    assert isinstance(fixres_test_res(224), float)
    for lo, hi, crop_pct, aspect in ((0.08, 1.0, 0.875, 1.0), (0.35, 1.0, 0.9, 4 / 3), (0.1, 0.3, 1.0, 1.5)):
        s = np.linspace(lo, hi, 200_001)
        mean = np.trapezoid(s ** -0.5, s) / (hi - lo)                   # the average magnification, numerically
        assert abs(fixres_test_res(200, (lo, hi), crop_pct, aspect) - crop_pct * 200 * mean / aspect ** 0.5) < 1e-3
    # a wider photo shows objects smaller in a random crop of a given area fraction: a smaller matched test size
    assert fixres_test_res(224, aspect=4 / 3) < fixres_test_res(224) and 305 < fixres_test_res(224) < 306
