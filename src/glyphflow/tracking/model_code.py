"""MLflow "models from code" entry: executed by MLflow when it loads a glyphflow model.

Not imported by glyphflow itself; ``save_pyfunc`` points MLflow at this file so no
pickled object is stored in the model.
"""

from mlflow.models import set_model

from glyphflow.tracking.pyfunc import GlyphflowPyfunc

set_model(GlyphflowPyfunc())
