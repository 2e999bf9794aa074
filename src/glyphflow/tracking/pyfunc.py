"""The MLflow pyfunc flavour of a glyphflow model, so ``mlflow models serve`` works.

The logged model holds the glyphflow bundle (``artifacts/model.pt``), a copy of the
glyphflow package (``code/``, so it loads where glyphflow is not installed) and explicit
pip requirements (torch pinned without a local ``+cpu`` tag, glyphflow's own dependencies).

``predict`` takes a pandas DataFrame; what it does depends on the columns:

- style models, **generate**: ``style`` (a list of ``latent_dim`` floats) and optionally
  ``chars`` (a string; default the whole charset) -> one row per glyph: ``row`` (input
  row), ``char``, ``image`` (H lists of W floats in [0, 1]);
- style models, **encode**: ``chars`` (K characters) and ``glyphs`` (K images, each H x W
  nested lists or H*W flat values, in [0, 1] or 0..255) -> ``style`` per row;
- classifier: ``image`` (one glyph) -> ``predicted``, ``confidence``, ``probabilities``.

``params={"task": "generate" | "encode"}`` picks the task explicitly.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from mlflow.pyfunc import save_model
from mlflow.pyfunc.model import PythonModel

__all__ = ["GlyphflowPyfunc", "pip_requirements", "save_pyfunc"]

# Distributions a loaded model needs besides torch and mlflow (glyphflow's base install).
_RUNTIME = (
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "PyYAML",
    "fsspec",
    "typer",
    "rich",
    "fonttools",
    "freetype-py",
    "pillow",
)


def pip_requirements() -> list[str]:
    """Requirements of a logged model: installed versions, local tags (``+cpu``) dropped."""
    import torch

    out = [f"torch=={torch.__version__.split('+', 1)[0]}"]
    for name in _RUNTIME:
        try:
            out.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _image(value: Any, shape: tuple[int, int]) -> np.ndarray:
    array = np.asarray(value, dtype=np.float32)
    if array.size != shape[0] * shape[1]:
        raise ValueError(f"an image must have {shape[0]}x{shape[1]} values (got {array.size})")
    array = array.reshape(shape)
    if array.max(initial=0.0) > 1.0:
        array = array / 255.0
    return np.clip(array, 0.0, 1.0)


@contextlib.contextmanager
def _without_type_hint_advice() -> Iterator[None]:
    """Drop MLflow's advice to type-hint ``predict`` (save_model resets warning filters)."""
    shown = warnings.showwarning

    def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        if "type hint" not in str(message):
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown


# MLflow warns, when the class is defined, that predict has no type hints; they are left
# out on purpose (inputs are free-form frames, not one schema), so the advice is dropped.
with _without_type_hint_advice():

    class GlyphflowPyfunc(PythonModel):
        """Loads the bundle and answers generate / encode / classify requests."""

        def load_context(self, context: Any) -> None:
            from glyphflow.models import load

            self.model: Any = load(context.artifacts["bundle"])

        # No type hints on predict: MLflow would take them as an input schema.
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            import pandas as pd

            frame = (
                model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            )
            task = (params or {}).get("task")
            if not hasattr(self.model, "decode"):
                return self._classify(frame)
            if task == "encode" or (task is None and "glyphs" in frame.columns):
                return self._encode(frame)
            if task == "generate" or (task is None and "style" in frame.columns):
                return self._generate(frame)
            raise ValueError(
                "expected columns 'style' (+ optional 'chars') to generate, or 'chars' and "
                f"'glyphs' to encode (got {list(frame.columns)})"
            )

        def _generate(self, frame: Any) -> Any:
            import pandas as pd
            import torch

            model = self.model
            rows = []
            for index, record in enumerate(frame.to_dict("records")):
                z = torch.tensor(np.asarray(record["style"], dtype=np.float32)).reshape(1, -1)
                if z.shape[1] != model.latent_dim:
                    raise ValueError(
                        f"style must have {model.latent_dim} values (got {z.shape[1]})"
                    )
                chars = record.get("chars") or model.charset
                with torch.no_grad():
                    images = model.decode(z, model.labels_of(chars).unsqueeze(0))[0].numpy()
                for char, image in zip(chars, images, strict=True):
                    rows.append({"row": index, "char": char, "image": image.tolist()})
            return pd.DataFrame(rows, columns=["row", "char", "image"])

        def _encode(self, frame: Any) -> Any:
            import pandas as pd
            import torch

            model = self.model
            styles = []
            for record in frame.to_dict("records"):
                chars = str(record["chars"])
                glyphs = list(record["glyphs"])
                if len(chars) != len(glyphs) or not chars:
                    raise ValueError(
                        f"give one glyph per character (got {len(chars)} chars, {len(glyphs)} glyphs)"
                    )
                images = np.stack([_image(g, model.image_shape) for g in glyphs])[None]
                with torch.no_grad():
                    z = model.encode(torch.from_numpy(images), model.labels_of(chars).unsqueeze(0))
                styles.append(z[0].tolist())
            return pd.DataFrame({"style": styles})

        def _classify(self, frame: Any) -> Any:
            import pandas as pd
            import torch

            model = self.model
            images = np.stack([_image(v, model.image_shape) for v in frame["image"]])[:, None]
            with torch.no_grad():
                probabilities = torch.softmax(model(torch.from_numpy(images)), dim=1)
            confidence, labels = probabilities.max(dim=1)
            return pd.DataFrame(
                {
                    "predicted": [model.charset[i] for i in labels.tolist()],
                    "confidence": confidence.tolist(),
                    "probabilities": probabilities.tolist(),
                }
            )


def save_pyfunc(bundle_path: str, path: str) -> None:
    """Write the pyfunc model for the bundle file ``bundle_path`` into folder ``path``."""
    import glyphflow

    package = Path(glyphflow.__file__).parent
    with tempfile.TemporaryDirectory(prefix="glyphflow-code-") as tmp:
        code = Path(tmp) / "glyphflow"
        import shutil

        shutil.copytree(package, code, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        with _without_type_hint_advice():
            save_model(
                path=path,
                python_model=str(Path(__file__).with_name("model_code.py")),
                artifacts={"bundle": bundle_path},
                code_paths=[str(code)],
                pip_requirements=pip_requirements(),
            )
