"""Models: the shared interface, architecture overrides from YAML, bundles that round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from glyphflow.core.config import load_config  # noqa: E402
from glyphflow.core.errors import ConfigError, UsageError  # noqa: E402
from glyphflow.models import Classifier, StyleModel, build, load, save  # noqa: E402
from glyphflow.models.config import FontStyleConfig  # noqa: E402
from glyphflow.training.config import TrainingConfig  # noqa: E402

torch.set_num_threads(1)

CHARSET = "ABCDEFGH"
SHAPE = (16, 16)
SMALL = {"channels": [8, 16], "hidden_dim": 32, "latent_dim": 6, "char_embedding_dim": 8}


def _style(cls: str, **changes: object) -> StyleModel:
    model = build({"class": cls, **SMALL, **changes}, CHARSET, SHAPE, {"glyph_size": 16})
    assert isinstance(model, StyleModel)
    return model.eval()  # type: ignore[return-value]


def _glyphs(batch: int, count: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, count, *SHAPE, generator=generator)
    labels = torch.randint(0, len(CHARSET), (batch, count), generator=generator)
    return images, labels


@pytest.mark.parametrize("cls", ["font_style", "char_style_aae"])
@pytest.mark.parametrize("prior", ["adversarial", "kl"])
def test_style_models_share_the_interface(cls: str, prior: str) -> None:
    model = _style(cls, prior=prior)
    images, labels = _glyphs(3, 4)
    mask = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    z = model.encode(images, labels, mask)
    assert z.shape == (3, 6) and model.latent_dim == 6
    everything = model.decode(z)
    assert everything.shape == (3, len(CHARSET), *SHAPE)
    assert float(everything.detach().min()) >= 0.0 and float(everything.detach().max()) <= 1.0
    assert model.decode(z, labels[:, :2]).shape == (3, 2, *SHAPE)
    prior_z = model.sample_prior(5, torch.Generator().manual_seed(1))
    assert prior_z.shape == (5, 6)
    assert torch.equal(prior_z, model.sample_prior(5, torch.Generator().manual_seed(1)))
    assert (model.build_discriminator() is None) == (prior == "kl")
    assert model.render == {"glyph_size": 16} and model.charset == CHARSET


@pytest.mark.parametrize("cls", ["font_style", "char_style_aae"])
def test_encoding_ignores_padding_and_order(cls: str) -> None:
    model = _style(cls)
    images, labels = _glyphs(2, 4)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.bool)
    z = model.encode(images, labels, mask)
    noisy = images.clone()
    noisy[0, 3] = 1.0  # padding content must not matter
    noisy[1, 2:] = 0.5
    assert torch.allclose(model.encode(noisy, labels, mask), z, atol=1e-6)
    order = torch.tensor([2, 0, 1, 3])
    shuffled = model.encode(images[:, order], labels[:, order], mask[:, order])
    assert torch.allclose(shuffled, z, atol=1e-5)
    with pytest.raises(ValueError, match="at least one observed glyph"):
        model.encode(images, labels, torch.zeros(2, 4, dtype=torch.bool))


def test_classifier_interface() -> None:
    model = build({"class": "classifier", "channels": [8, 16], "feature_dim": 24}, CHARSET, SHAPE)
    assert isinstance(model, Classifier)
    images = torch.rand(5, 1, *SHAPE)
    assert model(images).shape == (5, len(CHARSET))
    assert model.features(images).shape == (5, 24)
    labels, confidence = model.eval().predict(images)
    assert labels.shape == (5,) and bool(((confidence > 0) & (confidence <= 1)).all())


@pytest.mark.parametrize(
    "config",
    [
        {"class": "classifier", "channels": [8, 16], "feature_dim": 12},
        {"class": "char_style_aae", **SMALL},
        {"class": "font_style", **SMALL, "pooling": "mean", "prior": "kl"},
    ],
)
def test_save_then_load_gives_identical_outputs(
    config: dict[str, object], tmp_path: Path, memory_url: str
) -> None:
    model = build(config, CHARSET, SHAPE, {"glyph_size": 16, "normalisation": "em"})
    with torch.no_grad():  # move the weights off their initial values
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.01)
    model.eval()
    images, labels = _glyphs(2, 3)
    for url in (str(tmp_path / "bundle.pt"), f"{memory_url}/m/model.pt"):
        save(model, url, {"note": "round trip"})
        loaded = load(url)
        assert loaded.render == {"glyph_size": 16, "normalisation": "em"}
        assert loaded.charset == CHARSET and loaded.bundle_extra == {"note": "round trip"}
        if isinstance(loaded, StyleModel):
            z = model.encode(images, labels)  # type: ignore[operator]
            assert torch.equal(loaded.encode(images, labels), z)
            assert torch.equal(loaded.decode(z), model.decode(z))  # type: ignore[operator]
        else:
            flat = images[:, :1]
            assert torch.equal(loaded(flat), model(flat))
    # an output folder works as the URL too
    save(model, str(tmp_path / "out" / "model.pt"))
    assert load(str(tmp_path / "out")).charset == CHARSET


def test_loading_something_else_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a bundle")
    with pytest.raises(UsageError, match="not a readable glyphflow model bundle"):
        load(str(junk))
    with pytest.raises(UsageError, match="no model bundle"):
        load(str(tmp_path / "missing.pt"))


ARCH_YAML = """\
version: 1
training:
  glyphs: /data/glyphs
  output: /data/model
  model:
    class: font_style
    channels: [8, 16]
    hidden_dim: 32
    latent_dim: 6
    encoder:
      - {class: Conv2d, kwargs: {in_channels: 1, out_channels: 12, kernel_size: 3, padding: 1}}
      - {class: ResBlock, kwargs: {in_channels: auto, out_channels: 20, stride: 2}}
      - {class: AdaptiveAvgPool2d, kwargs: {output_size: 2}}
    decoder_seed: [24, 4, 4]
    decoder:
      - {class: ConvTranspose2d, kwargs: {in_channels: auto, out_channels: 10, kernel_size: 4, stride: 2, padding: 1}}
      - {class: GroupNorm, kwargs: {num_groups: 2, num_channels: auto}}
      - {class: GELU}
      - {class: UpBlock, kwargs: {in_channels: auto, out_channels: 6}}
      - {class: Conv2d, kwargs: {in_channels: auto, out_channels: 1, kernel_size: 1}}
    discriminator:
      - {class: Linear, kwargs: {in_features: auto, out_features: 7}}
      - {class: Tanh}
"""


def test_architecture_override_in_yaml_changes_the_model() -> None:
    config = load_config("training", TrainingConfig, "arch.yaml", text=ARCH_YAML)
    model = build(config.model, CHARSET, SHAPE)
    default = build(FontStyleConfig(channels=[8, 16], hidden_dim=32, latent_dim=6), CHARSET, SHAPE)
    names = [type(m).__name__ for m in model.glyph_encoder]  # type: ignore[union-attr]
    assert names == ["Conv2d", "ResBlock", "AdaptiveAvgPool2d"]
    assert [type(m).__name__ for m in default.glyph_encoder] == ["ConvBlock", "ConvBlock"]  # type: ignore[union-attr]
    assert model.glyph_encoder[1].body[0][0].out_channels == 20  # type: ignore[index]
    assert isinstance(model.decoder[0], torch.nn.ConvTranspose2d)  # type: ignore[index]
    assert model.decoder[1].num_channels == 10  # type: ignore[index]
    critic = model.build_discriminator()  # type: ignore[operator]
    assert critic is not None and critic[0][0].out_features == 7
    z = model.encode(*_glyphs(2, 3))  # type: ignore[operator]
    assert model.decode(z).shape == (2, len(CHARSET), *SHAPE)  # type: ignore[operator]
    assert sum(p.numel() for p in model.parameters()) != sum(
        p.numel() for p in default.parameters()
    )


def test_unknown_layer_is_refused_with_its_location() -> None:
    text = ARCH_YAML.replace("{class: GELU}", "{class: GELUish}").replace(
        "class: ResBlock", "class: os.system"
    )
    with pytest.raises(ConfigError) as info:
        load_config("training", TrainingConfig, "arch.yaml", text=text)
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 2
    assert problems[0].startswith(
        "arch.yaml:12:9: training.model.encoder.1: unknown layer 'os.system'"
    )
    assert problems[1].startswith(
        "arch.yaml:18:9: training.model.decoder.2: unknown layer 'GELUish'"
    )
    assert "did you mean 'GELU'?" in problems[1]


def test_layers_that_do_not_fit_are_reported_by_position() -> None:
    config = {
        "class": "font_style",
        **SMALL,
        "decoder": [
            {"class": "Conv2d", "kwargs": {"in_channels": 5, "out_channels": 1, "kernel_size": 1}}
        ],
    }
    with pytest.raises(UsageError, match=r"model\.decoder\.0 \(Conv2d\): does not fit its input"):
        build(config, CHARSET, SHAPE)
    wrong_size = {
        **config,
        "decoder": [
            {
                "class": "Conv2d",
                "kwargs": {"in_channels": "auto", "out_channels": 1, "kernel_size": 1},
            }
        ],
    }
    with pytest.raises(UsageError, match="must turn the seed"):
        build(wrong_size, CHARSET, SHAPE)
    bad_kwarg = {
        **config,
        "encoder": [{"class": "Conv2d", "kwargs": {"in_channels": 1, "out_channel": 4}}],
    }
    with pytest.raises(UsageError, match=r"model\.encoder\.0 \(Conv2d\).*bad kwargs"):
        build(bad_kwarg, CHARSET, SHAPE)
    with pytest.raises(UsageError, match="does not divide the image size"):
        build({"class": "font_style", **SMALL, "channels": [4, 4, 4, 4, 4]}, CHARSET, (24, 24))
